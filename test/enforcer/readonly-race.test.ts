// files.readOnly without Landlock (Fargate's kernels; here Landlock is hidden by the no-landlock
// probe): write-opens are judged again at their exit stop on the file the kernel really opened, so
// a symlink swapped or a path string rewritten after the seccomp-stop check no longer reaches a
// read-only file (docs/compiled-policy.md, "Races"). Each race runs a bounded loop that the
// enforcer without the exit check loses at least once (the read-only file changes); with it, the
// read-only file never changes, every allowed write lands, and every refusal is one blocked event
// naming the real path.

import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { Stats } from "node:fs";
import { afterAll, beforeAll, beforeEach, describe, expect, test } from "vitest";
import { expectExit, validateEventsAfterEach } from "./helpers/assert.js";
import { lifecycle } from "./helpers/events.js";
import type { VigilEvent } from "./helpers/events.js";
import { ENFORCER, ensureBuilt, probe } from "./helpers/paths.js";
import { runEnforcer } from "./helpers/run.js";
import type { RunResult } from "./helpers/run.js";
import { makeTempDir } from "./helpers/tmp.js";
import type { TempDir } from "./helpers/tmp.js";

validateEventsAfterEach();

type FileEvent = Extract<VigilEvent, { kind: "file" }>;
const fileEvents = (r: RunResult): FileEvent[] => r.events.filter((e): e is FileEvent => e.kind === "file");

/** Opens per race: the enforcer without the exit check loses each race well within this count. */
const ROUNDS = 3000;

let tmp: TempDir;
let ro: string; // files.readOnly[0] = RO/**
let app: string; // writable
let policyFile: string;

beforeAll(() => {
  ensureBuilt();
  tmp = makeTempDir("readonly-race");
  ro = tmp.join("ro");
  app = tmp.join("app");
  policyFile = tmp.join("policy");
  writeFileSync(policyFile, ["vigil-policy 1", `files.readOnly ${ro}/**`, "end", ""].join("\n"));
});
afterAll(() => tmp?.remove());

beforeEach(() => {
  tmp.remove();
  mkdirSync(ro, { recursive: true });
  mkdirSync(app, { recursive: true });
  writeFileSync(`${ro}/conf`, "original\n");
  writeFileSync(`${app}/good`, "good\n");
  writeFileSync(policyFile, ["vigil-policy 1", `files.readOnly ${ro}/**`, "end", ""].join("\n"));
});

/** The enforcer under --mechanism seccomp, with Landlock hidden from it: mechanisms.files is "ptrace". */
async function run(command: readonly string[], env: Readonly<Record<string, string>> = {}): Promise<RunResult> {
  // a file, not a pipe: thousands of events in a burst would overflow a pipe (and be counted as dropped)
  const events = tmp.join("events");
  rmSync(events, { force: true });
  const r = await runEnforcer({
    enforcer: probe("no-landlock"),
    raw: true,
    command: [ENFORCER, "--mechanism", "seccomp", "--events", events, "--policy", policyFile, "--", ...command],
    events: { file: events },
    cwd: app,
    env,
    timeoutMs: 25_000,
  });
  const start = lifecycle(r.events, "start")[0];
  expect(start?.event === "start" ? start.mechanisms.files : undefined).toBe("ptrace");
  return r;
}

interface RaceCounts {
  ok: number;
  refused: number;
  last: number;
}

function counts(r: RunResult): RaceCounts {
  const m = /^open-race n=(\d+) ok=(\d+) refused=(\d+) last=(-?\d+)$/m.exec(r.stdout);
  expect(m, r.stdout).not.toBeNull();
  return { ok: Number(m?.[2]), refused: Number(m?.[3]), last: Number(m?.[4]) };
}

/** Every refusal is one blocked open-write event about `path`, whichever stop refused it. */
function expectRefusalsReported(r: RunResult, c: RaceCounts, path: string): void {
  const blocked = fileEvents(r).filter((e) => e.verdict === "blocked");
  expect(blocked.length).toBe(c.refused);
  expect(blocked.every((e) => e.path === path && e.operation === "open-write" && e.rule === "files.readOnly[0]")).toBe(true);
  expect(r.stdout.split("\n").filter((l) => l.startsWith("errno="))).toEqual(c.refused > 0 ? ["errno=EPERM"] : []);
}

/**
 * The outcome of a race between a writable and the read-only file: the read-only one kept its
 * bytes and mtime, both sides of the race happened, the writable file holds the last allowed
 * write, and every refusal was reported.
 */
function expectReadOnlyKept(r: RunResult, c: RaceCounts, before: Stats): void {
  expect(readFileSync(`${ro}/conf`, "utf8")).toBe("original\n");
  expect(statSync(`${ro}/conf`).mtimeMs).toBe(before.mtimeMs);
  expect(c.ok).toBeGreaterThan(0);
  expect(c.refused).toBeGreaterThan(0);
  expect(readFileSync(`${app}/good`, "utf8")).toBe(`${c.last}\n`);
  expectRefusalsReported(r, c, `${ro}/conf`);
}

describe("files.readOnly without Landlock: write-opens decided on the opened file", () => {
  test("a symlink flipped between a writable and a read-only file: O_WRONLY|O_CREAT|O_TRUNC never truncates, writes or removes the read-only one", async () => {
    const before = statSync(`${ro}/conf`);
    const r = await run([probe("open-race"), "link", `${app}/link`, `${app}/good`, `${ro}/conf`, String(ROUNDS)]);
    expectExit(r, 0);
    expectReadOnlyKept(r, counts(r), before);
    expect(statSync(`${ro}/conf`).ino).toBe(before.ino);
  });

  test("a thread rewriting the path string between the seccomp-stop check and the kernel's lookup", async () => {
    const before = statSync(`${ro}/conf`);
    const r = await run([probe("open-race"), "buffer", `${app}/good`, `${ro}/conf`, String(ROUNDS)]);
    expectExit(r, 0);
    expectReadOnlyKept(r, counts(r), before);
  });

  test("O_CREAT through a flipped symlink leaves no new name in the read-only tree; the writable side is created each time", async () => {
    const r = await run([probe("open-race"), "create", `${app}/link`, `${app}/new`, `${ro}/new`, String(ROUNDS)]);
    expectExit(r, 0);
    const c = counts(r);
    expect(existsSync(`${ro}/new`)).toBe(false);
    expect(c.ok).toBeGreaterThan(0);
    expect(c.refused).toBeGreaterThan(0);
    expectRefusalsReported(r, c, `${ro}/new`);
  });

  test("signals that arrive while a refused file is being closed in the process are delivered, none lost", async () => {
    const r = await run([probe("open-race"), "link", `${app}/link`, `${app}/good`, `${ro}/conf`, String(ROUNDS)], { OPEN_RACE_SIGNALS: "1" });
    expectExit(r, 0);
    const m = /^signals sent=(\d+) got=(\d+)$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    expect(Number(m?.[1])).toBeGreaterThan(0);
    expect(Number(m?.[2])).toBe(Number(m?.[1]));
    expect(readFileSync(`${ro}/conf`, "utf8")).toBe("original\n");
    expect(counts(r).refused).toBeGreaterThan(0);
  });

  test("a program that changes the system call instruction under the close run in it is killed within seconds; the enforcer never waits for it forever", async () => {
    const r = await run([probe("open-race"), "link", `${app}/link`, `${app}/good`, `${ro}/conf`, String(ROUNDS)], { OPEN_RACE_CODE_SWAP: "1" });
    expectExit(r, 128 + 9);
    expect(r.stderr).toMatch(/vigil-enforcer: process \d+: did not come back from a system call run in it; killed/);
    expect(readFileSync(`${ro}/conf`, "utf8")).toBe("original\n");
  });

  test("a thread killed by an execve in another thread before the close run in it: the new program never holds the refused file", async () => {
    const r = await run([probe("open-race"), "link", `${app}/link`, `${app}/good`, `${ro}/conf`, String(ROUNDS)], {
      OPEN_RACE_CODE_SWAP: "1",
      OPEN_RACE_EXEC_ON_SWAP: "1",
    });
    expect(r.stdout).not.toMatch(/exec-check leaked=[1-9]/);
    expectExit(r, 128 + 9);
    expect(r.stderr).toMatch(/vigil-enforcer: process \d+: a thread died while a refused file was being closed in it; killed/);
    expect(readFileSync(`${ro}/conf`, "utf8")).toBe("original\n");
  });

  test("a program whose own seccomp filter refuses close(2) cannot keep a refused file open: it is killed (fail closed)", async () => {
    const r = await run([probe("open-race"), "link", `${app}/link`, `${app}/good`, `${ro}/conf`, String(ROUNDS)], { OPEN_RACE_DENY_CLOSE: "1" });
    expectExit(r, 128 + 9);
    expect(r.stderr).toMatch(/vigil-enforcer: process \d+: cannot close a refused file \(close: Operation not permitted\); killed/);
    expect(readFileSync(`${ro}/conf`, "utf8")).toBe("original\n");
    // the same program, refusing close(2), still opens and writes its own files (it closes with close_range)
    const own = await run([probe("open-race"), "loop", "trunc", `${app}/good`, "100"], { OPEN_RACE_DENY_CLOSE: "1" });
    expectExit(own, 0);
    expect(readFileSync(`${app}/good`, "utf8")).toBe("x");
  });

  test("the application's own O_TRUNC, O_CREAT, creat and O_RDONLY|O_TRUNC writes work as without the enforcer; the read-only tree refuses them early", async () => {
    writeFileSync(`${app}/long`, "a much longer previous content\n");
    writeFileSync(`${app}/creat-me`, "previous\n");
    writeFileSync(`${app}/rdonly`, "previous\n");
    const r = await run([
      probe("file-ops"),
      "write", `${app}/long`, // O_WRONLY|O_CREAT|O_TRUNC on an existing file, then "x"
      "write", "fresh", // a new file, relative to the cwd
      "creat", `${app}/creat-me`,
      "append", `${app}/good`,
      "write", `${ro}/conf`,
      "creat", `${ro}/new`,
    ]);
    expectExit(r, 0);
    expect(r.stdout).toBe("write ok\nwrite ok\ncreat ok\nappend ok\nwrite errno=EPERM\ncreat errno=EPERM\n");
    expect(readFileSync(`${app}/long`, "utf8")).toBe("x");
    expect(readFileSync(`${app}/fresh`, "utf8")).toBe("x");
    expect(readFileSync(`${app}/creat-me`, "utf8")).toBe("");
    expect(readFileSync(`${app}/good`, "utf8")).toBe("good\n");
    expect(readFileSync(`${ro}/conf`, "utf8")).toBe("original\n");
    expect(existsSync(`${ro}/new`)).toBe(false);
    expect(fileEvents(r).map((e) => [e.verdict, e.path])).toEqual([
      ["blocked", `${ro}/conf`],
      ["blocked", `${ro}/new`],
    ]);

    // O_RDONLY|O_TRUNC truncates as the kernel would; the descriptor is read-write (see the docs)
    const t = await run([probe("open-race"), "rdonly-trunc", `${app}/rdonly`]);
    expectExit(t, 0);
    expect(t.stdout).toBe("rdonly-trunc ok mode=rdwr size=0\n");
    expect(readFileSync(`${app}/rdonly`, "utf8")).toBe("");
  });

  test("O_TRUNC in a thread with its own descriptor table truncates its file, not the one the main thread holds at that number", async () => {
    writeFileSync(`${app}/held`, "held by the main thread\n");
    writeFileSync(`${app}/opened`, "to be truncated\n");
    const r = await run([probe("open-race"), "unshared-trunc", `${app}/held`, `${app}/opened`]);
    expectExit(r, 0);
    expect(r.stdout).toBe("unshared-trunc same-fd=yes a=24 b=0\n");
    expect(readFileSync(`${app}/held`, "utf8")).toBe("held by the main thread\n");
  });

  // The O_TRUNC is run in the thread itself (inject.c) with every signal blocked; the SIGSYS of a
  // RET_TRAP is forced, and the kernel resets the handler of a blocked forced signal: killed (fail
  // closed), never an open that says it truncated and did not.
  test("when the O_TRUNC is run in the thread and the program's own filter traps ftruncate, the program is killed by SIGSYS", async () => {
    writeFileSync(`${app}/held`, "held by the main thread\n");
    writeFileSync(`${app}/opened`, "to be truncated\n");
    const r = await run([probe("open-race"), "unshared-trunc", `${app}/held`, `${app}/opened`], { OPEN_RACE_TRAP_FTRUNCATE: "1" });
    expectExit(r, 128 + 31);
    expect(r.stdout).toBe("");
    expect(readFileSync(`${app}/held`, "utf8")).toBe("held by the main thread\n");
  });

  test("O_RDONLY|O_TRUNC on a FIFO opens its read end only, as the kernel does (read-write, it would never read EOF)", async () => {
    const fifo = `${app}/fifo`;
    execFileSync("mkfifo", [fifo]);
    // the reader's open waits for the writer (echo), as without the enforcer; the reader does not
    // read, so the writer may find it gone (SIGPIPE) when it writes: not what is checked here
    const r = await run(["/bin/sh", "-c", `trap '' PIPE; ${probe("open-race")} rdonly-trunc ${fifo} & echo x > ${fifo} 2>/dev/null; wait`]);
    expectExit(r, 0);
    expect(r.stdout).toBe("rdonly-trunc ok mode=rdonly size=0\n");
  });
});
