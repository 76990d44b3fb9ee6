// A short human-readable table of events, one line each.

import type { VigilEvent } from "./schema.js";

const MAX_ARGV_SHOWN = 40;

export function formatEventSummary(events: readonly VigilEvent[]): string {
  const rows = events.map(summaryRow);
  const exeWidth = Math.min(32, Math.max(0, ...rows.map((r) => r.subject.length)));
  return rows.map((r) => `  ${r.verdict.padEnd(8)} ${r.kind.padEnd(9)} ${r.subject.padEnd(exeWidth)}  ${r.detail}`.trimEnd()).join("\n");
}

interface Row {
  verdict: string;
  kind: string;
  subject: string;
  detail: string;
}

function summaryRow(event: VigilEvent): Row {
  if (event.kind === "dropped")
    return { verdict: "DROPPED", kind: "dropped", subject: `${event.count} events`, detail: "the event sink could not keep up" };
  const verdict = event.verdict.toUpperCase();
  switch (event.kind) {
    case "exec": {
      const rule = event.rule === null ? "" : `rule ${event.rule}${ruleNote(event.rule, event.pattern)}`;
      const via = event.mechanism === "ptrace" ? "" : ` via ${event.mechanism}`;
      return { verdict, kind: "exec", subject: event.exe, detail: `${shortArgv(event.argv)}  ${rule}${via}`.trim() };
    }
    case "lifecycle":
      switch (event.event) {
        case "start":
          return {
            verdict,
            kind: "lifecycle",
            subject: "start",
            detail: `policy ${event.policyName ?? "(none)"}, mode ${event.mode}, ptrace ${onOff(event.mechanisms.ptrace)}, landlock ${event.mechanisms.landlock === 0 ? "off" : `ABI ${event.mechanisms.landlock}`}, seccomp ${onOff(event.mechanisms.seccomp)}`,
          };
        case "exit":
          return { verdict, kind: "lifecycle", subject: "exit", detail: `status ${event.status}` };
        case "failopen":
          return { verdict, kind: "lifecycle", subject: "failopen", detail: `running UNPROTECTED: ${event.reason}` };
        case "policy":
          return {
            verdict,
            kind: "lifecycle",
            subject: "policy",
            detail: event.applied
              ? `policy ${event.policyName ?? event.policy.slice(0, 12)} from the console, mode ${event.mode ?? "?"}${event.notApplied.length > 0 ? `; not applied until restart: ${event.notApplied.join("; ")}` : ""}`
              : `policy ${event.policy.slice(0, 12)} from the console refused: ${event.reason ?? "?"}`,
          };
      }
      break;
    default:
      return { verdict, kind: event.kind, subject: event.exe, detail: event.rule === null ? "" : `rule ${event.rule}` };
  }
}

function shortArgv(argv: readonly string[]): string {
  const text = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : JSON.stringify(a))).join(" ");
  return text.length > MAX_ARGV_SHOWN ? `${text.slice(0, MAX_ARGV_SHOWN - 1)}…` : text;
}

function ruleNote(rule: string, pattern: string | null): string {
  if (pattern !== null) return ` (${pattern})`;
  return rule === "exec.allow" ? " (matches no allow glob)" : "";
}

function onOff(value: boolean): string {
  return value ? "on" : "off";
}
