// Events written by the enforcer, schema version 1 (docs/events.md). This schema is the source of
// truth: tests validate the enforcer's real output against it. Objects are strict for the kinds the
// enforcer emits today (exec, file, connect, listen, lifecycle, dropped) so a misspelt field fails a
// test; the kind whose fields are not specified yet (self) accepts extra fields.

import { z } from "zod";

export const EVENT_SCHEMA_VERSION = 1;

export const eventKindSchema = z.enum(["exec", "file", "connect", "listen", "self", "lifecycle", "dropped"]);
export const verdictSchema = z.enum(["allowed", "blocked", "alert"]);

/** RFC 3339, UTC, milliseconds: 2026-12-04T15:28:59.123Z */
export const eventTimeSchema = z
  .string()
  .regex(/^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d\.\d{3}Z$/, {
    error: "must be RFC 3339 UTC with milliseconds, like 2026-12-04T15:28:59.123Z",
  });

export const MAX_ARGV_COUNT = 64;
export const MAX_ARGV_BYTES = 4096;

const argvSchema = z
  .array(z.string())
  .max(MAX_ARGV_COUNT)
  .refine((argv) => argv.reduce((n, arg) => n + Buffer.byteLength(arg, "utf8"), 0) <= MAX_ARGV_BYTES, {
    error: `argv must hold at most ${MAX_ARGV_BYTES} bytes in all`,
  });

const commonFields = {
  vigil: z.literal(EVENT_SCHEMA_VERSION),
  time: eventTimeSchema,
  verdict: verdictSchema,
  rule: z.string().nullable(),
  pid: z.number().int().nonnegative(),
  ppid: z.number().int().min(-1),
  uid: z.number().int().min(-1),
  exe: z.string(),
  argv: argvSchema,
  argvTruncated: z.boolean(),
  /** null when it could not be read (e.g. the enforcer's own exit event). */
  cwd: z.string().nullable(),
};

export const execEventSchema = z.strictObject({
  ...commonFields,
  kind: z.literal("exec"),
  /** The glob of `rule`, or null. */
  pattern: z.string().nullable(),
  /** ptrace: decided at PTRACE_EVENT_EXEC; landlock: the kernel refused the exec; precheck: the enforcer refused its own COMMAND before starting it; attach: a process entered from outside (docker exec) was adopted and its running program judged. */
  mechanism: z.enum(["ptrace", "landlock", "precheck", "attach"]),
  /** The script path for `#!` programs, else null. */
  script: z.string().nullable(),
  /** When `exe` is the dynamic loader (ld-linux*.so PROGRAM): the program it was asked to run; else null or absent. */
  program: z.string().nullable().optional(),
  /** For `landlock` blocks: the error the caller saw, by name ("EACCES"); null or absent otherwise. */
  errno: z.string().regex(/^E[A-Z0-9]+$/).nullable().optional(),
  /** For `attach` events, when the application runs under a seccomp filter: whether the same filter was installed into the adopted process (false: it could not be, the process was killed, rule `attach.filter`); absent otherwise. */
  filter: z.boolean().optional(),
  /** With `filter: false`: why the filter could not be installed. */
  reason: z.string().optional(),
});

export const mechanismsSchema = z.strictObject({
  ptrace: z.boolean(),
  /** Landlock ABI version in use, 0 when not used. */
  landlock: z.number().int().nonnegative(),
  seccomp: z.boolean(),
  /** How many Landlock rules (file grants) the ruleset holds, when Landlock is used. */
  landlockRules: z.number().int().nonnegative().optional(),
  /** With files.* rules: what enforces them (a Landlock write layer where the kernel has ABI >= 3, plus the ptrace checks). */
  files: z.enum(["landlock+ptrace", "ptrace"]).optional(),
});

export const lifecycleStartEventSchema = z.strictObject({
  ...commonFields,
  kind: z.literal("lifecycle"),
  event: z.literal("start"),
  version: z.string(),
  arch: z.enum(["amd64", "arm64"]),
  /** SHA-256 (hex) of the compiled policy, null when running without a policy. */
  policy: z.string().regex(/^[0-9a-f]{64}$/).nullable(),
  policyName: z.string().nullable(),
  mode: z.enum(["enforce", "audit"]),
  pid1: z.boolean(),
  subreaper: z.boolean(),
  mechanisms: mechanismsSchema,
  notEnforced: z.array(z.string()),
});

export const lifecycleExitEventSchema = z.strictObject({
  ...commonFields,
  kind: z.literal("lifecycle"),
  event: z.literal("exit"),
  /** The enforcer's exit code. */
  status: z.number().int().min(0).max(255),
});

export const lifecycleFailopenEventSchema = z.strictObject({
  ...commonFields,
  kind: z.literal("lifecycle"),
  event: z.literal("failopen"),
  reason: z.string(),
});

/** A policy sent by the console while the application runs: applied (verdict allowed) or refused (alert). */
export const lifecyclePolicyEventSchema = z.strictObject({
  ...commonFields,
  kind: z.literal("lifecycle"),
  event: z.literal("policy"),
  /** SHA-256 (hex) of the compiled policy received. */
  policy: z.string().regex(/^[0-9a-f]{64}$/),
  policyName: z.string().nullable(),
  /** The new policy's mode; null when it was refused. */
  mode: z.enum(["enforce", "audit"]).nullable(),
  source: z.literal("console"),
  applied: z.boolean(),
  /** Why it was refused (the parser's message); null when applied. */
  reason: z.string().nullable(),
  /** Parts the running enforcer cannot change without a restart (kernel layers installed at start). */
  notApplied: z.array(z.string()),
});

export const lifecycleEventSchema = z.discriminatedUnion("event", [
  lifecycleStartEventSchema,
  lifecycleExitEventSchema,
  lifecycleFailopenEventSchema,
  lifecyclePolicyEventSchema,
]);

/** Written by the event queue itself, about no process: only these four fields (docs/events.md). */
export const droppedEventSchema = z.strictObject({
  vigil: z.literal(EVENT_SCHEMA_VERSION),
  time: eventTimeSchema,
  kind: z.literal("dropped"),
  count: z.number().int().positive(),
});

export const fileOperationSchema = z.enum([
  "open-write",
  "truncate",
  "unlink",
  "rename",
  "link",
  "symlink",
  "chmod",
  "chown",
  "utimes",
  "mknod",
  "mkdir",
  "rmdir",
  "xattr",
]);

/** A change to a path a files.readOnly (blocked/alert) or files.watch (allowed) rule is about. */
export const fileEventSchema = z.strictObject({
  ...commonFields,
  kind: z.literal("file"),
  /** Canonical path, resolved as the kernel resolves it for the process. */
  path: z.string(),
  operation: fileOperationSchema,
  /** The glob of `rule`. */
  pattern: z.string().nullable(),
});

/** A destination refused by network.connect.* (or let through by an exception that overrode them). */
export const connectEventSchema = z.strictObject({
  ...commonFields,
  kind: z.literal("connect"),
  address: z.string(),
  port: z.number().int().min(0).max(65535),
  family: z.enum(["ipv4", "ipv6"]),
  protocol: z.enum(["tcp", "udp", "other"]),
  syscall: z.enum(["connect", "sendto", "sendmsg", "sendmmsg"]),
  /** The CIDR of `rule`, or null (no allow rule matched). */
  pattern: z.string().nullable(),
  /** An exception that names this program and address but did not apply: the process is not the application's own. */
  exceptionNotOwn: z.string().optional(),
});

/** A port refused by network.listen.allow: listen(2), or bind(2) of a UDP socket. */
export const listenEventSchema = z.strictObject({
  ...commonFields,
  kind: z.literal("listen"),
  address: z.string(),
  port: z.number().int().min(0).max(65535),
  protocol: z.enum(["tcp", "udp", "other"]),
});
export const selfEventSchema = z.looseObject({ ...commonFields, kind: z.literal("self") });

export const eventSchema = z.discriminatedUnion("kind", [
  execEventSchema,
  lifecycleEventSchema,
  droppedEventSchema,
  fileEventSchema,
  connectEventSchema,
  listenEventSchema,
  selfEventSchema,
]);

export type VigilEvent = z.infer<typeof eventSchema>;
export type ExecEvent = z.infer<typeof execEventSchema>;
export type FileEvent = z.infer<typeof fileEventSchema>;
export type ConnectEvent = z.infer<typeof connectEventSchema>;
export type ListenEvent = z.infer<typeof listenEventSchema>;
export type LifecycleEvent = z.infer<typeof lifecycleEventSchema>;
export type EventKind = z.infer<typeof eventKindSchema>;
export type Verdict = z.infer<typeof verdictSchema>;

export interface EventLineError {
  /** 1-based line number in the text. */
  line: number;
  message: string;
}

export interface ParsedEventLines {
  events: VigilEvent[];
  /** The 1-based line number of each event, in step with `events`. */
  lines: number[];
  errors: EventLineError[];
}

export interface ParseEventLinesOptions {
  /**
   * The enforcer writes events to stderr by default, mixed with the application's own stderr.
   * With `mixed`, lines that hold no event are skipped instead of reported, and an event written
   * right after the application's own unfinished line (`printf '{"x":"' >&2; blocked-program`)
   * is found behind that prefix: the line's last part that is a whole valid event counts.
   */
  mixed?: boolean;
}

/** Splits JSON Lines text into validated events; blank lines are ignored, every other problem reported. */
export function parseEventLines(text: string, options: ParseEventLinesOptions = {}): ParsedEventLines {
  const events: VigilEvent[] = [];
  const lines: number[] = [];
  const errors: EventLineError[] = [];
  text.split("\n").forEach((raw, index) => {
    const line = raw.trim();
    if (line === "") return;
    if (options.mixed === true) {
      const found = eventInMixedLine(line);
      if (found) {
        events.push(found);
        lines.push(index + 1);
      }
      return;
    }
    let json: unknown;
    try {
      json = JSON.parse(line);
    } catch (error) {
      errors.push({ line: index + 1, message: `not JSON: ${error instanceof Error ? error.message : String(error)}` });
      return;
    }
    const parsed = eventSchema.safeParse(json);
    if (parsed.success) {
      events.push(parsed.data);
      lines.push(index + 1);
    } else {
      const message = parsed.error.issues
        .map((issue) => `${issue.path.map(String).join(".") || "(event)"}: ${issue.message}`)
        .join("; ");
      errors.push({ line: index + 1, message });
    }
  });
  return { events, lines, errors };
}

const EVENT_START = '{"vigil":';

/**
 * The event in a line of mixed stderr: the line itself, or its end when the application left an
 * unfinished line just before the enforcer wrote (the enforcer writes each event in one piece,
 * ending with a newline, so an event is always the end of its line). Candidates are tried from the
 * left, so a prefix that only looks like an event start cannot hide the real one.
 */
function eventInMixedLine(line: string): VigilEvent | undefined {
  for (let at = line.indexOf(EVENT_START); at >= 0; at = line.indexOf(EVENT_START, at + 1)) {
    let json: unknown;
    try {
      json = JSON.parse(line.slice(at));
    } catch {
      continue;
    }
    const parsed = eventSchema.safeParse(json);
    if (parsed.success) return parsed.data;
  }
  return undefined;
}
