// `vigil exec` and `vigil demo` against the real enforcer binary that `npm run build` produces.
// These tests fail (never skip) when the binary is missing.

import { spawn } from "node:child_process";
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { locateEnforcer, PACKAGE_ROOT } from "../../src/runner/locate-enforcer.js";
import { freshDir, run } from "./helpers.js";

const CLI = join(PACKAGE_ROOT, "dist", "cli", "main.js");

beforeAll(() => {
  try {
    locateEnforcer(process.env);
  } catch (error) {
    throw new Error(
      `these tests need the enforcer binary: ${error instanceof Error ? error.message : String(error)}. Run \`npm run build\` first (scripts/test.sh does it).`,
    );
  }
});

function policyFile(dir: string, execSpec: string): string {
  const path = join(dir, "policy.yaml");
  writeFileSync(path, `apiVersion: vigil/v1\nkind: Policy\nmetadata: { name: t }\nspec:\n  exec:\n${execSpec}`);
  return path;
}

describe("vigil exec passes the command's exit status through", () => {
  test.each([
    ["exit 0", 0],
    ["exit 7", 7],
    ["exit 255", 255],
    ["kill -TERM $$", 143],
    ["kill -KILL $$", 137],
  ])("sh -c %j ends with %i", async (script, code) => {
    const tmp = freshDir();
    const result = await run(["exec", "--", "sh", "-c", script], { env: { TMPDIR: tmp } });
    expect(result.code, result.stderr).toBe(code);
    expect(readdirSync(tmp), "temporary files left behind").toEqual([]);
  });

  test("a command that does not exist ends with 127", async () => {
    expect((await run(["exec", "--", "/nonexistent/command"])).code).toBe(127);
  });

  test("stdout and stderr of the command come through", async () => {
    const result = await run(["exec", "--events", "/dev/null", "--", "sh", "-c", "echo out; echo err >&2"]);
    expect(result).toMatchObject({ code: 0, stdout: "out\n" });
    expect(result.stderr).toContain("err\n");
  });
});

describe("vigil exec --policy", () => {
  test("a denied program ends with 126, and runs in --audit mode", async () => {
    const dir = freshDir();
    const tmp = freshDir();
    const policy = policyFile(dir, '    deny: ["/usr/bin/perl*"]\n');
    const blocked = await run(["exec", "--policy", policy, "--", "perl", "-e", "exit 3"], { env: { TMPDIR: tmp } });
    expect(blocked.code, blocked.stderr).toBe(126);
    const audited = await run(["exec", "--policy", policy, "--audit", "--", "perl", "-e", "exit 3"], { env: { TMPDIR: tmp } });
    expect(audited.code, audited.stderr).toBe(3);
    expect(readdirSync(tmp), "the compiled policy was not removed").toEqual([]);
  });

  test("an already compiled policy is used as it is", async () => {
    const dir = freshDir();
    const compiled = join(dir, "p.compiled");
    writeFileSync(compiled, "vigil-policy 1\nmode enforce\nexec.deny /usr/bin/perl*\nend\n");
    const result = await run(["exec", "--policy", compiled, "--", "perl", "-e", "exit 3"]);
    expect(result.code, result.stderr).toBe(126);
  });

  test("an invalid policy is a user error and the command never runs", async () => {
    const dir = freshDir();
    const policy = policyFile(dir, '    deny: ["perl"]\n');
    const marker = join(dir, "ran");
    const result = await run(["exec", "--policy", policy, "--", "touch", marker]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('policy.yaml:6:12: error: spec.exec.deny[0]: must be an absolute path');
    expect(existsSync(marker)).toBe(false);
  });
});

describe("the vigil executable", () => {
  test("forwards SIGTERM to the command and removes its temporary policy", async () => {
    expect(existsSync(CLI), `${CLI} is missing: run \`npm run build\``).toBe(true);
    const dir = freshDir();
    const tmp = freshDir();
    const policy = policyFile(dir, '    allow: ["/bin/*", "/usr/bin/*"]\n');
    const child = spawn(process.execPath, [CLI, "exec", "--policy", policy, "--", "sleep", "30"], {
      env: { ...process.env, TMPDIR: tmp },
      stdio: "ignore",
    });
    const ended = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    for (let i = 0; i < 100 && readdirSync(tmp).length === 0; i++) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 300));
    child.kill("SIGTERM");
    expect(await ended).toBe(143);
    expect(readdirSync(tmp)).toEqual([]);
  });
});

describe("vigil demo", () => {
  test("shows an allowed and a blocked exec, and leaves no files behind", async () => {
    const tmp = freshDir();
    const result = await run(["demo"], { env: { TMPDIR: tmp } });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/ALLOWED +exec +\/usr\/bin\/uname/);
    expect(result.stdout).toMatch(/BLOCKED +exec +\/usr\/bin\/perl\S* .*rule exec\.deny\[0\] \(\/usr\/bin\/perl\*\)/);
    expect(result.stdout).toContain('{"vigil":1,');
    expect(readdirSync(tmp)).toEqual([]);
  });
});
