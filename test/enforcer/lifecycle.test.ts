// The lifecycle events and the small modes of the command line (docs/events.md, enforcer-cli.md).

import { createHash } from "node:crypto";
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
