import { describe, expect, test } from "vitest";
import { eventSchema, parseEventLines } from "../../src/events/schema.js";

const common = {
  vigil: 1,
  time: "2026-12-04T15:28:59.123Z",
  verdict: "allowed",
  rule: null,
  pid: 42,
  ppid: 1,
  uid: 0,
  exe: "/usr/bin/dash",
  argv: ["sh", "-c", "true"],
  argvTruncated: false,
  cwd: "/",
};

const execEvent = {
  ...common,
  kind: "exec",
  verdict: "blocked",
  rule: "exec.deny[0]",
  pattern: "/usr/bin/perl*",
  exe: "/usr/bin/perl",
  mechanism: "ptrace",
  script: null,
};

const startEvent = {
  ...common,
  kind: "lifecycle",
  event: "start",
  version: "0.1.0",
  arch: "amd64",
  policy: "a".repeat(64),
  policyName: "demo",
  mode: "enforce",
  pid1: false,
  subreaper: true,
  mechanisms: { ptrace: true, landlock: 3, seccomp: false },
  notEnforced: ["exec.drift"],
};

describe("eventSchema", () => {
  test("accepts exec, lifecycle start/exit/failopen and dropped events", () => {
    for (const event of [
      execEvent,
      { ...execEvent, mechanism: "landlock", errno: "EACCES" },
      { ...execEvent, exe: "/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2", program: "/tmp/x", rule: "exec.allow" },
      { ...execEvent, program: null },
      { ...execEvent, mechanism: "precheck" },
      { ...startEvent, mechanisms: { ptrace: true, landlock: 7, landlockRules: 729, seccomp: false } },
      startEvent,
      { ...startEvent, policy: null, policyName: null },
      { ...common, kind: "lifecycle", event: "exit", status: 126, cwd: null },
      { ...common, kind: "lifecycle", event: "failopen", reason: "ptrace: EPERM" },
      { vigil: 1, time: common.time, kind: "dropped", count: 5 },
    ]) {
      expect(eventSchema.safeParse(event).error).toBeUndefined();
    }
  });

  test.each([
    ["wrong schema version", { ...execEvent, vigil: 2 }],
    ["time without milliseconds", { ...execEvent, time: "2026-12-04T15:28:59Z" }],
    ["time not in UTC", { ...execEvent, time: "2026-12-04T15:28:59.123+01:00" }],
    ["unknown verdict", { ...execEvent, verdict: "denied" }],
    ["unknown kind", { ...execEvent, kind: "syscall" }],
    ["misspelt exec field", { ...execEvent, mechanisms: "ptrace" }],
    ["missing common field", { ...execEvent, cwd: undefined }],
    ["too many arguments", { ...execEvent, argv: Array.from({ length: 65 }, () => "x") }],
    ["too many argument bytes", { ...execEvent, argv: ["x".repeat(4097)] }],
    ["policy hash not sha256", { ...startEvent, policy: "abc" }],
    ["unknown lifecycle event", { ...startEvent, event: "restart" }],
    ["negative pid", { ...execEvent, pid: -1 }],
    ["errno as a number", { ...execEvent, mechanism: "landlock", errno: 13 }],
    ["unknown arch", { ...startEvent, arch: "riscv64" }],
  ])("rejects %s", (_name, event) => {
    expect(eventSchema.safeParse(event).success).toBe(false);
  });
});

describe("parseEventLines", () => {
  test("parses JSON lines, ignores blank lines and reports bad lines by number", () => {
    const text = `${JSON.stringify(startEvent)}\n\n${JSON.stringify(execEvent)}\nnot json\n${JSON.stringify({ ...execEvent, verdict: "nope" })}\n`;
    const { events, errors } = parseEventLines(text);
    expect(events.map((e) => e.kind)).toEqual(["lifecycle", "exec"]);
    expect(errors.map((e) => e.line)).toEqual([4, 5]);
    expect(errors[0]?.message).toMatch(/^not JSON/);
    expect(errors[1]?.message).toMatch(/^verdict:/);
  });

  test("mixed mode skips the application's own stderr lines", () => {
    const text = `app: starting\n${JSON.stringify(execEvent)}\nvigil-enforcer: blocked /usr/bin/perl\n`;
    const { events, errors } = parseEventLines(text, { mixed: true });
    expect(events).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  test("mixed mode finds an event written after the application's unfinished line", () => {
    // `printf '{"x":"' >&2; blocked-program`: the blocked event lands on the application's line.
    const event = JSON.stringify(execEvent);
    for (const prefix of ['{"x":"', "partial output ", '{"vigil":1,"kind":"exec","verdict":"allowed"', `${event.slice(0, 40)}`]) {
      const text = `app: starting\n${prefix}${event}\n`;
      const { events, lines, errors } = parseEventLines(text, { mixed: true });
      expect(events, prefix).toEqual([execEvent]);
      expect(lines).toEqual([2]);
      expect(errors).toEqual([]);
    }
  });

  test("mixed mode does not take a line whose event is cut or followed by other text", () => {
    const event = JSON.stringify(execEvent);
    const text = `${event.slice(0, -5)}\n${event} trailing\n`;
    expect(parseEventLines(text, { mixed: true }).events).toEqual([]);
  });
});
