// What the enforcer decides when a process on this machine runs `execve(PATH, ARGV)`: which file
// the kernel really executes (/proc/PID/exe: symlinks resolved), the script for `#!` programs,
// the program a dynamic loader is asked to run, and the decision for each (enforcer/src/trace.c).

import { closeSync, openSync, readSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import type { ExecRules, ExecVerdict, FileId } from "./exec-rules.js";
import { decideExec } from "./exec-rules.js";
import { canonicalPath, realpathOrNull, statOrNull } from "./host-fs.js";

export type ExecOutcome = "allowed" | "blocked" | "alert";

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
export function explainExec(rules: ExecRules, path: string, options: { cwd: string; args?: readonly string[]; audit?: boolean }): ExecExplanation {
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
    return finish({ path, exe: null, script, program, notes, decisions }, options.audit === true);
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
  return finish({ path, exe, script, program, notes, decisions }, options.audit === true);
}

function finish(partial: Omit<ExecExplanation, "verdict" | "outcome">, audit: boolean): ExecExplanation {
  const refused = partial.decisions.find((d) => !d.verdict.allowed);
  const verdict = (refused ?? partial.decisions[partial.decisions.length - 1])?.verdict;
  if (verdict === undefined) throw new Error("bug: an exec explanation without a decision");
  const outcome: ExecOutcome = verdict.allowed ? "allowed" : audit ? "alert" : "blocked";
  return { ...partial, verdict, outcome };
}
