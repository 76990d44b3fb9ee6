// The user-facing policy document (apiVersion vigil/v1), as one zod schema: it is the TypeScript
// type and the validator. Every object is strict: an unknown key is an error, never ignored.

import { z } from "zod";
import { globError } from "./glob.js";
import { checkCidr, checkCidrWithPorts, checkPortRange } from "./network-values.js";

function oneOf<const T extends readonly [string, ...string[]]>(values: T) {
  return z.enum(values, {
    error: (issue) => `must be one of ${values.join(", ")}; received ${JSON.stringify(issue.input)}`,
  });
}

const glob = z
  .string({ error: (issue) => `must be a glob string; received ${describe(issue.input)}` })
  .superRefine((value, ctx) => {
    const message = globError(value);
    if (message !== null) ctx.addIssue({ code: "custom", message });
  })
  .meta({
    description: 'Absolute path glob: "*" within a segment, "?" one byte, "**" as a whole segment for any depth.',
    pattern: "^/",
  });

const globList = z.array(glob, { error: (issue) => `must be a list of globs; received ${describe(issue.input)}` });

const cidr = z
  .string({ error: (issue) => `must be a CIDR string such as "10.0.0.0/8"; received ${describe(issue.input)}` })
  .superRefine((value, ctx) => {
    const checked = checkCidrWithPorts(value);
    if (!checked.ok) ctx.addIssue({ code: "custom", message: checked.message });
  });

const cidrList = z.array(cidr, { error: (issue) => `must be a list of CIDR strings; received ${describe(issue.input)}` });

// An exception's destinations are plain CIDRs (no ports): the compiled line is "EXE-GLOB CIDR", split
// at its last space, so the glob may contain spaces.
const plainCidr = z
  .string({ error: (issue) => `must be a CIDR string such as "169.254.170.2/32"; received ${describe(issue.input)}` })
  .superRefine((value, ctx) => {
    const checked = checkCidr(value);
    if (!checked.ok) ctx.addIssue({ code: "custom", message: checked.message });
  });

const port = z.union([z.number(), z.string()]).superRefine((value, ctx) => {
  const checked = checkPortRange(value);
  if (!checked.ok) ctx.addIssue({ code: "custom", message: checked.message });
});

export const actionSchema = oneOf(["block", "alert", "off"] as const);
export const modeSchema = oneOf(["enforce", "audit"] as const);
export const switchSchema = oneOf(["on", "off"] as const);

export const execSchema = z.strictObject({
  allow: globList.optional().meta({ description: "Programs that may run. Present => allowlist: anything else is blocked." }),
  deny: globList.optional().meta({ description: "Programs that may not run (and hard links to them). Wins over allow." }),
  drift: actionSchema.optional().meta({ description: "Executables not from the image." }),
  fileless: actionSchema.optional().meta({ description: "memfd, /proc/self/fd/N, deleted files." }),
  loader: actionSchema.optional().meta({ description: "Running a program through ld-linux*.so directly." }),
  reverseShell: actionSchema.optional().meta({ description: "A shell whose stdio is a network socket." }),
});

export const filesSchema = z.strictObject({
  readOnly: globList.optional().meta({ description: "Paths no process may write." }),
  watch: globList.optional().meta({ description: "Paths whose writes are allowed and reported." }),
});

export const connectExceptionSchema = z.strictObject({
  exe: glob,
  to: z.array(plainCidr, { error: (issue) => `must be a list of CIDR strings; received ${describe(issue.input)}` }),
});

export const networkSchema = z.strictObject({
  connect: z
    .strictObject({
      deny: cidrList.optional(),
      allow: cidrList.optional(),
      exceptions: z.array(connectExceptionSchema).optional(),
      exceptionsFor: oneOf(["application", "any"] as const)
        .optional()
        .meta({
          description:
            "Which processes running an exception's program it lets through: application (default) = only the application's own processes (no code from a command line, standard input or a dropped file since the enforcer started the application), any = every process running the program.",
        }),
    })
    .optional(),
  listen: z.strictObject({ allow: z.array(port).optional() }).optional(),
});

/** Linux capability names as ECS and Kubernetes write them (no CAP_ prefix), and ALL. */
export const CAPABILITY_NAMES = [
  "CHOWN", "DAC_OVERRIDE", "DAC_READ_SEARCH", "FOWNER", "FSETID", "KILL", "SETGID", "SETUID", "SETPCAP",
  "LINUX_IMMUTABLE", "NET_BIND_SERVICE", "NET_BROADCAST", "NET_ADMIN", "NET_RAW", "IPC_LOCK", "IPC_OWNER",
  "SYS_MODULE", "SYS_RAWIO", "SYS_CHROOT", "SYS_PTRACE", "SYS_PACCT", "SYS_ADMIN", "SYS_BOOT", "SYS_NICE",
  "SYS_RESOURCE", "SYS_TIME", "SYS_TTY_CONFIG", "MKNOD", "LEASE", "AUDIT_WRITE", "AUDIT_CONTROL", "SETFCAP",
  "MAC_OVERRIDE", "MAC_ADMIN", "SYSLOG", "WAKE_ALARM", "BLOCK_SUSPEND", "AUDIT_READ", "PERFMON", "BPF",
  "CHECKPOINT_RESTORE", "ALL",
] as const;

export const capabilitiesSchema = z.strictObject({
  drop: z
    .array(oneOf(CAPABILITY_NAMES))
    .optional()
    .meta({ description: "Capabilities the application loses (bounding, inheritable and ambient sets) before it starts, e.g. NET_RAW." }),
});

export const specSchema = z.strictObject({
  mode: modeSchema.optional().meta({ description: "enforce (default) blocks; audit only reports what would be blocked (verdict alert)." }),
  exec: execSchema.optional(),
  files: filesSchema.optional(),
  network: networkSchema.optional(),
  selfProtection: switchSchema.optional().meta({ description: "Protect the enforcer itself." }),
  capabilities: capabilitiesSchema.optional(),
  noNewPrivileges: switchSchema
    .optional()
    .meta({ description: "on: no exec may raise privileges (set-user-ID, file capabilities). Always on when a seccomp filter or Landlock is installed." }),
});

export const policyNameSchema = z
  .string({ error: (issue) => `must be a string; received ${describe(issue.input)}` })
  .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,252}$/, {
    error: "must be 1-253 letters, digits, '.', '_' or '-', starting with a letter or digit",
  });

export const policySchema = z.strictObject({
  apiVersion: z.literal("vigil/v1", {
    error: (issue) =>
      issue.input === undefined ? "missing; add `apiVersion: vigil/v1`" : `must be "vigil/v1"; received ${describe(issue.input)}`,
  }),
  kind: z.literal("Policy", {
    error: (issue) => (issue.input === undefined ? "missing; add `kind: Policy`" : `must be "Policy"; received ${describe(issue.input)}`),
  }),
  metadata: z.strictObject({ name: policyNameSchema.optional() }).optional(),
  spec: specSchema.optional(),
}).meta({
  title: "Vigil policy",
  description: "Runtime protection policy for a container (apiVersion vigil/v1). See README.md, section Policy.",
});

export type Policy = z.infer<typeof policySchema>;
export type PolicySpec = z.infer<typeof specSchema>;
export type PolicyMode = z.infer<typeof modeSchema>;
export type PolicyAction = z.infer<typeof actionSchema>;

function describe(input: unknown): string {
  if (input === undefined) return "nothing";
  if (input === null) return "null";
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a mapping";
  return JSON.stringify(input);
}
