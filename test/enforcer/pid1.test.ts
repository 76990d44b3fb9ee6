// PID 1 duties (docs/enforcer-cli.md exit codes; research anchors §4.1): reaping orphans, forwarding
// signals, passing the application's exit status through, 126/127 when the command cannot run, and
// the subreaper role when the enforcer is not PID 1.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectCleanRun, expectExit, validateEventsAfterEach } from "./helpers/assert.js";
import { lifecycle } from "./helpers/events.js";
import { MECHANISMS, makeExecFixture } from "./helpers/fixture.js";
import type { ExecFixture } from "./helpers/fixture.js";
import { ensureBuilt, probe } from "./helpers/paths.js";
import { describeRun, runEnforcer, startEnforcer } from "./helpers/run.js";
import type { RunResult } from "./helpers/run.js";

validateEventsAfterEach();

let fx: ExecFixture;
beforeAll(() => {
  ensureBuilt();
  fx = makeExecFixture();
});
afterAll(() => fx?.remove());

function orphanParents(r: RunResult): number[] {
  return [...r.stdout.matchAll(/^orphan pid=\d+ reparented-to=(\d+)$/gm)].map((m) => Number(m[1]));
}

describe("as PID 1 of a PID namespace", () => {
  test("orphaned grandchildren are re-parented to the enforcer and reaped (no zombies left)", async () => {
    const r = await runEnforcer({ pidNamespace: true, command: [probe("zombie-maker"), "50"], timeoutMs: 30_000 });
    expectExit(r, 0);
    const parents = orphanParents(r);
    expect(parents, describeRun(r)).toHaveLength(50);
    expect(new Set(parents)).toEqual(new Set([1]));
    expect(r.stdout).toMatch(/^zombies=0$/m);
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" ? start.pid1 : undefined).toBe(true);
  });

  test("a shell's background jobs that outlive it do not stay zombies", async () => {
    // sh exits at once while its background children live on as orphans of PID 1. Whatever the
    // enforcer does with them (wait or end them), it exits with the application's status, in time.
    const r = await runEnforcer({ pidNamespace: true, command: ["sh", "-c", "sleep 0.2 & sleep 0.2 & exit 3"], timeoutMs: 20_000 });
    expectExit(r, 3);
  });

  test("TERM INT HUP QUIT USR1 USR2 WINCH are each forwarded to the application", async () => {
    const run = startEnforcer({ pidNamespace: true, command: [probe("sig-report")], timeoutMs: 30_000 });
    await run.waitForStdout(/^ready$/m);
    const enforcer = await run.enforcerPid();
    for (const sig of ["SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH", "SIGTERM"] as const) {
      process.kill(enforcer, sig);
      await run.waitForStdout(new RegExp(`^got ${sig}$`, "m"), 5_000);
    }
    const r = await run.result;
    expectExit(r, 0);
    expect(r.stdout.split("\n").filter((l) => l.startsWith("got "))).toEqual([
      "got SIGINT",
      "got SIGHUP",
      "got SIGQUIT",
      "got SIGUSR1",
      "got SIGUSR2",
      "got SIGWINCH",
      "got SIGTERM",
    ]);
  });

  test("the application's exit status 0..255 is passed through", async () => {
    const codes = Array.from({ length: 256 }, (_, i) => i);
    const failures: string[] = [];
    const batch = 8;
    for (let i = 0; i < codes.length; i += batch) {
      const results = await Promise.all(
        codes.slice(i, i + batch).map(async (code) => ({
          code,
          r: await runEnforcer({ pidNamespace: true, command: [probe("exit-with"), String(code)], timeoutMs: 20_000 }),
        })),
      );
      for (const { code, r } of results) {
        expectCleanRun(r);
        if (r.code !== code) failures.push(`exit-with ${code} -> ${String(r.code)}: ${r.stderr.trim()}`);
      }
    }
    expect(failures).toEqual([]);
  }, 120_000);

  test.each([
    ["HUP", 1],
    ["INT", 2],
    ["QUIT", 3],
    ["ABRT", 6],
    ["KILL", 9],
    ["USR1", 10],
    ["SEGV", 11],
    ["TERM", 15],
  ] as const)("an application killed by SIG%s gives 128+%d", async (sig, n) => {
    const r = await runEnforcer({ pidNamespace: true, command: [probe("kill-self"), sig] });
    expectExit(r, 128 + n);
    const exit = lifecycle(r.events, "exit")[0];
    expect(exit?.event === "exit" ? exit.status : undefined).toBe(128 + n);
  });
});

describe.each(MECHANISMS)("command that cannot run, mechanism $label", ({ mechanism }) => {
  test("a file without the execute bit gives 126 (as PID 1 and not)", async () => {
    for (const pidNamespace of [true, false]) {
      const r = await runEnforcer({ mechanism, pidNamespace, policy: fx.allowlist, command: [fx.notExecutable] });
      expectExit(r, 126);
      expect(r.stdout).not.toContain("should not run");
      expect(r.stderr).toContain("not-executable");
    }
  });

  test("a missing file or command gives 127 (as PID 1 and not)", async () => {
    for (const pidNamespace of [true, false]) {
      const r1 = await runEnforcer({ mechanism, pidNamespace, policy: fx.allowlist, command: [fx.root.join("bin/no-such-file")] });
      expectExit(r1, 127);
      const r2 = await runEnforcer({ mechanism, pidNamespace, policy: fx.allowlist, command: ["no-such-command-vigil"] });
      expectExit(r2, 127);
      expect(r2.stderr).toContain("no-such-command-vigil");
    }
  });

  test("a directory as the command gives 126", async () => {
    const r = await runEnforcer({ mechanism, policy: fx.allowlist, command: [fx.root.join("bin")] });
    expectExit(r, 126);
  });
});

describe("not PID 1", () => {
  test("orphans are re-parented to the enforcer (child subreaper) and reaped", async () => {
    const run = startEnforcer({ command: [probe("zombie-maker"), "20"], timeoutMs: 30_000 });
    const enforcer = await run.enforcerPid();
    const r = await run.result;
    expectExit(r, 0);
    const parents = orphanParents(r);
    expect(parents, describeRun(r)).toHaveLength(20);
    expect(new Set(parents)).toEqual(new Set([enforcer]));
    expect(r.stdout).toMatch(/^zombies=0$/m);
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" ? [start.pid1, start.subreaper] : undefined).toEqual([false, true]);
  });

  test("signals are forwarded too, and the status of a signal death is 128+N", async () => {
    const run = startEnforcer({ command: [probe("sig-report")], timeoutMs: 20_000 });
    await run.waitForStdout(/^ready$/m);
    process.kill(run.pid, "SIGUSR1");
    await run.waitForStdout(/^got SIGUSR1$/m, 5_000);
    process.kill(run.pid, "SIGTERM");
    const r = await run.result;
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^got SIGTERM$/m);
    const r2 = await runEnforcer({ command: [probe("kill-self"), "TERM"] });
    expectExit(r2, 143);
  });
});
