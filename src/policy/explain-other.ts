// What the policy says about a write or a connection. The enforcer does not enforce files.* and
// network.* yet: these answers are the policy's meaning, reported as such.
//
// Writes: a path a files.readOnly glob matches is refused; one a files.watch glob matches is
// allowed and reported; anything else is allowed. readOnly wins over watch.
// Connections: an exception (exe glob and destination) lets that program through; otherwise a
// connect.deny entry refuses; otherwise, when there is a connect.allow list, only what it lists is
// allowed; otherwise anything is allowed. Entries may carry a port or a port range.
// Paths and executables are judged like exec paths: canonical, against each glob and its canonical
// variant on this machine.

import { matchGlob } from "./glob.js";
import { canonicalGlobVariant, canonicalPath } from "./host-fs.js";
import { cidrContainsAddress, parseAddress, parseCidr, parseConnectRule } from "./cidr.js";
import type { Policy } from "./schema.js";

export interface RuleAnswer {
  outcome: "allowed" | "blocked" | "alert" | "reported";
  rule: string;
  pattern: string | null;
  reason: string;
  notes: string[];
}

function firstMatch(globs: readonly string[] | undefined, path: string): { index: number; glob: string; as: string } | null {
  for (const [index, glob] of (globs ?? []).entries()) {
    if (matchGlob(glob, path)) return { index, glob, as: glob };
    const variant = canonicalGlobVariant(glob);
    if (variant !== null && matchGlob(variant, path)) return { index, glob, as: variant };
  }
  return null;
}

function asText(m: { glob: string; as: string }): string {
  return m.as === m.glob ? `"${m.glob}"` : `"${m.glob}" (as "${m.as}" on this machine)`;
}

export function explainWrite(policy: Policy, path: string, audit: boolean): RuleAnswer {
  const canonical = canonicalPath(path) ?? path;
  const notes = canonical === path ? [] : [`${path} is ${canonical} on this machine`];
  const files = policy.spec?.files;
  const ro = firstMatch(files?.readOnly, canonical);
  if (ro !== null) {
    return {
      outcome: audit ? "alert" : "blocked",
      rule: `files.readOnly[${ro.index}]`,
      pattern: ro.glob,
      reason: `files.readOnly[${ro.index}] ${asText(ro)} matches ${canonical}: the path is read-only`,
      notes,
    };
  }
  const watch = firstMatch(files?.watch, canonical);
  if (watch !== null) {
    return {
      outcome: "reported",
      rule: `files.watch[${watch.index}]`,
      pattern: watch.glob,
      reason: `files.watch[${watch.index}] ${asText(watch)} matches ${canonical}: the write is allowed and reported`,
      notes,
    };
  }
  return { outcome: "allowed", rule: "default", pattern: null, reason: `no files.readOnly or files.watch glob matches ${canonical}`, notes };
}

/** "10.0.0.1:443", "[::1]:8080". Null when not ADDR:PORT. */
export function parseHostPort(text: string): { address: string; port: number } | null {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:]+):(\d{1,5})$/.exec(text);
  if (!m) return null;
  const port = Number(m[2]);
  if (parseAddress(m[1] ?? "") === null || port < 1 || port > 65535) return null;
  return { address: m[1] ?? "", port };
}

function connectMatch(list: readonly string[] | undefined, address: string, port: number): { index: number; text: string } | null {
  const addr = parseAddress(address);
  if (addr === null) return null;
  for (const [index, text] of (list ?? []).entries()) {
    const rule = parseConnectRule(text);
    if (rule === null || !cidrContainsAddress(rule.cidr, addr)) continue;
    if (rule.ports !== null && (port < rule.ports.low || port > rule.ports.high)) continue;
    return { index, text };
  }
  return null;
}

export function explainConnect(policy: Policy, address: string, port: number, exe: string | null, audit: boolean): RuleAnswer {
  const connect = policy.spec?.network?.connect;
  const notes: string[] = [];
  const addr = parseAddress(address);
  if (addr === null) throw new Error(`bug: unvalidated address ${address}`);
  const canonicalExe = exe === null ? null : (canonicalPath(exe) ?? exe);
  if (exe !== null && canonicalExe !== exe) notes.push(`${exe} is ${canonicalExe ?? exe} on this machine`);
  if (canonicalExe !== null) {
    for (const [i, exception] of (connect?.exceptions ?? []).entries()) {
      const byExe = firstMatch([exception.exe], canonicalExe);
      if (byExe === null) continue;
      const j = exception.to.findIndex((to) => {
        const cidr = parseCidr(to);
        return cidr !== null && cidrContainsAddress(cidr, addr);
      });
      if (j >= 0) {
        if (connect?.exceptionsFor !== "any") {
          notes.push(
            "only when the connecting process is the application's own: one the enforcer started, or started by it, running no code from a command line (-c, -e), standard input or a file written after start on the way (spec.network.connect.exceptionsFor: any lifts this); otherwise the rules below decide",
          );
        }
        return {
          outcome: "allowed",
          rule: `network.connect.exceptions[${i}]`,
          pattern: exception.exe,
          reason: `network.connect.exceptions[${i}]: ${asText(byExe)} may connect to ${exception.to[j] ?? ""}, whatever the deny and allow lists say`,
          notes,
        };
      }
    }
  } else if ((connect?.exceptions?.length ?? 0) > 0) {
    notes.push("exceptions depend on the connecting program: give --exe PATH to take them into account");
  }
  const denied = connectMatch(connect?.deny, address, port);
  if (denied !== null) {
    return {
      outcome: audit ? "alert" : "blocked",
      rule: `network.connect.deny[${denied.index}]`,
      pattern: denied.text,
      reason: `network.connect.deny[${denied.index}] "${denied.text}" covers ${address} port ${port}`,
      notes,
    };
  }
  if (connect?.allow !== undefined && connect.allow.length > 0) {
    const allowed = connectMatch(connect.allow, address, port);
    if (allowed !== null) {
      return {
        outcome: "allowed",
        rule: `network.connect.allow[${allowed.index}]`,
        pattern: allowed.text,
        reason: `network.connect.allow[${allowed.index}] "${allowed.text}" covers ${address} port ${port}`,
        notes,
      };
    }
    return {
      outcome: audit ? "alert" : "blocked",
      rule: "network.connect.allow",
      pattern: null,
      reason: `no network.connect.allow entry covers ${address} port ${port} (with an allow list, every other destination is refused)`,
      notes,
    };
  }
  return { outcome: "allowed", rule: "default", pattern: null, reason: `no network.connect rule covers ${address} port ${port}`, notes };
}
