import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { HELP } from "../../src/cli/help.js";
import { VIGIL_VERSION } from "../../src/version.js";
import { run } from "./helpers.js";

describe("vigil --version and help", () => {
  test("the version is package.json's", async () => {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string };
    expect(VIGIL_VERSION).toBe(pkg.version);
    expect(await run(["--version"])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: "" });
  });

  test("help lists every command", async () => {
    const result = await run(["help"]);
    expect(result.code).toBe(0);
    for (const command of ["vigil demo", "vigil exec", "vigil policy compile", "vigil --version"]) {
      expect(result.stdout).toContain(command);
    }
    expect(result.stdout).toBe(HELP);
  });

  test("no command is a user error that shows the help", async () => {
    expect(await run([])).toEqual({ code: 2, stdout: "", stderr: HELP });
  });

  test("an unknown command says what to do", async () => {
    expect(await run(["frobnicate"])).toEqual({
      code: 2,
      stdout: "",
      stderr: 'vigil: error: unknown command "frobnicate"\nrun `vigil help` for the list of commands\n',
    });
    expect((await run(["policy", "frob"])).stderr).toContain('policy: unknown command "frob"');
  });
});
