// Finding processes a test started, by a token in their environment, so none is ever left behind.

import { readFileSync, readdirSync } from "node:fs";
import { randomBytes } from "node:crypto";

export const RUN_TOKEN_VAR = "VIGIL_TEST_RUN";

export function newRunToken(): string {
  return randomBytes(8).toString("hex");
}

/** PIDs of live processes whose environment holds RUN_TOKEN_VAR=token. */
export function processesWithToken(token: string): number[] {
  const needle = Buffer.from(`${RUN_TOKEN_VAR}=${token}\0`);
  const found: number[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let environ: Buffer;
    try {
      environ = readFileSync(`/proc/${entry}/environ`);
    } catch {
      continue; // gone, or a kernel thread
    }
    if (environ.includes(needle)) found.push(pid);
  }
  return found;
}

/** SIGKILLs every process holding the token; returns their PIDs. */
export function killProcessesWithToken(token: string): number[] {
  const pids = processesWithToken(token);
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // already gone
    }
  }
  return pids;
}

/** Children of `pid` (from /proc/PID/task/PID/children). */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8")
      .trim()
      .split(/\s+/)
      .filter((s) => s !== "")
      .map(Number);
  } catch {
    return [];
  }
}

export interface ProcStatus {
  vmRssKb: number;
  fdCount: number;
  threads: number;
}

export function procStatus(pid: number): ProcStatus {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const field = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+)`, "m").exec(status);
    if (m?.[1] === undefined) throw new Error(`no ${name} in /proc/${pid}/status`);
    return Number(m[1]);
  };
  return { vmRssKb: field("VmRSS"), fdCount: readdirSync(`/proc/${pid}/fd`).length, threads: field("Threads") };
}
