// The enforcer's event lines (docs/events.md): bounded argv, JSON escaping of what an attacker
// controls, bytes that are not UTF-8, and the process fields of exec events.

import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseEventLines } from "../../src/events/schema.js";
import { expectExit, validateEventsAfterEach } from "./helpers/assert.js";
import { describeExecs, execEventsFor } from "./helpers/events.js";
import { ensureBuilt, probe } from "./helpers/paths.js";
import { compiledPolicy } from "./helpers/policy.js";
import { runEnforcer } from "./helpers/run.js";
import { makeTempDir } from "./helpers/tmp.js";
import type { TempDir } from "./helpers/tmp.js";

validateEventsAfterEach();

const MAX_ARGS = 64;
const MAX_ARGV_BYTES = 4096;

let tmp: TempDir;
beforeAll(() => {
  ensureBuilt();
  tmp = makeTempDir("events");
});
afterAll(() => tmp?.remove());

function argvBytes(argv: readonly string[]): number {
  return argv.reduce((n, a) => n + Buffer.byteLength(a, "utf8"), 0);
}

describe("exec event fields", () => {
  test("a short argv is reported whole, with argvTruncated false", async () => {
    const args = ["0", "two words", "", "--flag=x"];
    const r = await runEnforcer({ command: [probe("exit-with"), ...args] });
    expectExit(r, 0);
    const [ev] = execEventsFor(r.events, probe("exit-with"));
    expect(ev, describeExecs(r.events)).toBeDefined();
    expect(ev?.argv).toEqual([probe("exit-with"), ...args]);
    expect(ev?.argvTruncated).toBe(false);
  });

  test(`more than ${MAX_ARGS} arguments: cut to at most ${MAX_ARGS}, argvTruncated true`, async () => {
    const args = Array.from({ length: 200 }, (_, i) => `a${i}`);
    const r = await runEnforcer({ command: [probe("exit-with"), ...args] });
    expectExit(r, 0);
    const [ev] = execEventsFor(r.events, probe("exit-with"));
    expect(ev?.argv.length).toBeLessThanOrEqual(MAX_ARGS);
    expect(ev?.argv.slice(0, 3)).toEqual([probe("exit-with"), "a0", "a1"]);
    expect(ev?.argvTruncated).toBe(true);
  });

  test(`more than ${MAX_ARGV_BYTES} bytes of arguments: cut to at most ${MAX_ARGV_BYTES}, argvTruncated true`, async () => {
    const r = await runEnforcer({ command: [probe("exit-with"), "0", "x".repeat(10_000), "y".repeat(100)] });
    expectExit(r, 0);
    const [ev] = execEventsFor(r.events, probe("exit-with"));
    expect(ev).toBeDefined();
    expect(argvBytes(ev!.argv)).toBeLessThanOrEqual(MAX_ARGV_BYTES);
    expect(ev?.argvTruncated).toBe(true);
  });

  test("quotes, backslashes, control characters and non-ASCII UTF-8 survive JSON escaping", async () => {
    const nasty = 'q"uote\\back\nnew\ttab\u0001ctl\u007f é ✓ 😀 </script>';
    const r = await runEnforcer({ command: [probe("exit-with"), "0", nasty] });
    expectExit(r, 0);
    const [ev] = execEventsFor(r.events, probe("exit-with"));
    expect(ev?.argv).toEqual([probe("exit-with"), "0", nasty]);
    // One event per line: no raw newline inside a line.
    for (const line of r.eventsText.trimEnd().split("\n")) expect(() => JSON.parse(line) as unknown).not.toThrow();
  });

  test("bytes that are not valid UTF-8 are written as U+FFFD", async () => {
    // printf makes the bytes: node cannot pass invalid UTF-8 in argv itself.
    const r = await runEnforcer({ command: ["sh", "-c", `exec ${probe("exit-with")} 0 "$(printf 'a\\377b\\300\\257c')"`] });
    expectExit(r, 0);
    const [ev] = execEventsFor(r.events, probe("exit-with"));
    expect(ev, describeExecs(r.events)).toBeDefined();
    const arg = ev!.argv[2] ?? "";
    expect(arg.startsWith("a\ufffdb")).toBe(true);
    expect(arg.endsWith("c")).toBe(true);
    expect(arg).not.toMatch(/[\u00c0\u00ff]/);
  });

  test("pid, ppid, uid and cwd describe the process", async () => {
    const r = await runEnforcer({ cwd: tmp.path, command: [probe("vfork-exec"), probe("exit-with"), "0"] });
    expectExit(r, 0);
    const [parent] = execEventsFor(r.events, probe("vfork-exec"));
    const [child] = execEventsFor(r.events, probe("exit-with"));
    expect(parent).toBeDefined();
    expect(child).toBeDefined();
    expect(child!.ppid).toBe(parent!.pid);
    expect(child!.pid).not.toBe(parent!.pid);
    expect(child!.uid).toBe(0);
    expect(child!.cwd).toBe(tmp.path);
    expect(parent!.cwd).toBe(tmp.path);
  });

  test("a path with a newline and quotes in it is escaped in exe", async () => {
    const dir = tmp.join('we"ird\ndir');
    const { mkdirSync, copyFileSync, chmodSync } = await import("node:fs");
    mkdirSync(dir);
    const exe = `${dir}/exit-with`;
    copyFileSync(probe("exit-with"), exe);
    chmodSync(exe, 0o755);
    const r = await runEnforcer({ command: [exe, "0"] });
    expectExit(r, 0);
    expect(execEventsFor(r.events, exe), r.eventsText).toHaveLength(1);
  });
});

describe("events on the default sink (stderr, shared with the application)", () => {
  test("a blocked event written right after the application's unfinished line is still found", async () => {
    // The application leaves `{"x":"` without a newline on stderr, then runs a denied program: the
    // enforcer's event lands on the same line. Reading the stream as a log tool would (mixed), the
    // blocked event is there; the allowed neighbour's event too.
    const policy = compiledPolicy({ name: "glued", mode: "enforce", allow: ["/usr/bin/*", "/bin/*"] });
    const r = await runEnforcer({
      policy,
      events: "default",
      command: ["sh", "-c", `printf '{"x":"' >&2; ${probe("exit-with")} 0; echo after=$? >&2`],
    });
    expectExit(r, 0);
    expect(r.stderr).toContain('{"x":"{"vigil":1,'); // the line really is glued
    expect(r.stderr).toContain("after=126");
    const { events } = parseEventLines(r.stderr, { mixed: true });
    const blocked = events.filter((e) => e.kind === "exec" && e.verdict === "blocked");
    expect(blocked.map((e) => (e.kind === "exec" ? e.exe : ""))).toEqual([probe("exit-with")]);
    expect(events.some((e) => e.kind === "exec" && e.verdict === "allowed")).toBe(true);
  });
});
