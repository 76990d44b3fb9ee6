import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { freshDir, run } from "./helpers.js";

const fixtures = fileURLToPath(new URL("../fixtures/policies/", import.meta.url));
const webYaml = readFileSync(join(fixtures, "web.yaml"), "utf8");
const webCompiled = readFileSync(join(fixtures, "web.compiled"), "utf8");
const badPolicy = "apiVersion: vigil/v1\nkind: Policy\nspec:\n  exec:\n    deny: [usr/bin/nc]\n    alow: []\n";

describe("vigil policy compile", () => {
  test("writes the compiled policy to stdout", async () => {
    expect(await run(["policy", "compile", join(fixtures, "web.yaml")])).toEqual({ code: 0, stdout: webCompiled, stderr: "" });
    expect(await run(["policy", "compile", "web.yaml", "-o", "-"], { cwd: fixtures })).toEqual({ code: 0, stdout: webCompiled, stderr: "" });
  });

  test("reads stdin for -", async () => {
    const result = await run(["policy", "compile", "-"], { stdin: webYaml });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(webCompiled.replace("from web.yaml", "from stdin"));
  });

  test("reports every error with file, position and field, and exits 2", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "bad.yaml"), badPolicy);
    expect(await run(["policy", "compile", "bad.yaml"], { cwd: dir })).toEqual({
      code: 2,
      stdout: "",
      stderr: [
        'vigil: error: bad.yaml:5:12: error: spec.exec.deny[0]: must be an absolute path (start with "/"); received "usr/bin/nc"',
        "        deny: [usr/bin/nc]",
        "               ^~~~~~~~~~",
        'bad.yaml:6:5: error: spec.exec.alow: unknown key; did you mean "allow"? (expected one of: allow, deny, drift, fileless, loader, reverseShell)',
        "        alow: []",
        "        ^~~~",
        "2 errors in bad.yaml",
        "fix the policy and run again (`vigil policy check FILE` lists every problem; the format is in README.md, section Policy)",
        "",
      ].join("\n"),
    });
  });

  test("a missing input file is a user error", async () => {
    const result = await run(["policy", "compile", "/nonexistent/p.yaml"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("cannot read policy /nonexistent/p.yaml: no such file");
  });

  test("bad usage is a user error", async () => {
    expect((await run(["policy", "compile"])).code).toBe(2);
    expect((await run(["policy", "compile", "a", "b"])).code).toBe(2);
    expect((await run(["policy", "compile", "a", "-o"])).code).toBe(2);
    expect((await run(["policy", "compile", "--frob", "a"])).code).toBe(2);
  });
});

describe("vigil policy compile -o (atomic)", () => {
  test("writes the file and leaves nothing else", async () => {
    const dir = freshDir();
    expect(await run(["policy", "compile", join(fixtures, "web.yaml"), "-o", "out.policy"], { cwd: dir })).toEqual({
      code: 0,
      stdout: "",
      stderr: "",
    });
    expect(readFileSync(join(dir, "out.policy"), "utf8")).toBe(webCompiled);
    expect(readdirSync(dir)).toEqual(["out.policy"]);
  });

  test("an invalid policy creates no output file and keeps an existing one intact", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "bad.yaml"), badPolicy);
    expect((await run(["policy", "compile", "bad.yaml", "-o", "new.policy"], { cwd: dir })).code).toBe(2);
    expect(existsSync(join(dir, "new.policy"))).toBe(false);

    writeFileSync(join(dir, "old.policy"), "previous content\n");
    expect((await run(["policy", "compile", "bad.yaml", "-o", "old.policy"], { cwd: dir })).code).toBe(2);
    expect(readFileSync(join(dir, "old.policy"), "utf8")).toBe("previous content\n");
    expect(readdirSync(dir).sort()).toEqual(["bad.yaml", "old.policy"]);
  });

  test("a write that fails leaves no partial or temporary file", async () => {
    const dir = freshDir();
    // The target is a directory: the temporary file is written, the rename fails.
    mkdirSync(join(dir, "target"));
    writeFileSync(join(dir, "target", "keep"), "");
    const result = await run(["policy", "compile", join(fixtures, "web.yaml"), "-o", "target"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("cannot write target");
    expect(readdirSync(dir)).toEqual(["target"]);

    const missing = await run(["policy", "compile", join(fixtures, "web.yaml"), "-o", "no/such/dir/out"], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cannot write no/such/dir/out (ENOENT)");
  });
});
