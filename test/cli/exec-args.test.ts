import { describe, expect, test } from "vitest";
import { enforcerArgs, parseExecArgs } from "../../src/cli/commands/exec.js";
import { run } from "./helpers.js";

describe("vigil exec arguments", () => {
  test("passes exactly these flags to the enforcer", () => {
    const args = parseExecArgs(["--policy", "p.yaml", "--audit", "--events", "fd:3", "--mechanism=seccomp", "--fail-open", "--", "nginx", "-g", "daemon off;"]);
    expect(enforcerArgs(args, "/tmp/x/policy")).toEqual([
      "--policy", "/tmp/x/policy", "--audit", "--events", "fd:3", "--mechanism", "seccomp", "--fail-open", "--", "nginx", "-g", "daemon off;",
    ]);
    expect(enforcerArgs(parseExecArgs(["--", "true"]), null)).toEqual(["--", "true"]);
  });

  test("the first non-option starts the command, like the enforcer", () => {
    expect(parseExecArgs(["--audit", "sh", "-c", "--", "x"]).command).toEqual(["sh", "-c", "--", "x"]);
    expect(parseExecArgs(["--", "--weird-name"]).command).toEqual(["--weird-name"]);
  });

  test.each([
    [[], "exec: no command given"],
    [["--policy"], "exec: --policy needs a value"],
    [["--mechanism", "magic", "--", "true"], 'exec: --mechanism must be one of auto, landlock, seccomp; received "magic"'],
    [["--polcy", "p", "--", "true"], "exec: unknown option --polcy"],
  ])("%j is a user error", async (argv, message) => {
    const result = await run(["exec", ...argv]);
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(`vigil: error: ${message}`);
  });
});
