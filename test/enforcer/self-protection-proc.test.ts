// selfProtection: the application cannot write the enforcer's /proc entries (docs/security-review.md
// row 11). As PID 1 of a PID namespace (a container's layout), a root application tries to make the
// enforcer the OOM killer's first victim (`echo 1000 > /proc/1/oom_score_adj`) by every name of
// the file: /proc/1, /proc/self/.., a working directory or a directory descriptor on /proc/1, the
// task directory, a symlink. Each write is refused (EPERM, a `file` event with rule
// selfProtection) with and without Landlock; the application's own /proc/self/oom_score_adj
// stays writable, and selfProtection off lets the write through.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectExit, validateEventsAfterEach } from "./helpers/assert.js";
import { lifecycle } from "./helpers/events.js";
import type { VigilEvent } from "./helpers/events.js";
import { ENFORCER, ensureBuilt, probe } from "./helpers/paths.js";
import { runEnforcer } from "./helpers/run.js";
import type { RunResult } from "./helpers/run.js";
import { makeTempDir } from "./helpers/tmp.js";
import type { TempDir } from "./helpers/tmp.js";

validateEventsAfterEach();

let tmp: TempDir;
beforeAll(() => {
  ensureBuilt();
  tmp = makeTempDir("selfproc");
  mkdirSync(tmp.join("ro"));
  mkdirSync(tmp.join("work"));
  writeFileSync(tmp.join("ro/f"), "read-only\n");
});
afterAll(() => tmp?.remove());

// Each attempt prints NAME=written or NAME=refused; then the enforcer's and the application's values.
const SCRIPT = `
try() { name=$1; shift; if ( "$@" ) 2>/dev/null; then echo "$name=written"; else echo "$name=refused"; fi; }
try plain sh -c 'echo 1000 > /proc/1/oom_score_adj'
try legacy sh -c 'echo 15 > /proc/1/oom_adj'
try dotdot sh -c 'echo 1000 > /proc/self/../1/oom_score_adj'
try cwd sh -c 'cd /proc/1 && echo 1000 > oom_score_adj'
try task sh -c 'echo 1000 > /proc/1/task/1/oom_score_adj'
rm -f link; ln -s /proc/1/oom_score_adj link
try symlink sh -c 'echo 1000 > link'
try dirfd python3 -c 'import os; d = os.open("/proc/1", os.O_RDONLY); os.write(os.open("oom_score_adj", os.O_WRONLY, dir_fd=d), b"1000")'
try clear_refs sh -c 'echo 5 > /proc/1/clear_refs'
echo 500 > /proc/self/oom_score_adj; echo "own=$? $(cat /proc/self/oom_score_adj)"
echo "enforcer=$(cat /proc/1/oom_score_adj) $(cat /proc/1/oom_adj)"
`;
const ATTEMPTS = ["plain", "legacy", "dotdot", "cwd", "task", "symlink", "dirfd", "clear_refs"];

function policy(extra: readonly string[] = []): string {
  // files.readOnly: the write-opens are judged (selfProtection's check rides on them)
  return ["vigil-policy 1", `files.readOnly ${tmp.join("ro")}/**`, ...extra, "end", ""].join("\n");
}

type FileEvent = Extract<VigilEvent, { kind: "file" }>;
const fileEvents = (r: RunResult): FileEvent[] => r.events.filter((e): e is FileEvent => e.kind === "file");

async function asPid1(viaProbe: boolean, extra: readonly string[] = []): Promise<RunResult> {
  return runEnforcer({
    pidNamespace: true,
    mechanism: "seccomp",
    policy: policy(extra),
    command: ["bash", "-c", SCRIPT],
    cwd: tmp.join("work"),
    ...(viaProbe ? { enforcer: probe("no-landlock"), env: { NO_LANDLOCK_EXEC: ENFORCER } } : {}),
  });
}

function filesMechanism(r: RunResult): string | undefined {
  const start = lifecycle(r.events, "start")[0];
  return start?.event === "start" ? start.mechanisms.files : undefined;
}

describe.each([
  ["with Landlock", false, "landlock+ptrace"],
  ["without Landlock (as on Fargate)", true, "ptrace"],
] as const)("PID 1, %s", (_name, viaProbe, files) => {
  test("every name of the enforcer's oom_score_adj is refused; the application's own stays writable", async () => {
    const original = readFileSync("/proc/self/oom_score_adj", "utf8").trim(); // what the enforcer inherits
    const r = await asPid1(viaProbe);
    expectExit(r, 0);
    expect(filesMechanism(r)).toBe(files);
    const out = r.stdout.trim().split("\n");
    expect(out.slice(0, ATTEMPTS.length)).toEqual(ATTEMPTS.map((a) => `${a}=refused`));
    expect(out.slice(ATTEMPTS.length)).toEqual(["own=0 500", `enforcer=${original} ${out.at(-1)?.split(" ")[1] ?? ""}`]);
    const refused = fileEvents(r).filter((e) => e.rule === "selfProtection");
    expect(refused.map((e) => `${e.verdict} ${e.operation} ${e.path}`)).toEqual([
      "blocked open-write /proc/1/oom_score_adj",
      "blocked open-write /proc/1/oom_adj",
      "blocked open-write /proc/1/oom_score_adj",
      "blocked open-write /proc/1/oom_score_adj",
      "blocked open-write /proc/1/task/1/oom_score_adj",
      "blocked open-write /proc/1/oom_score_adj",
      "blocked open-write /proc/1/oom_score_adj",
      "blocked open-write /proc/1/clear_refs",
    ]);
  });
});

// A symlink flipped between a harmless file and /proc/1/oom_score_adj while the application writes
// through it: the check at the call sees one, the kernel may open the other. The file the kernel
// opened is judged again at the call's exit (with a Landlock layer too, which cannot name /proc/1).
const RACE = `
echo 0 > harmless
( while :; do ln -sfn harmless l.tmp; mv -T l.tmp link; ln -sfn /proc/1/oom_score_adj l.tmp; mv -T l.tmp link; done ) &
flipper=$!
{ for i in $(seq 2000); do echo 1000 > link; done; } 2>/dev/null
kill $flipper; wait $flipper 2>/dev/null
echo "enforcer=$(cat /proc/1/oom_score_adj) harmless=$(cat harmless)"
`;

describe.each([
  ["with Landlock", false],
  ["without Landlock", true],
] as const)("PID 1, %s: a symlink swapped under the check", (_name, viaProbe) => {
  test("never lets a write reach the enforcer's oom_score_adj; the harmless file is written", async () => {
    const original = readFileSync("/proc/self/oom_score_adj", "utf8").trim();
    const r = await runEnforcer({
      pidNamespace: true,
      mechanism: "seccomp",
      policy: policy(),
      command: ["bash", "-c", RACE],
      cwd: tmp.join("work"),
      events: { file: tmp.join("race-events") },
      timeoutMs: 60_000,
      ...(viaProbe ? { enforcer: probe("no-landlock"), env: { NO_LANDLOCK_EXEC: ENFORCER } } : {}),
    });
    expectExit(r, 0);
    expect(r.stdout.trim()).toBe(`enforcer=${original} harmless=1000`);
    expect(fileEvents(r).filter((e) => e.rule === "selfProtection").length).toBeGreaterThan(0);
  });
});

test("selfProtection off: the write reaches the enforcer (what the rule prevents)", async () => {
  const r = await asPid1(false, ["selfProtection off"]);
  expectExit(r, 0);
  const out = r.stdout.trim().split("\n");
  expect(out[0]).toBe("plain=written");
  expect(out.at(-1)).toMatch(/^enforcer=1000 /);
  expect(fileEvents(r).filter((e) => e.rule === "selfProtection")).toEqual([]);
});
