// The ASan/UBSan build of the enforcer through the scenarios most likely to expose memory errors:
// decisions in both mechanisms, the path-flip race, a fork+exec loop, orphan reaping, signal
// forwarding and a rejected policy. (Set VIGIL_TEST_ENFORCER to run every test with it.)

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectDidNotRun, expectExit, expectRan, validateEventsAfterEach } from "./helpers/assert.js";
import { blockedExecs } from "./helpers/events.js";
import { MECHANISMS, makeExecFixture } from "./helpers/fixture.js";
import type { ExecFixture } from "./helpers/fixture.js";
import { ASAN_ENFORCER, ensureAsanBuilt, ensureBuilt, probe } from "./helpers/paths.js";
import { compiledPolicy } from "./helpers/policy.js";
import { runEnforcer, startEnforcer } from "./helpers/run.js";

validateEventsAfterEach();

const enforcer = ASAN_ENFORCER;
let fx: ExecFixture;
beforeAll(() => {
  ensureBuilt();
  ensureAsanBuilt();
  fx = makeExecFixture();
}, 300_000);
afterAll(() => fx?.remove());

describe.each(MECHANISMS)("sanitizer build, mechanism $label", ({ mechanism }) => {
  test("allowed runs, denied is blocked, through a shell", async () => {
    const ok = fx.markerPath("asan-ok");
    const bad = fx.markerPath("asan-bad");
    const r = await runEnforcer({
      enforcer,
      mechanism,
      policy: fx.allowlist,
      command: ["sh", "-c", `${fx.allowed} ${ok}; ${fx.denied} ${bad}; ${probe("thread-exec")} ${fx.denied} ${bad}; exit 0`],
    });
    expectExit(r, 0);
    expectRan(ok, r);
    expectDidNotRun(bad, r);
    expect(blockedExecs(r.events).length).toBeGreaterThanOrEqual(1);
  });

  test("path-flip race and a fork+exec loop", async () => {
    const m = fx.markerPath("asan-race");
    const policy = compiledPolicy({ allow: [`${fx.root.path}/**`, "/usr/bin/*", "/bin/*", probe("fork-loop"), probe("race-exec"), probe("exit-with")], deny: [fx.denied] });
    const r = await runEnforcer({
      enforcer,
      mechanism,
      policy,
      command: ["sh", "-c", `${probe("race-exec")} ${probe("exit-with")} ${fx.denied} 300 ${m} vfork && ${probe("fork-loop")} 300 ${probe("exit-with")} 0`],
      timeoutMs: 120_000,
    });
    expectExit(r, 0);
    expectDidNotRun(m, r);
    expect(r.stdout).toContain("fork-loop n=300 failures=0");
  }, 130_000);
});

describe("sanitizer build as PID 1", () => {
  test("orphans reaped, signals forwarded", async () => {
    const z = await runEnforcer({ enforcer, pidNamespace: true, command: [probe("zombie-maker"), "20"] });
    expectExit(z, 0);
    expect(z.stdout).toMatch(/^zombies=0$/m);
    const run = startEnforcer({ enforcer, pidNamespace: true, command: [probe("sig-report")] });
    await run.waitForStdout(/^ready$/m);
    const pid = await run.enforcerPid();
    process.kill(pid, "SIGHUP");
    await run.waitForStdout(/^got SIGHUP$/m, 5_000);
    process.kill(pid, "SIGTERM");
    expectExit(await run.result, 0);
  });

  test("a bad policy is rejected", async () => {
    const m = fx.markerPath("asan-policy");
    const r = await runEnforcer({ enforcer, policy: "vigil-policy 1\nexec.allow relative\nend\n", command: [probe("marker"), m] });
    expectExit(r, 2);
    expect(r.stderr).toMatch(/^vigil-enforcer: policy:2: /m);
    expectDidNotRun(m, r);
  });
});
