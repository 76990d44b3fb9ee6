// A real Docker Engine for tests: started by scripts/docker-engine.sh (dockerd without a bridge
// network), test images built by scripts/test-images.sh, and docker commands that always have a
// timeout and leave no container behind.

import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

export type TestImage = "scratch" | "alpine-like" | "distroless-like" | "debian";
export const TEST_IMAGES: readonly TestImage[] = ["scratch", "alpine-like", "distroless-like", "debian"];

export interface CommandResult {
  /** Exit code, or null when the process was killed by a signal (e.g. after the timeout). */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  ms: number;
}

export interface RunningCommand {
  stdout(): string;
  stderr(): string;
  /** Resolves once `predicate(stdout, stderr)` holds; rejects after `timeoutMs` or when the process ends first. */
  waitFor(predicate: (stdout: string, stderr: string) => boolean, timeoutMs: number): Promise<void>;
  result: Promise<CommandResult>;
}

/** Starts a command with a hard timeout (SIGKILL); stdin is closed. */
export function startCommand(file: string, args: readonly string[], timeoutMs: number): RunningCommand {
  const started = Date.now();
  const child = spawn(file, [...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  let timedOut = false;
  let ended = false;
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((l) => l());
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
    stdout += chunk;
    notify();
  });
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
    notify();
  });
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, timeoutMs);
  const result = new Promise<CommandResult>((resolve, reject) => {
    child.on("error", (error) => {
      clearTimeout(timer);
      ended = true;
      notify();
      reject(error);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      ended = true;
      notify();
      resolve({ code, signal, stdout, stderr, timedOut, ms: Date.now() - started });
    });
  });
  const waitFor = (predicate: (out: string, err: string) => boolean, waitMs: number): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      const check = (): void => {
        if (predicate(stdout, stderr)) {
          done();
          resolve();
        } else if (ended) {
          done();
          reject(new Error(`${file} ended before the expected output\nstdout:\n${stdout}\nstderr:\n${stderr}`));
        }
      };
      const t = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${waitMs} ms waiting for output\nstdout:\n${stdout}\nstderr:\n${stderr}`));
      }, waitMs);
      const done = (): void => {
        clearTimeout(t);
        listeners.delete(check);
      };
      listeners.add(check);
      check();
    });
  return { stdout: () => stdout, stderr: () => stderr, waitFor, result };
}

export function runCommand(file: string, args: readonly string[], timeoutMs: number): Promise<CommandResult> {
  return startCommand(file, args, timeoutMs).result;
}

function describeResult(what: string, r: CommandResult): string {
  const how = r.timedOut ? "timed out" : r.signal !== null ? `died of ${r.signal}` : `exited ${String(r.code)}`;
  return `${what} ${how}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

/**
 * Makes sure the Docker Engine answers (installing docker.io and starting dockerd when needed)
 * and returns the docker client to use.
 */
export async function ensureDockerEngine(timeoutMs = 300_000): Promise<string> {
  const r = await runCommand(path.join(REPO, "scripts/docker-engine.sh"), [], timeoutMs);
  if (r.code !== 0) throw new Error(describeResult("scripts/docker-engine.sh", r));
  const client = r.stdout.trim().split("\n").at(-1);
  if (client === undefined || !client.startsWith("/")) throw new Error(describeResult("scripts/docker-engine.sh named no client:", r));
  return client;
}

/** Builds (or finds cached) test images; returns each image's content-addressed reference. */
export async function buildTestImages(timeoutMs = 1_200_000): Promise<Record<TestImage, string>> {
  const r = await runCommand(path.join(REPO, "scripts/test-images.sh"), [], timeoutMs);
  if (r.code !== 0) throw new Error(describeResult("scripts/test-images.sh", r));
  const refs = new Map<string, string>();
  for (const line of r.stdout.split("\n")) {
    const [name, ref] = line.trim().split(" ");
    if (name !== undefined && ref !== undefined) refs.set(name, ref);
  }
  const out: Partial<Record<TestImage, string>> = {};
  for (const name of TEST_IMAGES) {
    const ref = refs.get(name);
    if (ref === undefined) throw new Error(describeResult(`scripts/test-images.sh printed no image for ${name}:`, r));
    out[name] = ref;
  }
  return out as Record<TestImage, string>;
}

/** "r" and the first 8 characters of the test run's id (VIGIL_TEST_RUN), or "r-" outside a vitest run. */
export function testRunTag(): string {
  return `r${(process.env["VIGIL_TEST_RUN"] ?? "-").slice(0, 8)}`;
}

/** Docker commands with timeouts and the names of every container they may have created. */
export class Docker {
  private readonly names = new Set<string>();

  constructor(readonly client: string) {}

  /**
   * A container name unique to this run; remembered so that `removeAll` can clean up. It carries the test run's
   * tag (test/global-setup.ts), so the run's watchdog removes its own leftovers and no other run's containers.
   */
  uniqueName(prefix: string): string {
    const name = `vigil-test-${prefix}-${testRunTag()}-${process.pid}-${randomBytes(4).toString("hex")}`;
    this.names.add(name);
    return name;
  }

  run(args: readonly string[], timeoutMs = 60_000): Promise<CommandResult> {
    return runCommand(this.client, args, timeoutMs);
  }

  start(args: readonly string[], timeoutMs = 60_000): RunningCommand {
    return startCommand(this.client, args, timeoutMs);
  }

  /** Removes (force) every container named by `uniqueName` that still exists. */
  async removeAll(): Promise<void> {
    if (this.names.size === 0) return;
    const names = [...this.names];
    this.names.clear();
    const listed = await this.run(["ps", "-a", "--format", "{{.Names}}"], 30_000);
    const existing = new Set(listed.stdout.split("\n").map((s) => s.trim()));
    const left = names.filter((n) => existing.has(n));
    if (left.length > 0) await this.run(["rm", "-f", ...left], 60_000);
  }
}
