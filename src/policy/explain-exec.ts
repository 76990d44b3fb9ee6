// What the enforcer decides when a process on this machine runs `execve(PATH, ARGV)`: which file
// the kernel really executes (/proc/PID/exe: symlinks resolved), the script for `#!` programs,
// the program a dynamic loader is asked to run, and the decision for each (enforcer/src/trace.c).

import { closeSync, openSync, readSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { ExecRules, ExecVerdict, FileId } from "./exec-rules.js";
import { decideExec } from "./exec-rules.js";
import { canonicalPath, realpathOrNull, statOrNull } from "./host-fs.js";

export type ExecOutcome = "allowed" | "blocked" | "alert";
export type ProtectionAction = "block" | "alert" | "off";

/** exec.fileless, exec.loader, exec.drift, exec.reverseShell (enforcer/src/protections.c); missing = off. */
export interface ExecProtections {
  fileless?: ProtectionAction;
  loader?: ProtectionAction;
  drift?: ProtectionAction;
  reverseShell?: ProtectionAction;
}

export interface ExplainExecOptions {
  cwd: string;
  /** argv[1..] of the exec (for the dynamic loader's program). */
  args?: readonly string[];
  audit?: boolean;
  protections?: ExecProtections;
  /** When the container started (ms since the epoch): files changed later are drift. Unknown: drift is only described. */
  startedAt?: number;
}

export interface ExecExplanation {
  /** The path as given. */
  path: string;
  /** The file the kernel executes, canonical (null when the path does not exist). */
  exe: string | null;
  /** For `#!` programs: the script, canonical. */
  script: string | null;
  /** For a dynamic loader run directly: the program it runs. */
  program: string | null;
  /** The decision that counts: the first refusal among exe, script and program, else the last allow. */
  verdict: ExecVerdict;
  outcome: ExecOutcome;
  /** Each file judged, in the enforcer's order. */
  decisions: { role: "program" | "script" | "loaded program"; path: string; verdict: ExecVerdict }[];
  /** Facts a reader needs: symlinks resolved, interpreter chain, missing files. */
  notes: string[];
}

const BINPRM_BUF_SIZE = 256;
const MAX_INTERPRETER_DEPTH = 4;

function fileId(path: string): FileId | null {
  const st = statOrNull(path);
  return st === null ? null : { dev: st.dev, ino: st.ino };
}

/** The interpreter named on a `#!` line, as the kernel reads it, or null when the file is not a script. */
export function shebangInterpreter(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch {
    return null;
  }
  try {
    const buf = Buffer.alloc(BINPRM_BUF_SIZE);
    const n = readSync(fd, buf, 0, BINPRM_BUF_SIZE, 0);
    if (n < 2 || buf[0] !== 0x23 || buf[1] !== 0x21) return null;
    const text = buf.subarray(2, n).toString("latin1");
    const line = text.split("\n")[0] ?? "";
    const interpreter = line.replace(/^[ \t]+/, "").split(/[ \t\0]/)[0] ?? "";
    return interpreter === "" ? null : interpreter;
  } finally {
    closeSync(fd);
  }
}

/** Is this file a dynamic loader (ld-linux*.so*, ld-musl-*.so*) run as a program? (trace.c is_loader) */
export function isLoader(exe: string): boolean {
  const base = exe.slice(exe.lastIndexOf("/") + 1);
  return base.startsWith("ld-") && base.includes(".so");
}

/** `ld.so [OPTIONS] PROGRAM ARGS`: the program, as trace.c loader_program finds it. */
export function loaderProgram(args: readonly string[], cwd: string): string | null {
  const withValue = ["--library-path", "--preload", "--argv0", "--audit", "--inhibit-rpath", "--glibc-hwcaps-prepend", "--glibc-hwcaps-mask"];
  for (let i = 0; i < args.length; i++) {
    const a = args[i] ?? "";
    if (!a.startsWith("--")) {
      const joined = isAbsolute(a) ? a : resolve(cwd, a);
      return realpathOrNull(joined) ?? a;
    }
    if (a === "--") continue;
    if (withValue.includes(a)) i++;
  }
  return null;
}

/**
 * Explain `execve(path, [path, ...args])` from `cwd` under `rules`. `audit` turns a block into an
 * alert, as the enforcer's audit mode does.
 */
export function explainExec(rules: ExecRules, path: string, options: ExplainExecOptions): ExecExplanation {
  const notes: string[] = [];
  const named = isAbsolute(path) ? path : resolve(options.cwd, path);
  const decisions: ExecExplanation["decisions"] = [];
  let exe: string | null = null;
  let script: string | null = null;
  let program: string | null = null;

  const real = realpathOrNull(named);
  if (real === null) {
    // The exec would fail with ENOENT; judge the name as the enforcer's Landlock report would.
    const canonical = canonicalPath(named) ?? named;
    notes.push(`${path} does not exist on this machine: the exec would fail; judged by its canonical name ${canonical}`);
    const verdict = decideExec(rules, canonical, null);
    decisions.push({ role: "program", path: canonical, verdict });
    return finish({ path, exe: null, script, program, notes, decisions }, options);
  }
  if (real !== named) notes.push(`${path} resolves to ${real} (the kernel runs the file, symlinks resolved)`);

  // Follow #! lines as the kernel does: the final file is /proc/PID/exe; the first is the script.
  let current = real;
  for (let depth = 0; depth <= MAX_INTERPRETER_DEPTH; depth++) {
    const interpreter = shebangInterpreter(current);
    if (interpreter === null) break;
    const next = realpathOrNull(interpreter);
    if (next === null) {
      notes.push(`${current} names the interpreter ${interpreter}, which does not exist: the exec would fail (ENOENT)`);
      break;
    }
    notes.push(`${current} is a script for ${interpreter}${next !== interpreter ? ` (${next})` : ""}`);
    current = next;
  }
  exe = current;
  const exeId = fileId(exe);
  const realId = fileId(real);
  const isScript = exe !== real && !(exeId !== null && realId !== null && exeId.dev === realId.dev && exeId.ino === realId.ino);
  if (isScript && !named.startsWith("/dev/fd/") && !named.startsWith("/proc/")) script = real;

  decisions.push({ role: "program", path: exe, verdict: decideExec(rules, exe, exeId) });
  const last = (): ExecVerdict | undefined => decisions[decisions.length - 1]?.verdict;
  if (last()?.allowed === true && script !== null) {
    decisions.push({ role: "script", path: script, verdict: decideExec(rules, script, fileId(script)) });
  }
  if (isLoader(exe) && options.args !== undefined) {
    program = loaderProgram(options.args, options.cwd);
    if (program !== null) {
      notes.push(`${exe} is the dynamic loader: the program it runs, ${program}, is judged as if it were exec'd`);
      if (last()?.allowed === true) decisions.push({ role: "loaded program", path: program, verdict: decideExec(rules, program, fileId(program)) });
    }
  }
  return finish({ path, exe, script, program, notes, decisions }, options);
}

const SHELLS = ["sh", "dash", "bash", "ash", "zsh", "ksh", "mksh", "csh", "tcsh", "fish", "busybox", "node", "nodejs", "socat"];
const INTERPRETER_PREFIXES = ["python", "perl", "ruby", "php", "lua", "tclsh", "pwsh"];

/** A shell or interpreter by name, as the enforcer's reverse-shell protection knows them. */
export function isShellOrInterpreter(exe: string): boolean {
  const base = exe.slice(exe.lastIndexOf("/") + 1);
  return SHELLS.includes(base) || INTERPRETER_PREFIXES.some((p) => base.startsWith(p));
}

// After the allow and deny lists allow it, the protections, in the enforcer's order: the first
// that objects decides (block, or alert for a protection set to alert).
function protect(partial: Omit<ExecExplanation, "verdict" | "outcome">, options: ExplainExecOptions): { verdict: ExecVerdict; alert: boolean } | null {
  const p = options.protections ?? {};
  const exe = partial.exe;
  if (exe === null) return null;
  const objection = (action: ProtectionAction | undefined, rule: string, reason: string): { verdict: ExecVerdict; alert: boolean } | null =>
    action === undefined || action === "off" ? null : { verdict: { allowed: action !== "block", rule, pattern: null, reason }, alert: action === "alert" };
  const st = statOrNull(exe);
  if (exe.startsWith("/memfd:") || exe.includes(" (deleted)") || st?.nlink === 0) {
    const o = objection(p.fileless, "exec.fileless", `${exe} has no file on disk (memfd or deleted)`);
    if (o) return o;
  }
  if (partial.program !== null || isLoader(exe)) {
    const o = objection(p.loader, "exec.loader", `${exe} is the dynamic loader run as a program`);
    if (o) return o;
  }
  if (p.drift !== undefined && p.drift !== "off") {
    const changed = [exe, partial.script].filter((f): f is string => f !== null).map((f) => ({ f, ctime: statOrNull(f)?.ctimeMs }));
    if (options.startedAt === undefined) {
      partial.notes.push(`exec.drift is judged at run time: ${changed.map((c) => c.f).join(" and ")} must not change after the container starts`);
    } else {
      const late = changed.find((c) => c.ctime !== undefined && c.ctime >= (options.startedAt ?? 0));
      const o = late ? objection(p.drift, "exec.drift", `${late.f} appeared or changed after the container started`) : null;
      if (o) return o;
    }
  }
  if (p.reverseShell !== undefined && p.reverseShell !== "off" && isShellOrInterpreter(exe)) {
    partial.notes.push(`exec.reverseShell is judged at run time: ${exe} is ${p.reverseShell === "block" ? "blocked" : "reported"} if its standard input or output is a network socket, or if it reads its commands from a pipe that a process holding a connection feeds or reads`);
  }
  return null;
}

function finish(partial: Omit<ExecExplanation, "verdict" | "outcome">, options: ExplainExecOptions): ExecExplanation {
  const audit = options.audit === true;
  const refused = partial.decisions.find((d) => !d.verdict.allowed);
  let verdict = (refused ?? partial.decisions[partial.decisions.length - 1])?.verdict;
  if (verdict === undefined) throw new Error("bug: an exec explanation without a decision");
  let alert = false;
  if (verdict.allowed) {
    const objection = protect(partial, options);
    if (objection !== null) {
      partial.decisions.push({ role: "program", path: partial.exe ?? partial.path, verdict: objection.verdict });
      verdict = objection.verdict;
      alert = objection.alert;
    }
  }
  const outcome: ExecOutcome = alert ? "alert" : verdict.allowed ? "allowed" : audit ? "alert" : "blocked";
  return { ...partial, verdict, outcome };
}
