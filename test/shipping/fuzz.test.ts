// The parsers of what the console (and the ECS metadata endpoint) send the enforcer, under libFuzzer
// with ASan/UBSan, 10 s each (enforcer/tests/fuzz/run.sh SECONDS TARGET): HTTP responses, JSON
// fields and console URLs, CA bundles.

import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { FUZZ_SCRIPT } from "../enforcer/helpers/paths.js";

for (const target of ["http", "json", "trust"]) {
  test(`fuzz_${target} finds nothing in 10 s`, () => {
    const r = spawnSync(FUZZ_SCRIPT, ["10", target], { encoding: "utf8", timeout: 240_000, killSignal: "SIGKILL" });
    const output = `${r.stdout}\n${r.stderr}`;
    expect(r.error, output.slice(-4000)).toBeUndefined();
    expect(r.status, output.slice(-4000)).toBe(0);
    expect(output).toMatch(/Done \d+ runs in \d+ second/);
  }, 300_000);
}
