// `vigil policy test`: replay recorded exec events against a policy and say which it would block.
// Each event's files (the program, the #! script, the program a loader runs) are judged as the
// enforcer judges them (exec-rules.ts), with globs' canonical variants and file identities taken
// from this machine. fileless and loader are judged from the event; drift and reverse shells
// depend on the container's state at the time and are not replayed.

import type { ExecEvent } from "../events/schema.js";
import type { ExecRules, ExecVerdict } from "./exec-rules.js";
import { decideExec } from "./exec-rules.js";
import type { ExecProtections } from "./explain-exec.js";
import { isLoader } from "./explain-exec.js";
import { statOrNull } from "./host-fs.js";

export interface EventRef {
  file: string;
  line: number;
}

export interface ReplayedExec {
  ref: EventRef;
  event: ExecEvent;
  verdict: ExecVerdict;
  /** "blocked", or "alert" for a protection set to alert or a policy in audit mode. */
  outcome: "allowed" | "blocked" | "alert";
}

function decideFile(rules: ExecRules, path: string): ExecVerdict {
  const st = statOrNull(path);
  return decideExec(rules, path, st === null ? null : { dev: st.dev, ino: st.ino });
}

export function replayExec(rules: ExecRules, protections: ExecProtections, audit: boolean, event: ExecEvent, ref: EventRef): ReplayedExec {
  let verdict = decideFile(rules, event.exe);
  if (verdict.allowed && event.script !== null) verdict = decideFile(rules, event.script);
  if (verdict.allowed && event.program !== null && event.program !== undefined) verdict = decideFile(rules, event.program);
  let alert = false;
  if (verdict.allowed) {
    const objections: [boolean, ExecProtections[keyof ExecProtections], string, string][] = [
      [event.exe.startsWith("/memfd:") || event.exe.includes(" (deleted)"), protections.fileless, "exec.fileless", "the program has no file on disk (memfd or deleted)"],
      [(event.program ?? null) !== null || isLoader(event.exe), protections.loader, "exec.loader", "a program run through the dynamic loader"],
    ];
    const hit = objections.find(([applies, action]) => applies && action !== undefined && action !== "off");
    if (hit) {
      verdict = { allowed: hit[1] !== "block", rule: hit[2], pattern: null, reason: hit[3] };
      alert = hit[1] === "alert";
    }
  }
  const outcome = alert ? "alert" : verdict.allowed ? "allowed" : audit ? "alert" : "blocked";
  return { ref, event, verdict, outcome };
}
