// What is particular to `--mechanism notify` (docs/enforcer-cli.md "Mechanisms"): the application
// is not followed; each exec call reaches the enforcer as a seccomp user notification, the
// enforcer attaches to the caller for that exec only and judges the program at its exec event. The
// exec-policy, escape-route, PID 1 and stress suites run under notify too (helpers/fixture.ts
// MECHANISMS); these tests cover what only it does.

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
  test("the application is not followed: no tracer in its processes once they run, every exec still reported", async () => {
    const r = await notify(["sh", "-c", "grep TracerPid /proc/self/status; sh -c 'grep TracerPid /proc/self/status'"], fx.allowlist);
    expectExit(r, 0);
    expect(r.stdout.trim().split("\n"), describeRun(r)).toEqual(["TracerPid:\t0", "TracerPid:\t0"]);
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" ? start.mechanisms : undefined).toMatchObject({ ptrace: true, landlock: 0, seccomp: true, notify: true });
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

  test("exec protections work under notify: a dropped program is refused as drift, the image's run", async () => {
    const tree = makeTempDir("notify-drift");
    try {
      const policy = fx.allowlist.replace(/\nend\n$/, `\nexec.allow ${tree.path}/**\nexec.drift block\nend\n`);
      const mNew = tree.join("new-ran"), mOld = fx.markerPath("notify-drift-old");
      // fx.allowed was written before the run (the fixture's set-up); `new` is written during it
      const script = `cp ${probe("marker")} ${tree.join("new")} && ${tree.join("new")} ${mNew}; echo "new=$?"; ${fx.allowed} ${mOld}; echo "old=$?"`;
      const r = await notify(["sh", "-c", script], policy);
      expectExit(r, 0);
      expect(r.stdout, describeRun(r)).toMatch(/^new=126$/m);
      expectDidNotRun(mNew, r);
      expect(r.stdout, describeRun(r)).toMatch(/^old=0$/m);
      expectRan(mOld, r);
      expect(blockedExecs(r.events).map((e) => [e.exe, e.rule, e.mechanism]), describeExecs(r.events)).toEqual([
        [tree.join("new"), "exec.drift", "notify"],
      ]);
    } finally {
      tree.remove();
    }
  });

  test("after a chroot, the program the kernel runs is judged, whatever the path named", async () => {
    // /inner exists only inside the new root: it is judged at its exec event as the file it is
    // (outside the allow list), and refused; an allowed program still runs.
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
    ["a files rule", "files.readOnly /etc/**", /files\.\* and network\.\* rules are checked on processes followed all the time/],
    ["a network rule", "network.connect.deny 10.0.0.0/8", /files\.\* and network\.\* rules are checked on processes followed all the time/],
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
