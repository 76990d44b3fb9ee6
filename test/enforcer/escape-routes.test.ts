// Escape routes around tracing (docs/enforcer-cli.md "Mechanisms"; research anchors §2 rows 9-12):
// CLONE_UNTRACED, clone3, the i386 `int $0x80` ABI and an application's own seccomp USER_NOTIF
// listener. In every mechanism configuration the denied program must never run; the allowed one
// must still run through the same route wherever the route itself is left open.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectCleanRun, expectDidNotRun, expectRan, validateEventsAfterEach } from "./helpers/assert.js";
import { MECHANISMS, makeExecFixture } from "./helpers/fixture.js";
import type { ExecFixture } from "./helpers/fixture.js";
import { ensureBuilt, probe } from "./helpers/paths.js";
import { describeRun, runEnforcer } from "./helpers/run.js";
import type { RunResult } from "./helpers/run.js";

validateEventsAfterEach();

const SIGSYS_EXIT = 128 + 31;

let fx: ExecFixture;
beforeAll(() => {
  ensureBuilt();
  fx = makeExecFixture();
});
afterAll(() => fx?.remove());

interface Route {
  name: string;
  argv: (target: string) => string[];
  /** What the seccomp mechanism is documented to answer when it closes the route. */
  seccompClosesWith?: RegExp;
  /** The route was open in this run: the probe got past its set-up step. */
  opened: (r: RunResult) => boolean;
}

const allRoutes: Route[] = [
  {
    name: "clone(CLONE_UNTRACED) then exec",
    argv: (t) => [probe("untraced-exec"), t],
    seccompClosesWith: /^clone errno=EPERM$/m,
    opened: (r) => /^clone ok$/m.test(r.stdout),
  },
  {
    name: "clone3 then exec",
    argv: (t) => [probe("clone3-exec"), t],
    seccompClosesWith: /^clone3 errno=ENOSYS$/m,
    opened: (r) => /^clone3 ok$/m.test(r.stdout),
  },
  {
    name: "clone3(CLONE_UNTRACED) then exec",
    argv: (t) => [probe("clone3-exec"), "--untraced", t],
    seccompClosesWith: /^clone3 errno=ENOSYS$/m,
    opened: (r) => /^clone3 ok$/m.test(r.stdout),
  },
  {
    name: "execve through int $0x80 (i386 ABI)",
    argv: (t) => [probe("int80-exec"), t],
    // Not closed by contract: exec is decided at the exec event whatever the ABI. A filter that
    // refuses foreign ABIs outright (ENOSYS/EPERM or SIGSYS) is accepted as a closed route.
    opened: (r) => !/^exec errno=(ENOSYS|EPERM)$/m.test(r.stdout) && r.code !== SIGSYS_EXIT,
  },
  {
    name: "own seccomp USER_NOTIF listener answering CONTINUE, then exec",
    argv: (t) => [probe("listener-exec"), t],
    opened: (r) => /^listener ok$/m.test(r.stdout),
  },
  {
    name: "clone(CLONE_UNTRACED) + own USER_NOTIF listener, then exec",
    argv: (t) => [probe("listener-exec"), "--untraced", t],
    seccompClosesWith: /^clone errno=EPERM$/m,
    opened: (r) => /^clone ok$/m.test(r.stdout) && /^listener ok$/m.test(r.stdout),
  },
];

// `int $0x80` exists on x86_64 only.
const routes = allRoutes.filter((r) => process.arch === "x64" || !r.name.includes("int $0x80"));

describe.each(MECHANISMS)("escape routes, mechanism $label", ({ mechanism }) => {
  describe.each(routes)("$name", (route) => {
    const targets = [
      { how: "by its path", target: (f: ExecFixture) => f.denied },
      { how: "through a hard link in an allowed directory", target: (f: ExecFixture) => f.hardDenied },
      { how: "through a symlink", target: (f: ExecFixture) => f.symDenied },
    ];
    const policies = [
      { kind: "allowlist", policy: (f: ExecFixture) => f.allowlist },
      { kind: "deny-only", policy: (f: ExecFixture) => f.denylist },
    ];
    test.each(policies.flatMap((p) => targets.map((t) => ({ ...p, ...t }))))(
      "the denied program never runs ($how, $kind policy)",
      async ({ target, policy }) => {
        const m = fx.markerPath("escape-denied");
        const r = await runEnforcer({ mechanism, policy: policy(fx), command: route.argv(target(fx)).concat(m), timeoutMs: 20_000 });
        expectCleanRun(r);
        expectDidNotRun(m, r);
        expect(r.stdout, describeRun(r)).not.toContain("marker ran");
        expect(r.code, describeRun(r)).not.toBe(0);
        if (mechanism === "seccomp" && route.seccompClosesWith !== undefined) {
          expect(r.stdout, describeRun(r)).toMatch(route.seccompClosesWith);
        }
      },
    );

    test("the allowed program runs where the route is open", async () => {
      const m = fx.markerPath("escape-allowed");
      const r = await runEnforcer({ mechanism, policy: fx.allowlist, command: route.argv(fx.allowed).concat(m), timeoutMs: 20_000 });
      expectCleanRun(r);
      if (mechanism === "seccomp" && route.seccompClosesWith !== undefined) {
        // Documented: the seccomp mechanism closes this route for everyone.
        expect(r.stdout, describeRun(r)).toMatch(route.seccompClosesWith);
        expectDidNotRun(m, r);
        return;
      }
      if (mechanism === "auto") {
        // Nothing but Landlock is in the way in this configuration: every route is open.
        expect(route.opened(r), `route unexpectedly closed\n${describeRun(r)}`).toBe(true);
      }
      if (route.opened(r)) {
        expectRan(m, r);
        expect(r.code, describeRun(r)).toBe(0);
      } else {
        expectDidNotRun(m, r);
      }
    });
  });
});
