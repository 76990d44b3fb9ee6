// What a killed `vigil local run` left behind. A run that is SIGKILLed (or whose machine lost
// power) cannot clean up after itself, so every run labels its containers and volumes with who
// owns them: this machine (hostname + boot id), the PID namespace, the vigil process's pid and its
// start time (so a reused pid is not mistaken for the owner). At start, `vigil local run` removes
// the containers and volumes of runs whose owner is certainly gone: same machine and PID
// namespace, and either another boot or no process with that pid and start time. Runs of other
// machines or namespaces (a shared engine), and runs without these labels, are left alone.

import { readFileSync, readlinkSync } from "node:fs";
import { hostname } from "node:os";
import type { DockerClient } from "./docker-client.js";
import { LABEL_CONTAINER, LABEL_FAMILY, LABEL_RUN } from "./plan.js";

export const LABEL_OWNER_PID = "vigil.local.owner.pid";
export const LABEL_OWNER_START = "vigil.local.owner.start";
export const LABEL_OWNER_HOST = "vigil.local.owner.host";
export const LABEL_OWNER_BOOT = "vigil.local.owner.boot";
export const LABEL_OWNER_PIDNS = "vigil.local.owner.pidns";

export interface RunOwner {
  pid: number;
  /** The process's start time in clock ticks after boot (field 22 of /proc/PID/stat). */
  start: string;
  host: string;
  bootId: string;
  pidNamespace: string;
}

/** Start time of a process (field 22 of /proc/PID/stat), or null when there is no such process. */
export function processStart(pid: number): string | null {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return null;
  }
  // The command (field 2) is in parentheses and may hold spaces or parentheses: split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19] ?? null; // field 22 overall; fields[0] is field 3
}

function readOr(read: () => string, fallback: string): string {
  try {
    return read().trim();
  } catch {
    return fallback;
  }
}

export function currentOwner(): RunOwner {
  return {
    pid: process.pid,
    start: processStart(process.pid) ?? "",
    host: hostname(),
    bootId: readOr(() => readFileSync("/proc/sys/kernel/random/boot_id", "utf8"), ""),
    pidNamespace: readOr(() => readlinkSync("/proc/self/ns/pid"), ""),
  };
}

export function ownerLabels(owner: RunOwner): Record<string, string> {
  return {
    [LABEL_OWNER_PID]: String(owner.pid),
    [LABEL_OWNER_START]: owner.start,
    [LABEL_OWNER_HOST]: owner.host,
    [LABEL_OWNER_BOOT]: owner.bootId,
    [LABEL_OWNER_PIDNS]: owner.pidNamespace,
  };
}

export type OwnerState = { state: "alive" } | { state: "gone"; why: string } | { state: "unknown"; why: string };

/** Whether the vigil process that labelled something is still running, seen from `self`. */
export function ownerState(labels: Readonly<Record<string, string>>, self: RunOwner, isRunning: (pid: number) => string | null = processStart): OwnerState {
  const pid = Number(labels[LABEL_OWNER_PID] ?? "");
  const host = labels[LABEL_OWNER_HOST];
  const boot = labels[LABEL_OWNER_BOOT];
  const pidns = labels[LABEL_OWNER_PIDNS];
  const start = labels[LABEL_OWNER_START];
  if (!Number.isInteger(pid) || pid <= 0 || host === undefined || boot === undefined || pidns === undefined || start === undefined) {
    return { state: "unknown", why: "no owner labels (an older vigil)" };
  }
  if (host !== self.host) return { state: "unknown", why: `run from another machine (${host})` };
  if (self.bootId === "" || boot === "") return { state: "unknown", why: "no boot id to compare" };
  if (boot !== self.bootId) return { state: "gone", why: `vigil (pid ${pid}) ran before this machine last booted` };
  if (pidns !== self.pidNamespace) return { state: "unknown", why: "run from another PID namespace" };
  if (pid === self.pid && start === self.start) return { state: "alive" };
  const now = isRunning(pid);
  if (now === null) return { state: "gone", why: `vigil (pid ${pid}) is no longer running` };
  if (now !== start) return { state: "gone", why: `vigil (pid ${pid}) is no longer running (the pid now belongs to another process)` };
  return { state: "alive" };
}

export interface StaleRunReport {
  runId: string;
  family: string;
  why: string;
  removed: string[];
  failed: string[];
}

/**
 * Removes the containers (with their anonymous volumes) and volumes of every run whose owner is
 * gone. Never touches a run whose owner may be alive or cannot be judged.
 */
export async function removeStaleRuns(docker: DockerClient, self: RunOwner = currentOwner(), isRunning: (pid: number) => string | null = processStart): Promise<StaleRunReport[]> {
  const containers = await docker.containerList(LABEL_RUN);
  const volumes = await docker.volumeList(LABEL_RUN);
  const runs = new Map<string, { labels: Record<string, string>; containers: typeof containers; volumes: string[] }>();
  const runOf = (labels: Record<string, string>): { labels: Record<string, string>; containers: typeof containers; volumes: string[] } | null => {
    const id = labels[LABEL_RUN];
    if (id === undefined) return null;
    let r = runs.get(id);
    if (r === undefined) {
      r = { labels, containers: [], volumes: [] };
      runs.set(id, r);
    }
    return r;
  };
  for (const c of containers) runOf(c.Labels ?? {})?.containers.push(c);
  for (const v of volumes) runOf(v.Labels ?? {})?.volumes.push(v.Name);

  const reports: StaleRunReport[] = [];
  for (const [runId, run] of runs) {
    const owner = ownerState(run.labels, self, isRunning);
    if (owner.state !== "gone") continue;
    const report: StaleRunReport = { runId, family: run.labels[LABEL_FAMILY] ?? "?", why: owner.why, removed: [], failed: [] };
    const volumeNames = new Set(run.volumes);
    // Consumers before the pause container; every anonymous volume noted before its container goes.
    const ordered = [...run.containers].sort((a, b) => Number(a.Labels[LABEL_CONTAINER] === "~pause") - Number(b.Labels[LABEL_CONTAINER] === "~pause"));
    for (const c of ordered) {
      for (const m of c.Mounts ?? []) if (m.Type === "volume" && m.Name !== undefined) volumeNames.add(m.Name);
      const name = (c.Names[0] ?? c.Id).replace(/^\//, "");
      try {
        await docker.containerRemove(c.Id);
        report.removed.push(`container ${name}`);
      } catch (error) {
        report.failed.push(`container ${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    for (const name of volumeNames) {
      try {
        await docker.volumeRemove(name);
        report.removed.push(`volume ${name}`);
      } catch (error) {
        report.failed.push(`volume ${name}: ${error instanceof Error ? error.message : String(error)}`);
      }
    }
    reports.push(report);
  }
  return reports;
}

export function describeStaleRun(r: StaleRunReport): string {
  const lines = [`removed what run ${r.runId} (task ${r.family}) left behind: ${r.why}: ${r.removed.length === 0 ? "nothing left" : r.removed.join(", ")}`];
  if (r.failed.length > 0) lines.push(`could not remove (remove them by hand): ${r.failed.join("; ")}`);
  return lines.join("\n");
}
