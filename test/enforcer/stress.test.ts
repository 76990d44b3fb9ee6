// Load without leaks: 2,000 fork+exec+wait under the enforcer in every mechanism configuration.
// The enforcer must decide every exec, keep its memory and descriptors flat, leave no process
// behind and exit cleanly, in bounded time.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectExit, validateEventsAfterEach } from "./helpers/assert.js";
import { execEventsFor } from "./helpers/events.js";
import { MECHANISMS, makeExecFixture } from "./helpers/fixture.js";
import type { ExecFixture } from "./helpers/fixture.js";
import { ensureBuilt, probe } from "./helpers/paths.js";
import { procStatus } from "./helpers/processes.js";
import type { ProcStatus } from "./helpers/processes.js";
import { describeRun, startEnforcer } from "./helpers/run.js";

validateEventsAfterEach();

const N = 2000;

let fx: ExecFixture;
beforeAll(() => {
  ensureBuilt();
  fx = makeExecFixture();
});
afterAll(() => fx?.remove());

/**
 * The enforcer's status once it is idle: right after a marker line it may still be handling the
 * next exec (with a /proc file open for a moment), so take the fewest descriptors of a few samples.
 */
async function settledStatus(pid: number): Promise<ProcStatus> {
  const samples: ProcStatus[] = [];
  for (let i = 0; i < 5; i++) {
    await new Promise((r) => setTimeout(r, 50));
    samples.push(procStatus(pid));
  }
  const last = samples[samples.length - 1] as ProcStatus;
  return { ...last, fdCount: Math.min(...samples.map((s) => s.fdCount)) };
}

describe.each(MECHANISMS)("fork+exec loop, mechanism $label", ({ mechanism }) => {
  test(`${N} fork+exec+wait: all allowed, all reported, no leak, clean exit`, async () => {
    const loop = `${probe("fork-loop")} ${N} ${probe("exit-with")} 0`;
    const run = startEnforcer({
      mechanism,
      policy: fx.allowlist,
      // Warm up, pause (sample), the real loop, pause (sample), then exit.
      command: ["sh", "-c", `${probe("fork-loop")} 200 ${probe("exit-with")} 0 && echo warm && sleep 1 && ${loop} && echo done && sleep 1`],
      timeoutMs: 120_000,
    });
    const enforcer = await run.enforcerPid();
    await run.waitForStdout(/^warm$/m, 60_000);
    const before: ProcStatus = await settledStatus(enforcer);
    await run.waitForStdout(/^done$/m, 100_000);
    const after: ProcStatus = await settledStatus(enforcer);
    const r = await run.result;
    expectExit(r, 0);
    expect(r.stdout).toContain(`fork-loop n=${N} failures=0`);
    expect(r.ms, "bounded time").toBeLessThan(100_000);
    // Every exec decided and reported exactly once: warm-up + loop.
    const execs = execEventsFor(r.events, probe("exit-with"));
    expect(execs.length, describeRun(r).slice(0, 2000)).toBe(200 + N);
    expect(new Set(execs.map((e) => e.verdict))).toEqual(new Set(["allowed"]));
    // No per-process state left in the enforcer.
    expect(after.fdCount, `fds before ${before.fdCount}, after ${after.fdCount}`).toBeLessThanOrEqual(before.fdCount);
    expect(after.vmRssKb - before.vmRssKb, `RSS before ${before.vmRssKb} kB, after ${after.vmRssKb} kB`).toBeLessThan(1024);
    expect(after.threads).toBe(before.threads);
  }, 130_000);
});
