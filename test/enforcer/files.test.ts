// files.readOnly and files.watch (docs/compiled-policy.md "File rules"): every way of changing a
// read-only tree is refused, through relative paths with a dirfd, symlinks, `..` and /proc/self,
// while the application writes its own log next to it; read-only opens cost no trace stop; watched
// writes are reported, not blocked.

import { execFileSync } from "node:child_process";
import { mkdirSync, readFileSync, readdirSync, symlinkSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectExit, validateEventsAfterEach } from "./helpers/assert.js";
import { lifecycle } from "./helpers/events.js";
import type { VigilEvent } from "./helpers/events.js";
import { ENFORCER, ensureBuilt, probe } from "./helpers/paths.js";
import { runEnforcer } from "./helpers/run.js";
import type { Mechanism, RunResult } from "./helpers/run.js";
import { makeTempDir } from "./helpers/tmp.js";
import type { TempDir } from "./helpers/tmp.js";

validateEventsAfterEach();

type FileEvent = Extract<VigilEvent, { kind: "file" }>;
const fileEvents = (r: RunResult): FileEvent[] => r.events.filter((e): e is FileEvent => e.kind === "file");

let tmp: TempDir;
let etc: string; // read-only tree: files.readOnly[0] = ETC/**
let app: string; // the application's own directory: writable, APP/log/** watched

function resetTree(): void {
  tmp.remove();
  mkdirSync(`${etc}/sub`, { recursive: true });
  mkdirSync(`${app}/log`, { recursive: true });
  writeFileSync(`${etc}/conf`, "original\n");
  writeFileSync(`${app}/scratch`, "scratch\n");
  symlinkSync("../etc", `${app}/etc-link`);
}

function snapshot(): string {
  const list = (d: string): string[] => readdirSync(d, { withFileTypes: true }).map((e) => `${e.name}${e.isDirectory() ? "/" : ""}`).sort();
  return JSON.stringify({ etc: list(etc), sub: list(`${etc}/sub`), conf: readFileSync(`${etc}/conf`, "utf8") });
}

beforeAll(() => {
  ensureBuilt();
  tmp = makeTempDir("files");
  etc = tmp.join("etc");
  app = tmp.join("app");
  resetTree();
});
afterAll(() => tmp?.remove());

function policy(extra: readonly string[] = []): string {
  // exec.deny of a file that does not exist: makes the exec mechanism (seccomp or Landlock) active
  return ["vigil-policy 1", `files.readOnly ${etc}/**`, `files.watch ${app}/log/**`, `exec.deny ${tmp.join("nothing")}`, ...extra, "end", ""].join("\n");
}

const OPS = probe("file-ops");

/** Each attack: file-ops arguments (run with cwd APP) and what the probe must print. */
const attacks = (): [string, string[]][] => [
  ["write", ["write", "../etc/conf"]],
  ["append", ["append", `${etc}/conf`]],
  ["openat", ["openat", etc, "conf"]],
  ["openat", ["openat", `${app}/etc-link`, "conf"]],
  ["creat", ["creat", `${etc}/new`]],
  ["truncate", ["truncate", "etc-link/conf"]],
  ["ftruncate", ["ftruncate", `${etc}/conf`]],
  ["unlink", ["unlink", "etc-link/../etc/conf"]],
  ["unlinkat", ["unlinkat", etc, "conf"]],
  ["rmdir", ["rmdir", `${etc}/sub`]],
  ["mkdir", ["mkdir", `${etc}/d`]],
  ["mkdirat", ["mkdirat", etc, "d"]],
  ["mknod", ["mknod", `${etc}/fifo`]],
  ["rename", ["rename", `${etc}/conf`, `${app}/stolen`]],
  ["rename", ["rename", `${app}/scratch`, `${etc}/conf`]],
  ["rename", ["rename", etc, `${app}/moved`]],
  ["renameat2", ["renameat2", tmp.path, "etc/conf", `${app}/stolen`]],
  ["link", ["link", `${etc}/conf`, `${app}/hard`]],
  ["link", ["link", `${app}/scratch`, `${etc}/new`]],
  ["symlink", ["symlink", "/tmp", `${etc}/sym`]],
  ["tmpfile-link", ["tmpfile-link", app, `${etc}/dropped`]],
  ["chmod", ["chmod", "/proc/self/root" + `${etc}/conf`]],
  ["fchmod", ["fchmod", `${etc}/conf`]],
  ["fchmodat", ["fchmodat", etc, "conf"]],
  ["chown", ["chown", "/proc/self/cwd/../etc/conf"]],
  ["lchown", ["lchown", `${etc}/conf`]],
  ["fchownat", ["fchownat", etc, "conf"]],
  ["utimes", ["utimes", `${etc}/conf`]],
  ["utimensat", ["utimensat", `${etc}/conf`]],
  ["futimens", ["futimens", `${etc}/conf`]],
  ["setxattr", ["setxattr", `${etc}/conf`]],
  ["lsetxattr", ["lsetxattr", `${etc}/conf`]],
  ["fsetxattr", ["fsetxattr", `${etc}/conf`]],
  ["removexattr", ["removexattr", `${etc}/conf`]],
  ["reopen", ["reopen", `${etc}/conf`]],
];

describe.each(["seccomp", "landlock"] as const)("mechanism %s", (mechanism: Mechanism) => {
  const run = (args: string[], extra: readonly string[] = [], timeoutMs = 30_000): Promise<RunResult> =>
    runEnforcer({ mechanism, policy: policy(extra), command: [OPS, ...args], cwd: app, timeoutMs });

  test("every way of changing the read-only tree is refused (EPERM) and reported; reads work", async () => {
    resetTree();
    const before = snapshot();
    const list = attacks();
    const r = await run([...list.flatMap(([, args]) => args), "openat2", `${etc}/conf`, "read", `${etc}/conf`, "read", "etc-link/conf"]);
    expectExit(r, 0);
    const expected = [...list.map(([op]) => `${op} errno=EPERM`), "openat2 errno=ENOSYS", "read ok", "read ok"];
    expect(r.stdout.trim().split("\n")).toEqual(expected);
    expect(snapshot()).toBe(before);
    const events = fileEvents(r);
    expect(events.every((e) => e.verdict === "blocked" && e.rule === "files.readOnly[0]" && e.pattern === `${etc}/**`)).toBe(true);
    expect(new Set(events.map((e) => e.operation))).toEqual(
      new Set(["open-write", "truncate", "unlink", "rmdir", "mkdir", "mknod", "rename", "link", "symlink", "chmod", "chown", "utimes", "xattr"]),
    );
    // paths are canonical whatever route the process took
    expect(events.every((e) => e.path === etc || e.path.startsWith(`${etc}/`) || e.path === `${etc}`)).toBe(true);
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" ? start.mechanisms.files : undefined).toBe("landlock+ptrace");
  });

  test("the application writes, renames and removes its own files next to the read-only tree; watched writes are reported", async () => {
    resetTree();
    const r = await run([
      "write", "log/app.log",
      "append", `${app}/log/app.log`,
      "write", `${app}/state.tmp`,
      "rename", `${app}/state.tmp`, `${app}/state`,
      "mkdir", `${app}/cache`,
      "unlink", `${app}/scratch`,
      "chmod", `${app}/state`,
    ]);
    expectExit(r, 0);
    expect(r.stdout).toBe("write ok\nappend ok\nwrite ok\nrename ok\nmkdir ok\nunlink ok\nchmod ok\n");
    expect(readFileSync(`${app}/log/app.log`, "utf8")).toBe("x");
    const events = fileEvents(r);
    expect(events.map((e) => [e.verdict, e.rule, e.operation, e.path])).toEqual([
      ["allowed", "files.watch[0]", "open-write", `${app}/log/app.log`],
      ["allowed", "files.watch[0]", "open-write", `${app}/log/app.log`],
    ]);
  });

  test("race: a thread flipping the path between the log and the read-only file never changes the read-only file", async () => {
    resetTree();
    writeFileSync(`${app}/log/race.log`, "");
    const r = await run(["race-write", `${app}/log/race.log`, `${etc}/conf`, "3000"], [], 120_000);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^race-write n=3000 ok=\d+ refused=\d+$/m);
    expect(readFileSync(`${etc}/conf`, "utf8")).toBe("original\n");
    expect(readFileSync(`${app}/log/race.log`, "utf8").length).toBeGreaterThan(0);
  }, 130_000);
});

describe("cost", () => {
  /** wait4 calls of the enforcer (one per stop it handles), counted by strace on the enforcer alone. */
  function enforcerWaits(reads: number): number {
    const dir = makeTempDir("files-cost");
    try {
      const policyFile = dir.join("policy");
      writeFileSync(policyFile, policy());
      const trace = dir.join("strace");
      execFileSync("strace", ["-o", trace, "-e", "trace=wait4", ENFORCER, "--policy", policyFile, "--events", dir.join("events"), "--", OPS, "reads", `${etc}/conf`, String(reads)], {
        timeout: 60_000,
        // LeakSanitizer cannot run under ptrace (the sanitizer build under strace)
        env: { ...process.env, ASAN_OPTIONS: "detect_leaks=0" },
      });
      return readFileSync(trace, "utf8").split("\n").filter((l) => l.includes("wait4(")).length;
    } finally {
      dir.remove();
    }
  }

  test("read-only opens of read-only files cost no trace stop", () => {
    resetTree();
    const few = enforcerWaits(10);
    const many = enforcerWaits(5000);
    expect(many - few).toBeLessThan(5);
  });
});

describe("audit mode", () => {
  test("a write to the read-only tree happens and is reported as an alert (no Landlock layer)", async () => {
    resetTree();
    const r = await runEnforcer({ policy: policy(["mode audit"]), command: [OPS, "write", `${etc}/conf`], cwd: app });
    expectExit(r, 0);
    expect(r.stdout).toBe("write ok\n");
    expect(fileEvents(r).map((e) => [e.verdict, e.operation, e.path])).toEqual([["alert", "open-write", `${etc}/conf`]]);
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" ? start.mechanisms.files : undefined).toBe("ptrace");
  });
});
