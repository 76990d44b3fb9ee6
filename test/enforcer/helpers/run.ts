// Running the real enforcer: stdout, stderr, events (fd 3 or a file), exit status, with a timeout
// that kills the whole process group and a check that no process of the run outlives it.

import { spawn } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { parseEventLines } from "../../../src/events/schema.js";
import type { EventLineError, VigilEvent } from "../../../src/events/schema.js";
import { ENFORCER } from "./paths.js";
import { RUN_TOKEN_VAR, childrenOf, killProcessesWithToken, newRunToken } from "./processes.js";
import { makeTempDir } from "./tmp.js";

export type Mechanism = "auto" | "seccomp" | "landlock";

export interface EnforcerOptions {
  /** COMMAND [ARGS...] given to the enforcer after `--`. */
  command: readonly string[];
  mechanism?: Mechanism;
  /** Compiled policy text, written to a file and passed with --policy. */
  policy?: string;
  /** Extra enforcer options, placed before `--`. */
  options?: readonly string[];
  /** Where events go: fd 3 of the enforcer (default), a file (--events FILE), or nowhere chosen. */
  events?: "fd" | "default" | { file: string };
  /** Environment of the enforcer (merged over a minimal PATH/LANG environment, not the test's). */
  env?: Readonly<Record<string, string>>;
  cwd?: string;
  timeoutMs?: number;
  /** Run as PID 1 of a new PID namespace: `unshare --pid --fork --mount-proc ENFORCER ...`. */
  pidNamespace?: boolean;
  /** Pass argv to the enforcer exactly as given, without --mechanism/--events/--policy/--. */
  raw?: boolean;
  /** Another enforcer binary than ENFORCER (e.g. the sanitizer build). */
  enforcer?: string;
}

export interface RunResult {
  /** Exit code of the enforcer (or of unshare, which passes it through), null when killed. */
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  eventsText: string;
  /**
   * Every JSON line of the events, whether or not it passes the schema, so that a test can still
   * assert what was decided; `eventErrors` says which lines fail the schema (checked after each
   * test by `validateEventsAfterEach`).
   */
  events: VigilEvent[];
  eventErrors: EventLineError[];
  timedOut: boolean;
  /** Processes of this run still alive after it ended (they were SIGKILLed). */
  leftovers: number[];
  /** stdout/stderr were still held open by some process after the enforcer exited. */
  pipesHeldOpen: boolean;
  ms: number;
}

export interface RunningEnforcer {
  /** PID of the spawned process (unshare when in a PID namespace). */
  readonly pid: number;
  readonly token: string;
  stdout(): string;
  /** Resolves when stdout matches `re`; rejects after `timeoutMs`. */
  waitForStdout(re: RegExp, timeoutMs?: number): Promise<void>;
  /** Host PID of the enforcer itself (the child of unshare when in a PID namespace). */
  enforcerPid(timeoutMs?: number): Promise<number>;
  result: Promise<RunResult>;
}

const BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
const PASSTHROUGH_ENV = ["ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS"];

export function enforcerArgv(opts: EnforcerOptions, policyFile: string | undefined): string[] {
  if (opts.raw === true) return [...opts.command];
  const args: string[] = [];
  if (opts.mechanism !== undefined) args.push("--mechanism", opts.mechanism);
  const events = opts.events ?? "fd";
  if (events === "fd") args.push("--events", "fd:3");
  else if (events !== "default") args.push("--events", events.file);
  if (policyFile !== undefined) args.push("--policy", policyFile);
  args.push(...(opts.options ?? []), "--", ...opts.command);
  return args;
}

export function startEnforcer(opts: EnforcerOptions): RunningEnforcer {
  const token = newRunToken();
  const scratch = makeTempDir("run");
  let policyFile: string | undefined;
  if (opts.policy !== undefined) {
    policyFile = scratch.join("policy");
    writeFileSync(policyFile, opts.policy);
  }
  const argv = [opts.enforcer ?? ENFORCER, ...enforcerArgv(opts, policyFile)];
  const full = opts.pidNamespace === true ? ["unshare", "--pid", "--fork", "--mount-proc", ...argv] : argv;
  const env: Record<string, string> = { PATH: BASE_PATH, LANG: "C", [RUN_TOKEN_VAR]: token };
  for (const name of PASSTHROUGH_ENV) {
    const value = process.env[name];
    if (value !== undefined) env[name] = value;
  }
  Object.assign(env, opts.env ?? {});

  const started = Date.now();
  const [command, ...args] = full as [string, ...string[]];
  const child = spawn(command, args, {
    cwd: opts.cwd ?? scratch.path,
    env,
    detached: true, // own process group, so a timeout can kill all of it
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`could not spawn ${command}`);

  const { stdout, stderr } = child;
  if (stdout === null || stderr === null) throw new Error("spawn gave no stdout/stderr pipes");
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const ev: Buffer[] = [];
  const waiters = new Set<() => void>();
  stdout.on("data", (b: Buffer) => {
    out.push(b);
    for (const w of waiters) w();
  });
  stderr.on("data", (b: Buffer) => err.push(b));
  const fd3 = child.stdio[3];
  if (fd3 !== null && fd3 !== undefined && "on" in fd3) fd3.on("data", (b: Buffer) => ev.push(b));
  const stdoutText = (): string => Buffer.concat(out).toString("utf8");

  const result = new Promise<RunResult>((resolve, reject) => {
    let timedOut = false;
    let pipesHeldOpen = false;
    let exitCode: number | null = null;
    let exitSignal: NodeJS.Signals | null = null;
    let graceTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(pid);
      killProcessesWithToken(token);
    }, opts.timeoutMs ?? 30_000);

    const finish = (): void => {
      clearTimeout(timer);
      if (graceTimer !== undefined) clearTimeout(graceTimer);
      const leftovers = killProcessesWithToken(token);
      let eventsText = Buffer.concat(ev).toString("utf8");
      const events = opts.events;
      if (events !== undefined && events !== "fd" && events !== "default") {
        try {
          eventsText = readFileSync(events.file, "utf8");
        } catch {
          eventsText = "";
        }
      }
      scratch.remove();
      const result: RunResult = {
        code: exitCode,
        signal: exitSignal,
        stdout: stdoutText(),
        stderr: Buffer.concat(err).toString("utf8"),
        eventsText,
        events: lenientEvents(eventsText),
        eventErrors: parseEventLines(eventsText).errors,
        timedOut,
        leftovers,
        pipesHeldOpen,
        ms: Date.now() - started,
      };
      finishedRuns.push(result);
      resolve(result);
    };

    child.on("error", (e) => {
      clearTimeout(timer);
      scratch.remove();
      reject(e);
    });
    child.on("exit", (code, signal) => {
      exitCode = code;
      exitSignal = signal;
      // Pipes still open 2 s after the exit mean some process of the run survived.
      graceTimer = setTimeout(() => {
        pipesHeldOpen = true;
        killGroup(pid);
        killProcessesWithToken(token);
        stdout.destroy();
        stderr.destroy();
        if (fd3 !== null && fd3 !== undefined && "destroy" in fd3) fd3.destroy();
      }, 2_000);
    });
    child.on("close", finish);
  });

  return {
    pid,
    token,
    stdout: stdoutText,
    waitForStdout: (re, timeoutMs = 10_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (re.test(stdoutText())) {
            waiters.delete(check);
            clearTimeout(t);
            resolve();
          }
        };
        const t = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out waiting for ${String(re)} in stdout:\n${stdoutText()}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      }),
    enforcerPid: async (timeoutMs = 5_000) => {
      if (opts.pidNamespace !== true) return pid;
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const kids = childrenOf(pid);
        if (kids[0] !== undefined) return kids[0];
        if (Date.now() > deadline) throw new Error("unshare has no child");
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    result,
  };
}

export function runEnforcer(opts: EnforcerOptions): Promise<RunResult> {
  return startEnforcer(opts).result;
}

/** Runs finished since the last `takeFinishedRuns()`. */
const finishedRuns: RunResult[] = [];

export function takeFinishedRuns(): RunResult[] {
  return finishedRuns.splice(0, finishedRuns.length);
}

function lenientEvents(text: string): VigilEvent[] {
  const events: VigilEvent[] = [];
  for (const line of text.split("\n")) {
    if (line.trim() === "") continue;
    try {
      // Validity is checked separately (eventErrors); here only the content matters.
      events.push(JSON.parse(line) as VigilEvent);
    } catch {
      // not JSON: reported in eventErrors
    }
  }
  return events;
}

function killGroup(pid: number): void {
  try {
    process.kill(-pid, "SIGKILL");
  } catch {
    // group already gone
  }
}

/** A one-paragraph summary of a run, for assertion messages. */
export function describeRun(r: RunResult): string {
  return [
    `code=${String(r.code)} signal=${String(r.signal)} timedOut=${r.timedOut} ms=${r.ms}`,
    `stdout:\n${r.stdout}`,
    `stderr:\n${r.stderr}`,
    `events:\n${r.eventsText}`,
  ].join("\n");
}
