// Runs task definitions with `vigil local run`'s library on the real Docker Engine, and checks
// that nothing of a run is left behind.

import http from "node:http";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DockerClient } from "../../src/local/docker-client.js";
import { dockerEndpoint } from "../../src/local/docker-host.js";
import { LABEL_RUN, planTask, type PlanInput, type TaskNetwork } from "../../src/local/plan.js";
import { runTask, type OutputLine, type RunTaskOptions, type TaskResult } from "../../src/local/run-task.js";
import { currentOwner, ownerLabels } from "../../src/local/stale-runs.js";
import { parseTaskDefinition } from "../../src/local/task-definition.js";
import { afterEach } from "vitest";
import { REPO, ensureDockerEngine, runCommand } from "../helpers/docker.js";

export type LocalImage = "scratch" | "debian" | "nginx" | "sidecar";

export const docker = new DockerClient(dockerEndpoint(process.env["DOCKER_HOST"]));

/** Starts the engine, builds the test images (cached) and the local sidecar image. */
export async function setupEngine(): Promise<{ client: string; images: Record<LocalImage, string> }> {
  const client = await ensureDockerEngine();
  const r = await runCommand(join(REPO, "scripts/test-images.sh"), ["scratch", "debian", "nginx"], 1_200_000);
  if (r.code !== 0) throw new Error(`scripts/test-images.sh failed:\n${r.stderr}`);
  const refs = Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split(" ") as [string, string]));
  const sidecar = await buildLocalSidecar(client);
  return { client, images: { scratch: refs["scratch"] ?? "", debian: refs["debian"] ?? "", nginx: refs["nginx"] ?? "", sidecar } };
}

/**
 * The sidecar image, assembled here until `vigil sidecar build` can load one into the engine:
 * /vigil/enforcer (this build's enforcer), VOLUME /vigil, CMD ["/vigil/enforcer", "--noop"].
 */
export async function buildLocalSidecar(client: string): Promise<string> {
  const enforcer = join(REPO, "dist/enforcer/linux-amd64/vigil-enforcer");
  const sum = await runCommand("sha256sum", [enforcer], 10_000);
  if (sum.code !== 0) throw new Error(`${enforcer}: missing (npm run build)`);
  const ref = `vigil-test/sidecar-local:${sum.stdout.slice(0, 12)}`;
  if ((await docker.imageInspect(ref)) !== null) return ref;
  const dir = mkdtempSync(join(tmpdir(), "vigil-sidecar-"));
  try {
    const tar = join(dir, "sidecar.tar");
    const t = await runCommand("sh", ["-c", `mkdir -p "${dir}/root/vigil" && install -m 0755 "${enforcer}" "${dir}/root/vigil/enforcer" && tar --numeric-owner --owner=0 --group=0 -C "${dir}/root" -cf "${tar}" .`], 30_000);
    if (t.code !== 0) throw new Error(t.stderr);
    const i = await runCommand(client, ["import", "--change", "VOLUME /vigil", "--change", 'CMD ["/vigil/enforcer", "--noop"]', tar, ref], 60_000);
    if (i.code !== 0) throw new Error(i.stderr);
    return ref;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface LocalRun {
  result: Promise<TaskResult>;
  lines: OutputLine[];
  runId: string;
  stop: () => void;
  /** Resolves once a line of `container` (null: vigil) matches. */
  waitFor: (container: string | null, pattern: RegExp, timeoutMs?: number) => Promise<void>;
  started: Map<string, string>;
  text: (container?: string | null) => string;
}

let counter = 0;

/** Runs still going when a test ends (it failed before stopping them) are stopped, so no task outlives its test. */
const running = new Set<{ stop: () => void; result: Promise<unknown> }>();
afterEach(async () => {
  const left = [...running];
  for (const run of left) run.stop();
  await Promise.all(left.map((run) => Promise.race([run.result.catch(() => undefined), new Promise((r) => setTimeout(r, 60_000))])));
}, 120_000);

export function startLocal(
  taskDefinition: unknown,
  options: Partial<Omit<PlanInput, "taskDefinition" | "runId">> & { network?: TaskNetwork } & Pick<RunTaskOptions, "timeoutMs" | "pull"> = {},
): LocalRun {
  const parsed = parseTaskDefinition(taskDefinition);
  if (parsed.value === null) throw new Error(JSON.stringify(parsed.diagnostics.list));
  const runId = `t${process.pid}x${counter++}`;
  const { plan, diagnostics } = planTask({
    taskDefinition: parsed.value,
    runId,
    network: options.network ?? "none",
    envFiles: options.envFiles ?? new Map(),
    extraEnvFiles: options.extraEnvFiles ?? [],
    secrets: options.secrets ?? new Map(),
    volumeOverrides: options.volumeOverrides ?? new Map(),
    // So that a later `vigil local run` removes what a killed test process left behind.
    ownerLabels: ownerLabels(currentOwner()),
  });
  if (plan === null) throw new Error(`plan failed: ${JSON.stringify(diagnostics, null, 1)}`);
  const lines: OutputLine[] = [];
  const listeners = new Set<() => void>();
  const stop = new AbortController();
  const started = new Map<string, string>();
  const result = runTask({
    docker,
    plan,
    output: (l) => {
      lines.push(l);
      for (const f of listeners) f();
    },
    stop: stop.signal,
    onContainerStarted: (name, id) => started.set(name, id),
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    ...(options.pull === undefined ? {} : { pull: options.pull }),
  });
  let ended = false;
  void result.finally(() => {
    ended = true;
    for (const f of listeners) f();
  });
  const text = (container?: string | null): string =>
    lines.filter((l) => container === undefined || l.container === container).map((l) => `${l.container ?? "vigil"} | ${l.text}`).join("\n");
  const waitFor = (container: string | null, pattern: RegExp, timeoutMs = 30_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (lines.some((l) => l.container === container && pattern.test(l.text))) finish(resolve);
        else if (ended) finish(() => reject(new Error(`task ended before ${String(pattern)}:\n${text()}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out waiting for ${String(pattern)}:\n${text()}`))), timeoutMs);
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });
  const handle = { result, lines, runId, stop: () => stop.abort("test"), waitFor, started, text };
  running.add(handle);
  void result.finally(() => running.delete(handle)).catch(() => undefined);
  return handle;
}

export async function runLocal(taskDefinition: unknown, options: Parameters<typeof startLocal>[1] = {}): Promise<{ result: TaskResult; text: (c?: string | null) => string; run: LocalRun }> {
  const run = startLocal(taskDefinition, options);
  return { result: await run.result, text: run.text, run };
}

/** Containers and volumes of a run that still exist (by label), plus the given volumes if they exist. */
export async function leftovers(runId: string, volumes: readonly string[] = []): Promise<string[]> {
  const out: string[] = [];
  for (const c of await docker.containerList(`${LABEL_RUN}=${runId}`)) out.push(`container ${c.Names.join(",")}`);
  for (const v of await docker.volumeList(`${LABEL_RUN}=${runId}`)) out.push(`volume ${v.Name}`);
  for (const name of volumes) {
    const r = await docker.request("GET", `/volumes/${name}`).then(() => true, () => false);
    if (r) out.push(`volume ${name}`);
  }
  return out;
}

/** Names of the volumes mounted in a container (while it exists). */
export async function volumesOf(id: string): Promise<string[]> {
  const c = await docker.containerInspect(id);
  return (c.Mounts ?? []).filter((m) => m.Type === "volume" && m.Name !== undefined).map((m) => m.Name ?? "");
}

export function tempFile(name: string, content: string): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-local-"));
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

export function freePort(): number {
  return 20_000 + Math.floor(Math.random() * 20_000);
}

/** GET http://127.0.0.1:PORT/ once (5 s timeout). */
export function getLocal(port: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path: "/", timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });
}

/** GET until the task answers: up to 40 tries, 250 ms apart (a task's server needs a moment to start). */
export async function getLocalWithRetry(port: number): Promise<{ status: number; body: string }> {
  for (let i = 0; ; i++) {
    try {
      return await getLocal(port);
    } catch (error) {
      if (i >= 40) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
