// vigil exec [--policy FILE] [--audit] [--events SINK] [--mechanism M] [--fail-open] -- COMMAND [ARGS...]
//
// Compiles the policy into a private temporary file, runs
//   vigil-enforcer --policy TMP [--audit] [--events SINK] [--mechanism M] [--fail-open] -- COMMAND ARGS...
// and ends with the enforcer's exit status. The temporary file is removed afterwards, also when a
// signal ends the run (signals are forwarded to the enforcer, which forwards them to the command).

import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { withTempDir } from "../../fs/temp-dir.js";
import { locateEnforcer } from "../../runner/locate-enforcer.js";
import { runEnforcer } from "../../runner/run-enforcer.js";
import { SignalRelay } from "../../runner/signal-relay.js";
import { signalStatus } from "../../runner/exit-status.js";
import { UserError } from "../errors.js";
import type { CliIo, CliResult } from "../io.js";
import { loadCompiledPolicy } from "../load-policy.js";

export interface ExecArgs {
  policy: string | null;
  audit: boolean;
  events: string | null;
  mechanism: string | null;
  failOpen: boolean;
  command: string[];
}

const MECHANISMS = ["auto", "landlock", "seccomp"];
const USAGE = "usage: vigil exec [--policy FILE] [--audit] [--events SINK] [--mechanism auto|landlock|seccomp] [--fail-open] -- COMMAND [ARGS...]";

export function parseExecArgs(argv: readonly string[]): ExecArgs {
  const args: ExecArgs = { policy: null, audit: false, events: null, mechanism: null, failOpen: false, command: [] };
  let i = 0;
  const value = (flag: string): string => {
    const v = argv[++i];
    if (v === undefined) throw new UserError(`exec: ${flag} needs a value`, USAGE);
    return v;
  };
  for (; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "--") {
      i++;
      break;
    }
    if (!arg.startsWith("-")) break;
    const eq = arg.indexOf("=");
    const [flag, inline] = arg.startsWith("--") && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    switch (flag) {
      case "--policy":
        args.policy = inline ?? value(flag);
        break;
      case "--events":
        args.events = inline ?? value(flag);
        break;
      case "--mechanism":
        args.mechanism = inline ?? value(flag);
        if (!MECHANISMS.includes(args.mechanism)) {
          throw new UserError(`exec: --mechanism must be one of ${MECHANISMS.join(", ")}; received "${args.mechanism}"`);
        }
        break;
      case "--audit":
        args.audit = true;
        break;
      case "--fail-open":
        args.failOpen = true;
        break;
      default:
        throw new UserError(`exec: unknown option ${arg}`, `${USAGE}\n(put \`--\` before a command whose name starts with "-")`);
    }
  }
  args.command = argv.slice(i);
  if (args.command.length === 0) throw new UserError("exec: no command given", USAGE);
  return args;
}

/** The enforcer's arguments for a run with the compiled policy at `policyPath`. */
export function enforcerArgs(args: ExecArgs, policyPath: string | null): string[] {
  const out: string[] = [];
  if (policyPath !== null) out.push("--policy", policyPath);
  if (args.audit) out.push("--audit");
  if (args.events !== null) out.push("--events", args.events);
  if (args.mechanism !== null) out.push("--mechanism", args.mechanism);
  if (args.failOpen) out.push("--fail-open");
  out.push("--", ...args.command);
  return out;
}

export async function execCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  const args = parseExecArgs(argv);
  const enforcer = locateEnforcer(io.env);
  const relay = new SignalRelay();
  try {
    return await withTempDir(io.env, "vigil-exec-", async (dir) => {
      let policyPath: string | null = null;
      if (args.policy !== null) {
        policyPath = join(dir, "policy");
        await writeFile(policyPath, await loadCompiledPolicy(args.policy, io), { mode: 0o600 });
      }
      if (relay.pending !== null) return { code: signalStatus(relay.pending), stdout: "", stderr: "" };
      const outcome = await runEnforcer(enforcer, enforcerArgs(args, policyPath), {
        stdio: io.stdio,
        env: io.env,
        cwd: io.cwd,
        relay,
      });
      return { code: outcome.status, stdout: outcome.stdout, stderr: outcome.stderr };
    });
  } finally {
    relay.dispose();
  }
}
