// Checks on a policy that is valid by the schema: rules that contradict each other, rules that can
// never apply, duplicates, and rules the enforcer accepts but does not enforce yet. Pure: no file
// system, no machine-specific facts. Positions are added by the caller from the field paths.

import type { Severity } from "./diagnostic.js";
import { globCovers } from "./glob-relations.js";
import type { FieldPath } from "./parse-source.js";
import { cidrCovers, formatCidr, parseConnectRule } from "./cidr.js";
import { globError } from "./glob.js";
import { checkCidr, checkCidrWithPorts, checkPortRange } from "./network-values.js";

export interface Finding {
  severity: Severity;
  path: FieldPath;
  /** Point at the key rather than the value (for "not yet enforced"). */
  at?: "key";
  message: string;
}

/**
 * The sections the enforcer accepts but does not enforce yet (enforcer/src/policy.c, the keys whose
 * `enforced` is false; its start event lists them as notEnforced). Today it enforces every section
 * of the policy; a key added to the language before the enforcer acts on it goes here.
 */
const NOT_ENFORCED: readonly FieldPath[] = [];

type List = readonly (string | undefined)[] | undefined;

/**
 * Checks the document as plain data, so it also runs when other parts of the document are invalid:
 * a list element that is not valid is skipped (its error comes from the schema) and indices stay
 * those of the user's file.
 */
export function lintPolicy(data: unknown): Finding[] {
  const findings: Finding[] = [];
  const globs = (path: FieldPath): List => listAt(data, path, (v) => typeof v === "string" && globError(v) === null);
  const cidrs = (path: FieldPath): List => listAt(data, path, (v) => typeof v === "string" && checkCidrWithPorts(v).ok);
  const allow = globs(["spec", "exec", "allow"]);
  const deny = globs(["spec", "exec", "deny"]);

  const rawAllow = valueAt(data, ["spec", "exec", "allow"]);
  if (Array.isArray(rawAllow) && rawAllow.length === 0) {
    findings.push({
      severity: "error",
      path: ["spec", "exec", "allow"],
      message: "an empty allow list allows every program (no allow list at all); list the programs to allow, or remove the key",
    });
  }
  findings.push(...duplicateGlobs(allow, ["spec", "exec", "allow"]));
  findings.push(...duplicateGlobs(deny, ["spec", "exec", "deny"]));
  findings.push(...shadowedAllows(allow, deny, ["spec", "exec", "allow"], ["spec", "exec", "deny"], "program"));

  const readOnly = globs(["spec", "files", "readOnly"]);
  const watch = globs(["spec", "files", "watch"]);
  findings.push(...duplicateGlobs(readOnly, ["spec", "files", "readOnly"]));
  findings.push(...duplicateGlobs(watch, ["spec", "files", "watch"]));
  findings.push(...shadowedWatches(watch, readOnly));

  const connectDeny = cidrs(["spec", "network", "connect", "deny"]);
  const connectAllow = cidrs(["spec", "network", "connect", "allow"]);
  findings.push(...cidrHostBits(connectDeny, ["spec", "network", "connect", "deny"]));
  findings.push(...cidrHostBits(connectAllow, ["spec", "network", "connect", "allow"]));
  const exceptions = valueAt(data, ["spec", "network", "connect", "exceptions"]);
  if (Array.isArray(exceptions)) {
    exceptions.forEach((_, i) => {
      const path: FieldPath = ["spec", "network", "connect", "exceptions", i, "to"];
      findings.push(...cidrHostBits(listAt(data, path, (v) => typeof v === "string" && checkCidr(v).ok), path));
    });
  }
  findings.push(...shadowedConnects(connectAllow, connectDeny));
  const ports = listAt(data, ["spec", "network", "listen", "allow"], (v) => (typeof v === "string" || typeof v === "number") && checkPortRange(v).ok);
  findings.push(...duplicatePorts(ports));

  for (const path of NOT_ENFORCED) {
    if (valueAt(data, path) !== undefined) {
      findings.push({
        severity: "warning",
        path,
        at: "key",
        message: "not yet enforced: the enforcer accepts this rule and lists it in its start event (notEnforced), but does not act on it yet",
      });
    }
  }
  return findings;
}

/** The list at `path` as strings, with elements that are not valid left undefined (indices kept). */
function listAt(root: unknown, path: FieldPath, valid: (v: unknown) => boolean): List {
  const value = valueAt(root, path);
  if (!Array.isArray(value)) return undefined;
  return value.map((v: unknown) => (valid(v) ? String(v) : undefined));
}

function valueAt(root: unknown, path: FieldPath): unknown {
  let current: unknown = root;
  for (const part of path) {
    if (current === null || typeof current !== "object") return undefined;
    current = (current as Record<string | number, unknown>)[part];
  }
  return current;
}

function show(path: FieldPath): string {
  let out = "";
  for (const part of path) out += typeof part === "number" ? `[${part}]` : out === "" ? part : `.${part}`;
  return out;
}

function duplicateGlobs(list: List, path: FieldPath): Finding[] {
  const out: Finding[] = [];
  list?.forEach((glob, i) => {
    if (glob === undefined) return;
    const first = list.indexOf(glob);
    if (first < i) {
      out.push({ severity: "warning", path: [...path, i], message: `duplicate of ${show([...path, first])} "${glob}"; remove one` });
      return;
    }
    const wider = list.findIndex((other, j) => j !== i && other !== undefined && other !== glob && globCovers(other, glob));
    if (wider >= 0) {
      out.push({
        severity: "warning",
        path: [...path, i],
        message: `redundant: ${show([...path, wider])} "${list[wider] ?? ""}" already matches every path "${glob}" matches`,
      });
    }
  });
  return out;
}

// A deny wins over an allow: an allow every one of whose paths a deny also matches never applies.
function shadowedAllows(
  allow: List,
  deny: List,
  allowPath: FieldPath,
  denyPath: FieldPath,
  what: string,
): Finding[] {
  const out: Finding[] = [];
  allow?.forEach((glob, i) => {
    if (glob === undefined) return;
    const j = deny?.findIndex((d) => d !== undefined && globCovers(d, glob)) ?? -1;
    if (j < 0) return;
    const denied = deny?.[j] ?? "";
    const message =
      denied === glob
        ? `"${glob}" is both allowed and denied (${show([...denyPath, j])}); deny wins, so this allow never applies — remove one of them`
        : `never applies: ${show([...denyPath, j])} "${denied}" denies every ${what} "${glob}" matches, and deny wins over allow — remove one of them or narrow the deny`;
    out.push({ severity: "error", path: [...allowPath, i], message });
  });
  return out;
}

// A write to a read-only path is refused, so watching it reports nothing a write could do.
function shadowedWatches(watch: List, readOnly: List): Finding[] {
  const out: Finding[] = [];
  watch?.forEach((glob, i) => {
    if (glob === undefined) return;
    const j = readOnly?.findIndex((r) => r !== undefined && globCovers(r, glob)) ?? -1;
    if (j < 0) return;
    out.push({
      severity: "error",
      path: ["spec", "files", "watch", i],
      message: `never applies: spec.files.readOnly[${j}] "${readOnly?.[j] ?? ""}" makes every path "${glob}" matches read-only, so no write is left to watch — remove one of them`,
    });
  });
  return out;
}

function cidrHostBits(list: List, path: FieldPath): Finding[] {
  const out: Finding[] = [];
  list?.forEach((text, i) => {
    if (text === undefined) return;
    const rule = parseConnectRule(text);
    if (rule?.cidr.hostBits === true) {
      out.push({
        severity: "warning",
        path: [...path, i],
        message: `"${text.trim().split(/\s+/)[0] ?? ""}" has host bits set: it means ${formatCidr(rule.cidr)}; write that`,
      });
    }
  });
  return out;
}

function shadowedConnects(allow: List, deny: List): Finding[] {
  const out: Finding[] = [];
  allow?.forEach((text, i) => {
    if (text === undefined) return;
    const a = parseConnectRule(text);
    if (a === null) return;
    const j =
      deny?.findIndex((d) => {
        const r = d === undefined ? null : parseConnectRule(d);
        if (r === null || !cidrCovers(r.cidr, a.cidr)) return false;
        if (r.ports === null) return true;
        return a.ports !== null && r.ports.low <= a.ports.low && a.ports.high <= r.ports.high;
      }) ?? -1;
    if (j < 0) return;
    out.push({
      severity: "error",
      path: ["spec", "network", "connect", "allow", i],
      message: `never applies: spec.network.connect.deny[${j}] "${deny?.[j] ?? ""}" denies every connection "${text}" allows, and deny wins over allow — remove one of them (use exceptions to let one program through)`,
    });
  });
  return out;
}

function duplicatePorts(list: List): Finding[] {
  const out: Finding[] = [];
  const ranges = list?.map((p) => (p === undefined ? undefined : p.split("-").map(Number))) ?? [];
  ranges.forEach((range, i) => {
    if (range === undefined) return;
    const [low = 0, high = low] = range;
    const j = ranges.findIndex((r, k) => r !== undefined && k < i && (r[0] ?? 0) <= low && high <= (r[1] ?? r[0] ?? 0));
    if (j >= 0) {
      out.push({ severity: "warning", path: ["spec", "network", "listen", "allow", i], message: `redundant: spec.network.listen.allow[${j}] already allows it` });
    }
  });
  return out;
}

