// End-to-end helpers: the real `vigil` CLI as a child process (signals reach it like Ctrl-C or
// `docker stop` would), the docker CLI with its own config directory, the TLS test registry made
// pullable by the engine (certs.d), and readers for the enforcer's events in vigil's output.

import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { REPO } from "../helpers/docker.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";

export const VIGIL = join(REPO, "dist/cli/main.js");

export interface Spawned {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves once `predicate(stdout, stderr)` holds; rejects when the process ends first or after `ms`. */
  waitFor: (predicate: (out: string, err: string) => boolean, ms?: number) => Promise<void>;
  closed: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** Starts a program with a hard SIGKILL after `killAfterMs`; stdin is closed. */
export function spawnProgram(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; killAfterMs?: number } = {}): Spawned {
  const child = spawn(file, [...args], { stdio: ["ignore", "pipe", "pipe"], env: options.env ?? process.env, cwd: options.cwd ?? REPO });
  let out = "";
  let err = "";
  let ended = false;
  const listeners = new Set<() => void>();
  const notify = (): void => listeners.forEach((l) => l());
  child.stdout?.setEncoding("utf8").on("data", (c: string) => {
    out += c;
    notify();
  });
  child.stderr?.setEncoding("utf8").on("data", (c: string) => {
    err += c;
    notify();
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), options.killAfterMs ?? 180_000);
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("close", (code, signal) => {
      clearTimeout(killer);
      ended = true;
      notify();
      resolve({ code, signal });
    });
  });
  const waitFor = (predicate: (o: string, e: string) => boolean, ms = 60_000): Promise<void> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        if (predicate(out, err)) finish(resolve);
        else if (ended) finish(() => reject(new Error(`${file} ${args.join(" ")} ended first\nstdout:\n${out}\nstderr:\n${err}`)));
      };
      const timer = setTimeout(() => finish(() => reject(new Error(`timed out after ${ms} ms\nstdout:\n${out}\nstderr:\n${err}`))), ms);
      const finish = (f: () => void): void => {
        clearTimeout(timer);
        listeners.delete(check);
        f();
      };
      listeners.add(check);
      check();
    });
  return { child, stdout: () => out, stderr: () => err, waitFor, closed };
}

/** `node dist/cli/main.js ARGS`: the installed CLI, as a user runs it. */
export function spawnVigil(args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; killAfterMs?: number } = {}): Spawned {
  if (!existsSync(VIGIL)) throw new Error(`${VIGIL} is missing: npm run build`);
  return spawnProgram(process.execPath, [VIGIL, ...args], options);
}

export async function runProgram(file: string, args: readonly string[], options: { env?: NodeJS.ProcessEnv; cwd?: string; killAfterMs?: number } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const p = spawnProgram(file, args, { killAfterMs: 120_000, ...options });
  const { code } = await p.closed;
  return { code, stdout: p.stdout(), stderr: p.stderr() };
}

/** The run id vigil local run announces: "task F (run ID): …". */
export function runIdOf(stderr: string): string {
  return /\(run ([0-9a-f]+)\)/.exec(stderr)?.[1] ?? "";
}

/** Lines `NAME | TEXT` of one container in vigil local run's output (padding removed). */
export function containerLines(text: string, container: string): string[] {
  const re = new RegExp(`^${container.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} *\\| (.*)$`);
  return text.split("\n").flatMap((l) => {
    const m = re.exec(l);
    return m === null ? [] : [m[1] ?? ""];
  });
}

/** The enforcer's JSON events among a container's lines. */
export function eventsOf(text: string, container: string): Record<string, unknown>[] {
  return containerLines(text, container).flatMap((l) => {
    if (!l.startsWith("{")) return [];
    try {
      return [JSON.parse(l) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

export function httpGet(port: number, path = "/"): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: "127.0.0.1", port, path, timeout: 5_000 }, (res) => {
      let body = "";
      res.setEncoding("utf8").on("data", (c: string) => (body += c)).on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("timeout", () => req.destroy(new Error("timed out")));
    req.on("error", reject);
  });
}

/** Retries while nothing answers (the server is starting); `alive` false stops early. */
export async function httpGetWithRetry(port: number, alive: () => boolean = () => true, path = "/"): Promise<{ status: number; body: string }> {
  for (let i = 0; ; i++) {
    try {
      return await httpGet(port, path);
    } catch (error) {
      if (i >= 120 || !alive()) throw error;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/**
 * The TLS test registry (scripts/registry.sh), made pullable by the engine: its test CA in
 * /etc/docker/certs.d/HOST/ca.crt (dockerd reads it on every pull; no restart), and a private
 * DOCKER_CONFIG holding its credentials for the docker CLI and for vigil.
 */
export interface EngineRegistry {
  registry: TestRegistry;
  host: string;
  ca: string;
  /** A DOCKER_CONFIG directory whose config.json has the registry's credentials. */
  dockerConfig: string;
  /** VIGIL_REGISTRY_USERNAME/PASSWORD/HOST for vigil's own registry client. */
  vigilEnv: Record<string, string>;
  stop(): Promise<void>;
}

export async function startEngineRegistry(): Promise<EngineRegistry> {
  const registry = await startRegistry();
  const { host, caFile, username, password } = registry;
  if (caFile === undefined || username === undefined || password === undefined) throw new Error("the TLS registry gave no CA or credentials");
  const certsDir = join("/etc/docker/certs.d", host);
  mkdirSync(certsDir, { recursive: true });
  writeFileSync(join(certsDir, "ca.crt"), await import("node:fs/promises").then((fs) => fs.readFile(caFile)));
  const dockerConfig = mkdtempSync(join(tmpdir(), "vigil-docker-config-"));
  writeFileSync(join(dockerConfig, "config.json"), JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString("base64") } } }));
  return {
    registry,
    host,
    ca: caFile,
    dockerConfig,
    vigilEnv: { VIGIL_REGISTRY_USERNAME: username, VIGIL_REGISTRY_PASSWORD: password, VIGIL_REGISTRY_HOST: host },
    async stop() {
      rmSync(certsDir, { recursive: true, force: true });
      rmSync(dockerConfig, { recursive: true, force: true });
      await registry.stop();
    },
  };
}

/** This process's environment without any registry credentials of vigil's. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of ["VIGIL_REGISTRY_USERNAME", "VIGIL_REGISTRY_PASSWORD", "VIGIL_REGISTRY_HOST", "DOCKER_CONFIG"]) delete env[k];
  return { ...env, ...extra };
}
