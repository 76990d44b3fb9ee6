// The enforcer's parsers under libFuzzer with ASan/UBSan (enforcer/tests/fuzz/run.sh): the compiled
// policy for ~20 s, then the parsers of attacker-written process state for ~10 s each.

import { spawnSync } from "node:child_process";
import { expect, test } from "vitest";
import { FUZZ_SCRIPT } from "./helpers/paths.js";

test.each([
  // the compiled-policy parser
  ["policy", 20],
  // a traced process's command line and environment (exec_identity.c)
  ["exec", 10],
])("fuzz_%s finds nothing in %i s", (target, seconds) => {
  const r = spawnSync(FUZZ_SCRIPT, [String(seconds), target], { encoding: "utf8", timeout: 240_000, killSignal: "SIGKILL" });
  const output = `${r.stdout}\n${r.stderr}`;
  expect(r.error, output.slice(-4000)).toBeUndefined();
  expect(r.status, output.slice(-4000)).toBe(0);
  expect(output).toMatch(/Done \d+ runs in \d+ second/);
}, 300_000);
