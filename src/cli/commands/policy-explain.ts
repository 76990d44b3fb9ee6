// vigil policy explain FILE --exec PATH [-- ARGS...] | --write PATH | --connect ADDR:PORT [--exe PATH] [--json]
//
// Which rule decides and why. For --exec the answer is the enforcer's own decision on this machine
// (the same canonical paths, glob variants and file identities); --write and --connect answer what
// the policy says, which the enforcer does not enforce yet.

import { isAbsolute, resolve } from "node:path";
import { buildExecRules } from "../../policy/exec-rules.js";
import type { ExecExplanation } from "../../policy/explain-exec.js";
import { explainExec } from "../../policy/explain-exec.js";
import type { RuleAnswer } from "../../policy/explain-other.js";
import { explainConnect, explainWrite, parseHostPort } from "../../policy/explain-other.js";
import type { Policy } from "../../policy/schema.js";
import { UserError } from "../errors.js";
import type { CliIo, CliResult } from "../io.js";
import { loadPolicyDocument } from "../load-policy.js";

const USAGE =
  "usage: vigil policy explain FILE (--exec PATH [-- ARGS...] | --write PATH | --connect ADDR:PORT [--exe PATH]) [--json]";

type Question = { kind: "exec"; path: string; args: string[] } | { kind: "write"; path: string } | { kind: "connect"; address: string; port: number };

export async function policyExplainCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  let file: string | null = null;
  let question: Question | null = null;
  let exe: string | null = null;
  let json = false;
  const set = (q: Question): void => {
    if (question !== null) throw new UserError("policy explain: one question at a time (--exec, --write or --connect)", USAGE);
    question = q;
  };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const value = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new UserError(`policy explain: ${arg} needs a value`, USAGE);
      return v;
    };
    if (arg === "--exec") set({ kind: "exec", path: value(), args: [] });
    else if (arg === "--write") set({ kind: "write", path: value() });
    else if (arg === "--connect") {
      const text = value();
      const hp = parseHostPort(text);
      if (hp === null) throw new UserError(`policy explain: --connect needs ADDRESS:PORT such as 169.254.170.2:80 or [::1]:443; received "${text}"`, USAGE);
      set({ kind: "connect", ...hp });
    } else if (arg === "--exe") exe = value();
    else if (arg === "--json") json = true;
    else if (arg === "--") {
      const q = question as Question | null;
      if (q?.kind !== "exec") throw new UserError("policy explain: arguments after -- go with --exec", USAGE);
      q.args = argv.slice(i + 1);
      break;
    } else if (arg.startsWith("-") && arg !== "-") throw new UserError(`policy explain: unknown option ${arg}`, USAGE);
    else if (file === null) file = arg;
    else throw new UserError(`policy explain: one policy file at a time; received ${file} and ${arg}`, USAGE);
  }
  if (file === null) throw new UserError("policy explain: no policy file given", USAGE);
  const q = question as Question | null;
  if (q === null) throw new UserError("policy explain: what to explain? give --exec PATH, --write PATH or --connect ADDR:PORT", USAGE);
  if (exe !== null && q.kind !== "connect") throw new UserError("policy explain: --exe goes with --connect", USAGE);

  const policy = await loadPolicyDocument(file, io);
  const audit = policy.spec?.mode === "audit";
  const abs = (p: string): string => (isAbsolute(p) ? p : resolve(io.cwd, p));
  if (q.kind === "exec") {
    const rules = buildExecRules(policy.spec?.exec?.allow ?? [], policy.spec?.exec?.deny ?? []);
    const answer = explainExec(rules, q.path, { cwd: io.cwd, args: q.args, audit, protections: policy.spec?.exec ?? {} });
    return { code: 0, stdout: json ? `${JSON.stringify(execJson(answer))}\n` : execText(answer, policy), stderr: "" };
  }
  const answer = q.kind === "write" ? explainWrite(policy, abs(q.path), audit) : explainConnect(policy, q.address, q.port, exe === null ? null : abs(exe), audit);
  const subject = q.kind === "write" ? `write ${q.path}` : `connect ${q.address} port ${q.port}${exe === null ? "" : ` from ${exe}`}`;
  if (json) return { code: 0, stdout: `${JSON.stringify({ kind: q.kind, ...answer, enforced: false })}\n`, stderr: "" };
  return { code: 0, stdout: otherText(subject, answer, q.kind === "write" ? "files" : "network"), stderr: "" };
}

function execJson(a: ExecExplanation): Record<string, unknown> {
  return {
    kind: "exec",
    path: a.path,
    exe: a.exe,
    script: a.script,
    program: a.program,
    verdict: a.outcome,
    rule: a.verdict.rule,
    pattern: a.verdict.pattern,
    reason: a.verdict.reason,
    decisions: a.decisions.map((d) => ({ role: d.role, path: d.path, allowed: d.verdict.allowed, rule: d.verdict.rule, reason: d.verdict.reason })),
    notes: a.notes,
    enforced: true,
  };
}

function ruleText(rule: string, pattern: string | null): string {
  if (rule === "default") return "default (no rule applies)";
  if (rule === "exec.allow") return "exec.allow (not in the allow list)";
  return pattern === null ? rule : `${rule} "${pattern}"`;
}

function execText(a: ExecExplanation, policy: Policy): string {
  const lines = [`exec ${a.path}: ${a.outcome} by ${ruleText(a.verdict.rule, a.verdict.pattern)}`];
  for (const note of a.notes) lines.push(`  ${note}`);
  for (const d of a.decisions) lines.push(`  ${d.role} ${d.path}: ${d.verdict.allowed ? "allowed" : "refused"} by ${d.verdict.rule} — ${d.verdict.reason}`);
  const mode = policy.spec?.mode ?? "enforce";
  if (a.outcome === "blocked") lines.push("mode enforce: the enforcer stops it before its first instruction (exit status 126)");
  else if (a.outcome === "alert") lines.push("mode audit: the enforcer lets it run and reports it with the verdict alert");
  else lines.push(`mode ${mode}: the enforcer lets it run`);
  return `${lines.join("\n")}\n`;
}

function otherText(subject: string, a: RuleAnswer, section: string): string {
  const lines = [`${subject}: ${a.outcome} by ${ruleText(a.rule, a.pattern)}`];
  for (const note of a.notes) lines.push(`  ${note}`);
  lines.push(`  ${a.reason}`);
  lines.push(`the enforcer checks ${section}.* rules when the system call is made (docs/compiled-policy.md)`);
  return `${lines.join("\n")}\n`;
}
