// The lifecycle events and the small modes of the command line (docs/events.md, enforcer-cli.md).

import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectExit, validateEventsAfterEach } from "./helpers/assert.js";
import { execEvents, lifecycle } from "./helpers/events.js";
import { ensureBuilt, probe } from "./helpers/paths.js";
import { compiledPolicy } from "./helpers/policy.js";
import { runEnforcer } from "./helpers/run.js";
import { makeTempDir } from "./helpers/tmp.js";
import type { TempDir } from "./helpers/tmp.js";

validateEventsAfterEach();

let tmp: TempDir;
beforeAll(() => {
  ensureBuilt();
  tmp = makeTempDir("lifecycle");
});
afterAll(() => tmp?.remove());

describe("lifecycle events", () => {
  test("start names the policy by SHA-256 of its bytes, its name and mode; exit gives the status", async () => {
    const policy = compiledPolicy({ name: "hash-me", mode: "audit", allow: ["/**"] });
    const r = await runEnforcer({ policy, command: [probe("exit-with"), "5"] });
    expectExit(r, 5);
    const start = lifecycle(r.events, "start")[0];
    if (start?.event !== "start") throw new Error(`no start event:\n${r.eventsText}`);
    expect(start.policy).toBe(createHash("sha256").update(policy).digest("hex"));
    expect(start.policyName).toBe("hash-me");
    expect(start.mode).toBe("audit");
    expect(start.argv).toEqual([probe("exit-with"), "5"]);
    const exit = lifecycle(r.events, "exit")[0];
    expect(exit?.event === "exit" ? exit.status : undefined).toBe(5);
    // start first, exit last, the exec in between
    expect(r.events[0]).toBe(start);
    expect(r.events.at(-1)).toBe(exit);
    expect(execEvents(r.events)).toHaveLength(1);
  });

  test("keys accepted but not enforced are listed in notEnforced, enforced ones are not", async () => {
    // docs/compiled-policy.md "Keys": every key of format 1 is enforced today (files.* and
    // network.* since the file and network checks), so notEnforced is empty.
    const policy =
      "vigil-policy 1\nexec.drift block\nfiles.readOnly /etc/**\nnetwork.listen.allow 80\nselfProtection on\nend\n";
    const r = await runEnforcer({ policy, command: [probe("exit-with"), "0"] });
    expectExit(r, 0);
    const start = lifecycle(r.events, "start")[0];
    if (start?.event !== "start") throw new Error(`no start event:\n${r.eventsText}`);
    expect(start.notEnforced).toEqual([]);
  });

  test("--noop exits 0 at once without running anything", async () => {
    const m = tmp.join("noop-marker");
    const r = await runEnforcer({ raw: true, command: ["--noop", probe("marker"), m] });
    expectExit(r, 0);
    expect(r.stdout).toBe("");
  });

  test("--version prints a version and exits 0; an unknown option is a usage error (2)", async () => {
    const v = await runEnforcer({ raw: true, command: ["--version"] });
    expectExit(v, 0);
    expect(v.stdout + v.stderr).toMatch(/\d+\.\d+\.\d+/);
    const bad = await runEnforcer({ raw: true, command: ["--no-such-option", probe("exit-with"), "0"] });
    expectExit(bad, 2);
    const none = await runEnforcer({ raw: true, command: [] });
    expectExit(none, 2);
  });

  test("options end at the first non-option: the command's own flags are passed through", async () => {
    const r = await runEnforcer({ raw: true, command: ["--events", "fd:3", "sh", "-c", 'echo "$0 $1"', "--policy", "x"] });
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe("--policy x");
  });
});

describe("the tracer's CPU (VIGIL_TRACER_CPU)", () => {
  // Cpus_allowed_list of a process: "0-1", "0", "0,2-3"...
  const cpusOf = (status: string, who: string): string => {
    const m = /^Cpus_allowed_list:\s*(\S+)$/m.exec(status);
    if (!m?.[1]) throw new Error(`no Cpus_allowed_list for ${who}:\n${status}`);
    return m[1];
  };
  const ours = (): string => cpusOf(readFileSync("/proc/self/status", "utf8"), "the test");
  const count = (list: string): number =>
    list.split(",").reduce((n, part) => {
      const [a, b] = part.split("-").map(Number);
      return n + (b === undefined ? 1 : b - (a ?? 0) + 1);
    }, 0);
  // The application prints its own CPUs, then its parent's (the enforcer, whose main thread traces).
  const show = ["sh", "-c", "grep Cpus_allowed_list /proc/self/status; grep Cpus_allowed_list /proc/$PPID/status"];

  test.runIf(count(ours()) >= 2)("pinned by default: the tracer on one CPU, the application on all of its own", async () => {
    const r = await runEnforcer({ command: show });
    expectExit(r, 0);
    const [app, enforcer] = r.stdout.trim().split("\n");
    expect(cpusOf(app ?? "", "the application")).toBe(ours());
    expect(count(cpusOf(enforcer ?? "", "the enforcer"))).toBe(1);
  });

  test("float: the tracer keeps every CPU it had", async () => {
    const r = await runEnforcer({ command: show, env: { VIGIL_TRACER_CPU: "float" } });
    expectExit(r, 0);
    const [app, enforcer] = r.stdout.trim().split("\n");
    expect(cpusOf(app ?? "", "the application")).toBe(ours());
    expect(cpusOf(enforcer ?? "", "the enforcer")).toBe(ours());
  });
});
