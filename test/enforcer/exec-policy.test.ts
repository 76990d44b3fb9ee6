// Exec policy of the real enforcer, in every mechanism configuration: allowed and denied programs,
// the ways a path can name a denied file, the programs that launch others, threads, vfork and spawn,
// the path-flip race, audit mode, and the event lines that report each decision.

import { copyFileSync, chmodSync, mkdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectCleanRun, expectDidNotRun, expectExit, expectRan, validateEventsAfterEach } from "./helpers/assert.js";
import { blockedExecs, describeExecs, execEvents, execEventsFor, lifecycle } from "./helpers/events.js";
import { MECHANISMS, makeExecFixture } from "./helpers/fixture.js";
import type { ExecFixture } from "./helpers/fixture.js";
import { LOADER, ensureBuilt, probe } from "./helpers/paths.js";
import { compiledPolicy } from "./helpers/policy.js";
import { describeRun, runEnforcer } from "./helpers/run.js";
import type { Mechanism, RunResult } from "./helpers/run.js";

validateEventsAfterEach();

const EACCES = "EACCES";

let fx: ExecFixture;
beforeAll(() => {
  ensureBuilt();
  fx = makeExecFixture();
});
afterAll(() => fx?.remove());

describe.each(MECHANISMS)("exec policy, mechanism $label", ({ mechanism }) => {
  const run = (command: string[], extra: { policy?: string; cwd?: string; env?: Record<string, string>; options?: string[] } = {}) =>
    runEnforcer({ mechanism, command, ...extra, policy: extra.policy ?? fx.allowlist });

  /** Exactly one blocked exec event, of the expected rule, by the expected mechanism. */
  function expectOneBlock(r: RunResult, expected: { exe?: string; rule: string; pattern: string | null }): void {
    const blocked = blockedExecs(r.events);
    expect(blocked, `expected exactly one blocked exec\n${describeExecs(r.events)}\n${describeRun(r)}`).toHaveLength(1);
    const ev = blocked[0]!;
    if (expected.exe !== undefined) expect(ev.exe).toBe(expected.exe);
    expect(ev.rule).toBe(expected.rule);
    expect(ev.pattern).toBe(expected.pattern);
    expectBlockMechanism(ev, mechanism);
  }

  test("starts with a lifecycle start event naming the mechanisms, ends with an exit event", async () => {
    const r = await run([probe("exit-with"), "7"]);
    expectExit(r, 7);
    const [start, ...moreStarts] = lifecycle(r.events, "start");
    expect(moreStarts).toHaveLength(0);
    expect(start).toBeDefined();
    if (start?.event !== "start") throw new Error("no start event");
    expect(start.mode).toBe("enforce");
    expect(start.policyName).toBe("enforcer-tests");
    expect(start.mechanisms.ptrace).toBe(true);
    if (mechanism === "auto") {
      expect(start.mechanisms.landlock, "Landlock ABI 7 is available on this kernel").toBeGreaterThan(0);
      expect(start.mechanisms.seccomp).toBe(false);
    } else {
      expect(start.mechanisms.landlock).toBe(0);
      expect(start.mechanisms.seccomp).toBe(true);
    }
    const exits = lifecycle(r.events, "exit");
    expect(exits).toHaveLength(1);
    expect(exits[0]?.event === "exit" ? exits[0].status : undefined).toBe(7);
    expect(r.events.at(-1)?.kind).toBe("lifecycle");
  });

  test("an allowed program runs and is reported once as allowed, with its rule", async () => {
    const m = fx.markerPath("allowed");
    const r = await run([probe("try-exec"), fx.allowed, m]);
    expectExit(r, 0);
    expectRan(m, r);
    expect(r.stdout).toContain("marker ran");
    const evs = execEventsFor(r.events, fx.allowed);
    expect(evs, describeExecs(r.events)).toHaveLength(1);
    const ev = evs[0]!;
    expect(ev.verdict).toBe("allowed");
    expect(ev.rule).toBe(fx.allowTmpRule);
    expect(ev.pattern).toBe(`${fx.root.path}/**`);
    expect(ev.argv).toEqual([fx.allowed, m]);
    expect(ev.cwd).not.toBe("");
    expect(ev.uid).toBe(0);
    expect(ev.script).toBeNull();
    expect(blockedExecs(r.events)).toHaveLength(0);
    // The probe that started it was reported too, and is its parent.
    const parent = execEventsFor(r.events, probe("try-exec"));
    expect(parent).toHaveLength(1);
    expect(ev.pid).toBe(parent[0]!.pid);
  });

  test("a program matching exec.deny is blocked: exit 126, never runs, one blocked event", async () => {
    const m = fx.markerPath("denied");
    const r = await run([probe("try-exec"), fx.denied, m]);
    expectExit(r, 126);
    expectDidNotRun(m, r);
    expectOneBlock(r, { exe: fx.denied, rule: "exec.deny[0]", pattern: fx.deniedGlob });
    if (mechanism === "auto") expect(r.stdout).toContain("exec errno=EACCES");
  });

  test("a program outside every exec.allow glob is blocked with rule exec.allow", async () => {
    const m = fx.markerPath("not-allowed");
    const r = await run([probe("try-exec"), fx.notAllowed, m]);
    expectExit(r, 126);
    expectDidNotRun(m, r);
    expectOneBlock(r, { exe: fx.notAllowed, rule: "exec.allow", pattern: null });
  });

  test("a deny-only policy blocks the denied program and lets every other run", async () => {
    const ok = fx.markerPath("denylist-ok");
    const r1 = await run([probe("try-exec"), fx.notAllowed, ok], { policy: fx.denylist });
    expectExit(r1, 0);
    expectRan(ok, r1);
    expect(blockedExecs(r1.events)).toHaveLength(0);
    const bad = fx.markerPath("denylist-bad");
    const r2 = await run([probe("try-exec"), fx.denied, bad], { policy: fx.denylist });
    expectExit(r2, 126);
    expectDidNotRun(bad, r2);
    const blocked = blockedExecs(r2.events);
    expect(blocked, describeExecs(r2.events)).toHaveLength(1);
    expect(blocked[0]?.rule).toBe("exec.deny[0]");
  });

  test("a dynamically linked allowed program (/bin/true, with its ELF interpreter) runs", async () => {
    const r = await run(["/bin/true"]);
    expectExit(r, 0);
    expect(blockedExecs(r.events), describeExecs(r.events)).toHaveLength(0);
  });

  test("the enforcer's own COMMAND is subject to the policy (exit 126, never runs)", async () => {
    const m = fx.markerPath("command");
    const r = await run([fx.denied, m]);
    expectExit(r, 126);
    expectDidNotRun(m, r);
    expect(blockedExecs(r.events), describeExecs(r.events)).toHaveLength(1);
  });

  test("a relative path after chdir names the denied file: blocked", async () => {
    const m = fx.markerPath("relative");
    const r = await run([probe("try-exec"), "./denied-marker", m], { cwd: fx.root.join("bin") });
    expectExit(r, 126);
    expectDidNotRun(m, r);
    expectOneBlock(r, { exe: fx.denied, rule: "exec.deny[0]", pattern: fx.deniedGlob });
    const m2 = fx.markerPath("relative-dotdot");
    const r2 = await run([probe("try-exec"), "../bin/./denied-marker", m2], { cwd: fx.root.join("links") });
    expectExit(r2, 126);
    expectDidNotRun(m2, r2);
  });

  test("a PATH lookup finds the denied file: blocked, for a shell and for the enforcer's COMMAND", async () => {
    const env = { PATH: `${fx.root.join("bin")}:/usr/bin:/bin` };
    const m = fx.markerPath("path-sh");
    const r = await run(["sh", "-c", `denied-marker ${m}; echo "status=$?"`], { env });
    expectExit(r, 0);
    expectDidNotRun(m, r);
    expect(r.stdout).toContain("status=126");
    expectOneBlock(r, { exe: fx.denied, rule: "exec.deny[0]", pattern: fx.deniedGlob });
    const m2 = fx.markerPath("path-command");
    const r2 = await run(["denied-marker", m2], { env });
    expectExit(r2, 126);
    expectDidNotRun(m2, r2);
    const m3 = fx.markerPath("path-allowed");
    const r3 = await run(["allowed-marker", m3], { env });
    expectExit(r3, 0);
    expectRan(m3, r3);
  });

  test("a symlink to the denied file is blocked and reported with the canonical path", async () => {
    const m = fx.markerPath("symlink");
    const r = await run([probe("try-exec"), fx.symDenied, m]);
    expectExit(r, 126);
    expectDidNotRun(m, r);
    expectOneBlock(r, { exe: fx.denied, rule: "exec.deny[0]", pattern: fx.deniedGlob });
  });

  test("a hard link to the denied file (same inode, allowed path) is blocked", async () => {
    const m = fx.markerPath("hardlink");
    const r = await run([probe("try-exec"), fx.hardDenied, m]);
    expectExit(r, 126);
    expectDidNotRun(m, r);
    const blocked = blockedExecs(r.events);
    expect(blocked, describeExecs(r.events)).toHaveLength(1);
    expect(blocked[0]?.rule).toBe("exec.deny[0]");
    expectBlockMechanism(blocked[0]!, mechanism);
  });

  test("a symlink to an allowed file runs", async () => {
    const m = fx.markerPath("symlink-allowed");
    const r = await run([probe("try-exec"), fx.symAllowed, m]);
    expectExit(r, 0);
    expectRan(m, r);
    expect(execEventsFor(r.events, fx.allowed), describeExecs(r.events)).toHaveLength(1);
  });

  test("env launching the denied program: blocked, exit 126", async () => {
    const m = fx.markerPath("env");
    const r = await run(["env", fx.denied, m]);
    expectExit(r, 126);
    expectDidNotRun(m, r);
    expect(blockedExecs(r.events), describeExecs(r.events)).toHaveLength(1);
  });

  test("xargs launching the denied program: blocked, xargs reports it", async () => {
    const m = fx.markerPath("xargs");
    const r = await run(["sh", "-c", `echo ${m} | xargs ${fx.denied}; echo "xargs=$?"`]);
    expectExit(r, 0);
    expectDidNotRun(m, r);
    // Landlock: xargs's exec fails (EACCES) -> 126 "cannot run". ptrace: the exec happens and
    // the program exits 126 before its first instruction, which xargs maps to 123.
    expect(r.stdout).toContain(mechanism === "auto" ? "xargs=126" : "xargs=123");
    expect(blockedExecs(r.events), describeExecs(r.events)).toHaveLength(1);
  });

  test("find -exec launching the denied program: blocked, the -exec test is false", async () => {
    const m = fx.markerPath("find");
    const r = await run(["find", fx.root.join("bin"), "-maxdepth", "0", "-exec", fx.denied, m, ";", "-o", "-print"]);
    expectExit(r, 0);
    expectDidNotRun(m, r);
    // -exec ... ; is false when the command fails, so -o -print prints the directory.
    expect(r.stdout.trim()).toBe(fx.root.join("bin"));
    expect(blockedExecs(r.events), describeExecs(r.events)).toHaveLength(1);
  });

  test("a shell goes on after a blocked command: prints the error, status 126, runs the next one", async () => {
    const bad = fx.markerPath("sh-bad");
    const ok = fx.markerPath("sh-ok");
    // stderr through a real pipe (`| cat`): the harness's own stdio are socketpairs, to which the
    // enforcer does not write its one-line reason.
    const r = await run(["sh", "-c", `{ ${fx.denied} ${bad}; echo "after=$?"; } 2>&1 | cat; ${fx.allowed} ${ok}`]);
    expectExit(r, 0);
    expectDidNotRun(bad, r);
    expectRan(ok, r);
    expect(r.stdout).toContain("after=126");
    // The shell's "Permission denied" (Landlock) or the enforcer's reason (ptrace) names the file.
    expect(r.stdout).toMatch(/denied-marker.*(Permission denied|exec\.deny)/);
    expect(blockedExecs(r.events), describeExecs(r.events)).toHaveLength(1);
    expect(execEventsFor(r.events, fx.allowed).map((e) => e.verdict)).toEqual(["allowed"]);
  });

  test.each([
    { open: "O_RDONLY", flags: [] },
    { open: "O_PATH", flags: ["--path"] },
  ])("exec by descriptor (execveat AT_EMPTY_PATH on an $open fd): denied blocked, allowed runs", async ({ flags }) => {
    const bad = fx.markerPath("fd-bad");
    const r = await run([probe("fd-exec"), ...flags, fx.denied, bad]);
    expectExit(r, 126);
    expectDidNotRun(bad, r);
    const blocked = blockedExecs(r.events);
    expect(blocked, describeExecs(r.events)).toHaveLength(1);
    expect(blocked[0]?.rule).toBe("exec.deny[0]");
    const ok = fx.markerPath("fd-ok");
    const r2 = await run([probe("fd-exec"), ...flags, fx.allowed, ok]);
    expectExit(r2, 0);
    expectRan(ok, r2);
  });

  test("an allowed #! script runs and is reported with its script path", async () => {
    const r = await run([probe("try-exec"), fx.scriptOk]);
    expectExit(r, 0);
    expect(r.stdout).toContain("script-ok");
    const evs = execEvents(r.events).filter((e) => e.script === fx.scriptOk);
    expect(evs, describeExecs(r.events)).toHaveLength(1);
    expect(evs[0]?.verdict).toBe("allowed");
    expect(evs[0]?.exe).toBe("/usr/bin/dash");
  });

  test("a denied #! script (allowed interpreter) is blocked", async () => {
    const m = fx.markerPath("script-denied");
    const r = await run([probe("try-exec"), fx.deniedScript, m]);
    expectExit(r, 126);
    expectDidNotRun(m, r);
    const blocked = blockedExecs(r.events);
    expect(blocked, describeExecs(r.events)).toHaveLength(1);
    expect(blocked[0]?.rule).toBe("exec.deny[1]");
  });

  test("an allowed #! script whose interpreter is denied is blocked", async () => {
    const m = fx.markerPath("script-interp");
    const r = await run([probe("try-exec"), fx.scriptDeniedInterpreter], { env: { VIGIL_MARKER: m } });
    expectExit(r, 126);
    expectDidNotRun(m, r);
    const blocked = blockedExecs(r.events);
    expect(blocked, describeExecs(r.events)).toHaveLength(1);
    expect(blocked[0]?.rule).toBe("exec.deny[0]");
  });

  test("a denied dynamic program run through the allowed loader (ld.so PROGRAM) is blocked", async () => {
    const loader = LOADER;
    const policy = compiledPolicy({ allow: ["/usr/bin/*", "/bin/*", loader, `${fx.root.path}/**`], deny: [fx.deniedDynamic] });
    const r = await run([loader, fx.deniedDynamic], { policy });
    expectExit(r, 126);
    expect(r.stdout, "the denied program ran").not.toMatch(/uid=/);
    const blocked = blockedExecs(r.events);
    expect(blocked, describeExecs(r.events)).toHaveLength(1);
    expect(blocked[0]?.rule).toBe("exec.deny[0]");
    // The same program by its path is blocked too; an allowed one through the loader runs.
    const direct = await run([fx.deniedDynamic], { policy });
    expectExit(direct, 126);
    const ok = await run([loader, "/usr/bin/id", "-u"], { policy });
    expectExit(ok, 0);
    expect(ok.stdout.trim()).toBe("0");
  });

  test("exec from a non-leader thread: denied blocked, allowed runs", async () => {
    const bad = fx.markerPath("thread-bad");
    const r = await run([probe("thread-exec"), fx.denied, bad]);
    expectExit(r, 126);
    expectDidNotRun(bad, r);
    expectOneBlock(r, { exe: fx.denied, rule: "exec.deny[0]", pattern: fx.deniedGlob });
    const ok = fx.markerPath("thread-ok");
    const r2 = await run([probe("thread-exec"), fx.allowed, ok]);
    expectExit(r2, 0);
    expectRan(ok, r2);
    expect(execEventsFor(r2.events, fx.allowed)).toHaveLength(1);
  });

  test.each(["vfork-exec", "spawn-exec"] as const)("%s: denied blocked (status 126), allowed runs", async (p) => {
    const bad = fx.markerPath(`${p}-bad`);
    const r = await run([probe(p), fx.denied, bad]);
    expectExit(r, 126);
    expectDidNotRun(bad, r);
    expectOneBlock(r, { exe: fx.denied, rule: "exec.deny[0]", pattern: fx.deniedGlob });
    const ok = fx.markerPath(`${p}-ok`);
    const r2 = await run([probe(p), fx.allowed, ok]);
    expectExit(r2, 0);
    expectRan(ok, r2);
    expect(r2.stdout).toMatch(/status exited=0/);
  });

  test.each([
    { how: "vfork", attempts: 2000 },
    { how: "fork", attempts: 500 },
  ])("path-flip race ($how, $attempts attempts): the denied program never runs", async ({ how, attempts }) => {
    // Same length, one byte apart: every read of the flipping buffer is one of the two paths.
    const dir = fx.root.join(`race-${mechanism}-${how}`);
    mkdirSync(dir);
    const a = path.join(dir, "a-target");
    const d = path.join(dir, "d-target");
    copyFileSync(probe("exit-with"), a);
    copyFileSync(probe("marker"), d);
    chmodSync(a, 0o755);
    chmodSync(d, 0o755);
    const m = fx.markerPath(`race-${how}`);
    const r = await runEnforcer({
      mechanism,
      policy: compiledPolicy({ allow: [probe("race-exec"), a], deny: [d] }),
      command: [probe("race-exec"), a, d, String(attempts), m, how],
      timeoutMs: 120_000,
    });
    expectCleanRun(r);
    expectDidNotRun(m, r);
    const line = /race attempts=(\d+) exited0=(\d+) refused=(\d+) killed126=(\d+) other=(\d+) denied_ran=(\d+)/.exec(r.stdout);
    expect(line, describeRun(r)).not.toBeNull();
    const [, n, exited0, refused, killed, , ran] = line!.map(Number);
    expect(n).toBe(attempts);
    expect(ran).toBe(0);
    // The race was real: both sides were tried.
    expect(exited0, r.stdout).toBeGreaterThan(0);
    expect(refused! + killed!, r.stdout).toBeGreaterThan(0);
    expect(r.code).toBe(0);
  }, 150_000);

  test("audit mode (--audit): nothing is blocked, the would-be block is reported as alert", async () => {
    const m = fx.markerPath("audit");
    const r = await run([probe("try-exec"), fx.denied, m], { options: ["--audit"] });
    expectExit(r, 0);
    expectRan(m, r);
    expect(blockedExecs(r.events)).toHaveLength(0);
    const evs = execEventsFor(r.events, fx.denied);
    expect(evs, describeExecs(r.events)).toHaveLength(1);
    expect(evs[0]?.verdict).toBe("alert");
    expect(evs[0]?.rule).toBe("exec.deny[0]");
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" ? start.mode : undefined).toBe("audit");
  });

  test("audit mode (mode audit in the policy): the program outside the allowlist runs, alert", async () => {
    const m = fx.markerPath("audit-policy");
    const policy = fx.allowlist.replace("mode enforce", "mode audit");
    const r = await run([probe("try-exec"), fx.notAllowed, m], { policy });
    expectExit(r, 0);
    expectRan(m, r);
    const evs = execEventsFor(r.events, fx.notAllowed);
    expect(evs, describeExecs(r.events)).toHaveLength(1);
    expect(evs[0]?.verdict).toBe("alert");
    expect(evs[0]?.rule).toBe("exec.allow");
  });

  test("events can go to a file (--events FILE), same lines", async () => {
    const file = fx.root.join("out", `events-${mechanism}.jsonl`);
    const m = fx.markerPath("events-file");
    const r = await runEnforcer({ mechanism, policy: fx.allowlist, events: { file }, command: [probe("try-exec"), fx.denied, m] });
    expectExit(r, 126);
    expectDidNotRun(m, r);
    expect(readFileSync(file, "utf8").endsWith("\n")).toBe(true);
    expect(blockedExecs(r.events), describeExecs(r.events)).toHaveLength(1);
    expect(lifecycle(r.events, "start")).toHaveLength(1);
  });

  test("without a policy every exec is traced and reported as allowed", async () => {
    const m = fx.markerPath("no-policy");
    const r = await runEnforcer({ mechanism, command: ["sh", "-c", `${fx.denied} ${m}`] });
    expectExit(r, 0);
    expectRan(m, r);
    const verdicts = execEvents(r.events).map((e) => e.verdict);
    expect(verdicts.length).toBeGreaterThanOrEqual(2);
    expect(new Set(verdicts)).toEqual(new Set(["allowed"]));
    expect(execEventsFor(r.events, fx.denied)).toHaveLength(1);
  });
});

/** auto on this kernel: the kernel refused the exec (Landlock, EACCES); seccomp: decided at the exec event. */
function expectBlockMechanism(ev: { mechanism: string; errno?: string | null | undefined }, mechanism: Mechanism): void {
  if (mechanism === "auto") {
    expect(ev.mechanism).toBe("landlock");
    expect(ev.errno).toBe(EACCES);
  } else {
    expect(ev.mechanism).toBe("ptrace");
  }
}
