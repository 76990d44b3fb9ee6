// The compiled-policy parser under libFuzzer with ASan/UBSan for ~20 s (enforcer/tests/fuzz/run.sh).

import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { FUZZ_SCRIPT } from "./helpers/paths.js";

test("fuzz_policy finds nothing in 20 s", () => {
  const r = spawnSync(FUZZ_SCRIPT, ["20"], { encoding: "utf8", timeout: 240_000, killSignal: "SIGKILL" });
  const output = `${r.stdout}\n${r.stderr}`;
  expect(r.error, output.slice(-4000)).toBeUndefined();
  expect(r.status, output.slice(-4000)).toBe(0);
  expect(output).toMatch(/Done \d+ runs in \d+ second/);
}, 300_000);

// The parsers of a traced process's command line and environment (exec_identity.c), ~10 s.
test("fuzz_exec finds nothing in 10 s", () => {
  const r = spawnSync(FUZZ_SCRIPT, ["10", "exec"], { encoding: "utf8", timeout: 240_000, killSignal: "SIGKILL" });
  const output = `${r.stdout}\n${r.stderr}`;
  expect(r.error, output.slice(-4000)).toBeUndefined();
  expect(r.status, output.slice(-4000)).toBe(0);
  expect(output).toMatch(/Done \d+ runs in \d+ second/);
}, 300_000);
