// What is particular to `--mechanism notify` (docs/enforcer-cli.md "Mechanisms"): the application
// is not traced at all; its Landlock layer refuses denied programs and each exec call reaches the
// enforcer as a seccomp user notification. The exec-policy, escape-route, PID 1 and stress suites
// run under notify too (helpers/fixture.ts MECHANISMS); these tests cover what only it does.

import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectDidNotRun, expectExit, expectRan, validateEventsAfterEach } from "./helpers/assert.js";
import { blockedExecs, describeExecs, execEvents, lifecycle } from "./helpers/events.js";
import { makeExecFixture } from "./helpers/fixture.js";
import type { ExecFixture } from "./helpers/fixture.js";
import { PROBES_DIR, ensureBuilt, probe } from "./helpers/paths.js";
import { compiledPolicy } from "./helpers/policy.js";
import { describeRun, runEnforcer } from "./helpers/run.js";
import { makeTempDir } from "./helpers/tmp.js";

validateEventsAfterEach();

let fx: ExecFixture;
beforeAll(() => {
  ensureBuilt();
  fx = makeExecFixture();
});
afterAll(() => fx?.remove());

const notify = (command: string[], policy: string, extra: { pidNamespace?: boolean } = {}) =>
  runEnforcer({ mechanism: "notify", policy, command, timeoutMs: 20_000, ...extra });

describe("--mechanism notify", () => {
  test("nothing of the application is traced: no tracer in its processes, every exec still reported", async () => {
    const r = await notify(["sh", "-c", "grep TracerPid /proc/self/status; sh -c 'grep TracerPid /proc/self/status'"], fx.allowlist);
    expectExit(r, 0);
    expect(r.stdout.trim().split("\n"), describeRun(r)).toEqual(["TracerPid:\t0", "TracerPid:\t0"]);
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" ? start.mechanisms : undefined).toMatchObject({ ptrace: false, seccomp: true, notify: true });
    const reported = execEvents(r.events).map((e) => [e.exe, e.verdict, e.mechanism]);
    expect(reported, describeExecs(r.events)).toEqual([
      ["/usr/bin/dash", "allowed", "notify"],
      ["/usr/bin/grep", "allowed", "notify"],
      ["/usr/bin/dash", "allowed", "notify"],
      ["/usr/bin/grep", "allowed", "notify"],
    ]);
  });

  test("as PID 1, its own untraced processes are not taken for sessions entered from outside", async () => {
    // The scan for `docker exec` sessions adopts untraced processes; under notify the application's
    // are told apart by the filter they carry. An adopted one would show the enforcer as tracer.
    const r = await notify(["sh", "-c", "sleep 0.3 & sleep 0.1; grep TracerPid /proc/$!/status; wait"], fx.allowlist, {
      pidNamespace: true,
    });
    expectExit(r, 0);
    expect(r.stdout.trim(), describeRun(r)).toBe("TracerPid:\t0");
    expect(execEvents(r.events).filter((e) => e.mechanism === "attach"), describeExecs(r.events)).toEqual([]);
  });

  test("a file that appears after the start: refused where files were granted one by one, run where the directory was granted whole", async () => {
    const tree = makeTempDir("notify-late");
    try {
      for (const dir of ["each", "whole"]) mkdirSync(tree.join(dir));
      // `each` holds a denied file, so its allowed files get a Landlock rule each; `whole` is
      // allowed as a whole (one rule for the directory), so a new file in it may run.
      copyFileSync(probe("marker"), tree.join("each/denied"));
      copyFileSync(probe("marker"), tree.join("each/old"));
      copyFileSync(probe("marker"), tree.join("whole/old"));
      for (const f of ["each/denied", "each/old", "whole/old"]) chmodSync(tree.join(f), 0o755);
      const policy = compiledPolicy({
        allow: ["/usr/bin/*", "/bin/*", `${PROBES_DIR}/*`, `${tree.path}/**`],
        deny: [tree.join("each/denied")],
      });
      const mEach = tree.join("each-new-ran"), mWhole = tree.join("whole-new-ran"), mOld = tree.join("old-ran");
      const script = [
        `cp ${probe("marker")} ${tree.join("each/new")} && ${tree.join("each/new")} ${mEach}; echo "each=$?"`,
        `cp ${probe("marker")} ${tree.join("whole/new")} && ${tree.join("whole/new")} ${mWhole}; echo "whole=$?"`,
        `${tree.join("each/old")} ${mOld}; echo "old=$?"`,
      ].join("\n");
      const r = await notify(["sh", "-c", script], policy);
      expectExit(r, 0);
      expect(r.stdout, describeRun(r)).toMatch(/^each=126$/m);
      expectDidNotRun(mEach, r);
      expect(r.stdout, describeRun(r)).toMatch(/^whole=0$/m);
      expectRan(mWhole, r);
      expect(r.stdout, describeRun(r)).toMatch(/^old=0$/m);
      expectRan(mOld, r);
      const blocked = blockedExecs(r.events);
      expect(blocked.map((e) => [e.exe, e.rule, e.mechanism]), describeExecs(r.events)).toEqual([
        [tree.join("each/new"), "exec.allow", "notify"],
      ]);
    } finally {
      tree.remove();
    }
  });

  test("after a chroot, paths are resolved through the process's root", async () => {
    // /inner exists only inside the new root: resolved in the enforcer's own root it names
    // nothing (and the kernel alone would refuse it, without an event). Once a process has called
    // chroot, paths resolve through /proc/PID/root: the file outside the allow list is reported
    // and refused by the enforcer (EPERM); an allowed program still runs.
    const jail = makeTempDir("notify-chroot");
    try {
      copyFileSync(probe("marker"), jail.join("inner"));
      chmodSync(jail.join("inner"), 0o755);
      const m = fx.markerPath("notify-chroot");
      const policy = fx.allowlist.replace(/\nend\n$/, "\nexec.allow /usr/sbin/*\nend\n"); // chroot(8)
      const script = `chroot ${jail.path} /inner /ran; echo "inner=$?"; ${fx.allowed} ${m}; echo "ok=$?"`;
      const r = await notify(["sh", "-c", script], policy);
      expectExit(r, 0);
      expect(r.stdout, describeRun(r)).toMatch(/^inner=126$/m);
      expect(r.stderr, describeRun(r)).toMatch(/Operation not permitted/);
      expect(r.stdout, describeRun(r)).toMatch(/^ok=0$/m);
      expectRan(m, r);
      expect(blockedExecs(r.events).map((e) => [e.exe, e.rule, e.argv]), describeExecs(r.events)).toEqual([
        [jail.join("inner"), "exec.allow", ["/inner", "/ran"]],
      ]);
    } finally {
      jail.remove();
    }
  });

  test("if the enforcer is killed, the main process dies with it and no exec of the survivors runs", async () => {
    // Not PID 1: a root application can kill the enforcer. A background subshell outlives it; its
    // next exec finds a filter whose listener is gone: ENOSYS, nothing runs unjudged.
    const out = fx.markerPath("notify-orphan");
    const m = fx.markerPath("notify-orphan-ran");
    const script = `( kill -9 $PPID; while kill -0 $PPID 2>/dev/null; do :; done; ${fx.allowed} ${m}; echo "allowed=$?" > ${out} ) & wait`;
    const r = await notify(["sh", "-c", script], fx.allowlist);
    expect(r.signal ?? r.code, describeRun(r)).not.toBe(0);
    for (let i = 0; i < 100 && !existsSync(out); i++) await new Promise((done) => setTimeout(done, 50));
    expect(readFileSync(out, "utf8"), describeRun(r)).toMatch(/^allowed=12[67]$/m);
    expectDidNotRun(m, r);
  });

  test.each([
    ["a files rule", "files.readOnly /etc/**", /files\.\* and network\.\* rules are checked on traced processes/],
    ["a network rule", "network.connect.deny 10.0.0.0/8", /files\.\* and network\.\* rules are checked on traced processes/],
    ["an exec protection", "exec.drift block", /exec\.drift, exec\.fileless, exec\.loader and exec\.reverseShell are judged on traced processes/],
  ])("a policy with %s: refused before anything starts, with the reason", async (_what, line, message) => {
    const m = fx.markerPath("notify-unfit");
    const policy = fx.allowlist.replace(/\nend\n$/, `\n${line}\nend\n`);
    const r = await notify([fx.allowed, m], policy);
    expect(r.code, describeRun(r)).toBe(1);
    expect(r.stderr, describeRun(r)).toMatch(/--mechanism notify: /);
    expect(r.stderr, describeRun(r)).toMatch(message);
    expectDidNotRun(m, r);
    expect(execEvents(r.events), describeRun(r)).toEqual([]);
  });
});
