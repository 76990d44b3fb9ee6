// `vigil policy learn`: recorded exec events (audit mode) to the tightest exec allow list that would
// have allowed all of them. Exact paths, except where the events themselves show one program at
// paths that differ in a volatile part (a temporary directory's random name, a version or build
// number): there, and only there, a "*" stands for that part. Each rule carries a comment saying
// which events it came from. With a base policy, its document is kept (comments included) and only
// the missing allow rules are added. Pure: events and documents in, text out.

import type { Document } from "yaml";
import { isSeq, parseDocument, YAMLSeq } from "yaml";
import type { ConnectEvent, ExecEvent } from "../events/schema.js";
import type { ExecRules } from "./exec-rules.js";
import { decideExec } from "./exec-rules.js";
import { globError, matchGlob } from "./glob.js";
import type { EventRef } from "./replay.js";

export interface ObservedExec {
  event: ExecEvent;
  ref: EventRef;
}

/** A connect event whose `exceptionNotOwn` names an exception that did not apply (the process was not the application's own). */
export interface ObservedConnect {
  event: ConnectEvent;
  ref: EventRef;
}

export interface LearnResult {
  /** The policy document (YAML). */
  text: string;
  /** The allow rules added, in order. */
  added: string[];
  /** Things the user must know: files no allow rule can cover, events the base policy's deny rules refuse. */
  notes: string[];
}

interface Use {
  role: "program" | "script" | "loaded program";
  ref: EventRef;
  argv: readonly string[];
}

/** Executables with no name on disk cannot be allowed by path: exec.fileless governs them. */
function learnable(path: string): boolean {
  return path.startsWith("/") && path !== "?" && !path.startsWith("/memfd:") && !path.includes(" (deleted)") && globError(path) === null;
}

function usesOf(observed: readonly ObservedExec[]): Map<string, Use[]> {
  const uses = new Map<string, Use[]>();
  const add = (path: string | null | undefined, role: Use["role"], o: ObservedExec): void => {
    if (path === null || path === undefined) return;
    const list = uses.get(path) ?? [];
    list.push({ role, ref: o.ref, argv: o.event.argv });
    uses.set(path, list);
  };
  for (const o of observed) {
    add(o.event.exe, "program", o);
    add(o.event.script, "script", o);
    add(o.event.program, "loaded program", o);
  }
  return uses;
}

// A part of a name that changes from run to run: digits, or a random-looking run of letters and digits.
function volatile(part: string): boolean {
  return /^[A-Za-z0-9_]+$/.test(part) && (/\d/.test(part) || part.length >= 6);
}

function commonPrefix(words: readonly string[]): string {
  let p = words[0] ?? "";
  for (const w of words) while (!w.startsWith(p)) p = p.slice(0, -1);
  return p;
}

function commonSuffix(words: readonly string[]): string {
  let s = words[0] ?? "";
  for (const w of words) while (!w.endsWith(s)) s = s.slice(1);
  return s;
}

const isAlnum = (c: string | undefined): boolean => c !== undefined && /[A-Za-z0-9]/.test(c);
const isDigit = (c: string | undefined): boolean => c !== undefined && /\d/.test(c);

/**
 * The common start of names that is their fixed part: it ends at a separator ("job." of
 * "job.u7ruCB") or where letters meet the digits of every name ("build" of "build12"), never inside
 * a random run (two random names may share "a" or end in "i" by chance).
 */
function fixedPrefix(names: readonly string[]): string {
  let p = commonPrefix(names);
  while (p !== "" && isAlnum(p.at(-1)) && !(!isDigit(p.at(-1)) && names.every((n) => isDigit(n[p.length])))) p = p.slice(0, -1);
  return p;
}

/** The common end of names that is their fixed part, by the same rule as fixedPrefix. */
function fixedSuffix(names: readonly string[]): string {
  let s = commonSuffix(names);
  while (s !== "" && isAlnum(s[0]) && !(!isDigit(s[0]) && names.every((n) => isDigit(n[n.length - s.length - 1])))) s = s.slice(1);
  return s;
}

/**
 * Paths that differ in one segment only, each in a volatile part, become one glob with "*" there.
 * Repeated until nothing changes, so two volatile segments give two stars. Returns glob -> paths.
 */
export function generalize(paths: readonly string[]): Map<string, string[]> {
  let groups = new Map<string, string[]>(paths.map((p) => [p, [p]]));
  for (let changed = true; changed; ) {
    changed = false;
    const keys = [...groups.keys()].sort();
    const segs = keys.map((k) => k.slice(1).split("/"));
    const byHole = new Map<string, number[]>();
    segs.forEach((s, i) => {
      for (let at = 0; at < s.length; at++) {
        const hole = `${s.length}|${at}|${[...s.slice(0, at), "\0", ...s.slice(at + 1)].join("/")}`;
        byHole.set(hole, [...(byHole.get(hole) ?? []), i]);
      }
    });
    const merged = new Set<number>();
    const next = new Map<string, string[]>();
    for (const [hole, members] of [...byHole.entries()].sort()) {
      const free = members.filter((i) => !merged.has(i));
      if (free.length < 2) continue;
      const at = Number(hole.split("|")[1]);
      const names = free.map((i) => segs[i]?.[at] ?? "");
      if (names.some((n) => n.includes("*"))) continue;
      const prefix = fixedPrefix(names);
      const suffix = fixedSuffix(names.map((n) => n.slice(prefix.length)));
      const middles = names.map((n) => n.slice(prefix.length, n.length - suffix.length));
      if (!middles.every(volatile)) continue;
      const first = segs[free[0] ?? 0] ?? [];
      const glob = `/${[...first.slice(0, at), `${prefix}*${suffix}`, ...first.slice(at + 1)].join("/")}`;
      if (globError(glob) !== null) continue;
      const covered = free.flatMap((i) => groups.get(keys[i] ?? "") ?? []);
      next.set(glob, [...(next.get(glob) ?? []), ...covered].sort());
      for (const i of free) merged.add(i);
      changed = true;
    }
    keys.forEach((k, i) => {
      if (!merged.has(i)) next.set(k, groups.get(k) ?? []);
    });
    groups = next;
  }
  return groups;
}

function refsText(uses: readonly Use[]): string {
  const refs = uses.map((u) => `${u.ref.file}:${u.ref.line}`);
  const shown = refs.slice(0, 3).join(", ");
  const more = refs.length > 3 ? ` and ${refs.length - 3} more` : "";
  const roles = [...new Set(uses.map((u) => u.role))].join(", ");
  const argv = (uses[0]?.argv ?? []).join(" ").replace(/[\r\n\t]/g, " ");
  const example = argv.length > 80 ? `${argv.slice(0, 77)}...` : argv;
  return ` ${uses.length} exec event${uses.length === 1 ? "" : "s"} (${roles}): ${shown}${more}${example === "" ? "" : `; e.g. ${example}`}`;
}

const SKELETON = `# Learned by vigil policy learn from recorded exec events: the tightest allow list that would
# have allowed every one of them. Review it, replay more events with \`vigil policy test\`, then
# enforce it.
apiVersion: vigil/v1
kind: Policy
metadata: { name: learned }
spec:
  mode: enforce
`;

/**
 * One note per network.connect exception that refused a program only because its process was not the
 * application's own (exceptionsFor application): the learned policy does not relax that by itself, it
 * says what would.
 */
export function notOwnNotes(connects: readonly ObservedConnect[]): string[] {
  const byException = new Map<string, ObservedConnect[]>();
  for (const c of connects) {
    const key = c.event.exceptionNotOwn ?? "";
    byException.set(key, [...(byException.get(key) ?? []), c]);
  }
  return [...byException.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([exception, list]) => {
      const first = list[0];
      const e = first?.event;
      const argv = (e?.argv ?? []).join(" ").replace(/[\r\n\t]/g, " ");
      const example = argv.length > 80 ? `${argv.slice(0, 77)}...` : argv;
      return (
        `${exception} did not apply to ${list.length} connect${list.length === 1 ? "" : "s"} (first ${first?.ref.file ?? ""}:${first?.ref.line ?? 0}: ` +
        `${e?.exe ?? "?"} to ${e?.address ?? "?"}:${e?.port ?? 0}${example === "" ? "" : `, ${example}`}): the process was not the application's own ` +
        `(started through a shell command line, inline code or a program not from the image). If the application itself starts it that way ` +
        `(npm start runs "sh -c ..."), start the program directly or set spec.network.connect.exceptionsFor: any`
      );
    });
}

/**
 * `base` is the --from policy's document text and its exec rules (null: start from scratch).
 * Observed programs the base already allows are not added again; ones it denies are reported.
 * `connects`: refused connects an exception would have allowed for the application's own process (notes only).
 */
export function learnPolicy(observed: readonly ObservedExec[], base: { text: string; rules: ExecRules } | null, connects: readonly ObservedConnect[] = []): LearnResult {
  const notes: string[] = [...notOwnNotes(connects)];
  const uses = usesOf(observed);
  const wanted: string[] = [];
  for (const [path, list] of [...uses.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (!learnable(path)) {
      notes.push(`${path}: no file on disk to allow by path (${list.length} event${list.length === 1 ? "" : "s"}, first ${list[0]?.ref.file ?? ""}:${list[0]?.ref.line ?? 0}); exec.fileless governs it`);
      continue;
    }
    if (base !== null) {
      const verdict = decideExec(base.rules, path, null);
      if (!verdict.allowed && verdict.rule !== "exec.allow") {
        notes.push(`${path}: denied by ${verdict.rule} "${verdict.pattern ?? ""}" of the base policy (${list.length} event${list.length === 1 ? "" : "s"}); not allowed — remove or narrow that deny if it must run`);
        continue;
      }
      if (verdict.allowed && verdict.rule.startsWith("exec.allow[")) continue;
    }
    wanted.push(path);
  }

  const doc: Document = parseDocument(base?.text ?? SKELETON);
  let seq = doc.getIn(["spec", "exec", "allow"], true);
  if (!isSeq(seq)) {
    seq = new YAMLSeq();
    doc.setIn(["spec", "exec", "allow"], seq);
  }
  const allow = seq as YAMLSeq;
  const added: string[] = [];
  // Comments need a block list: `allow: [a, b]` of a base policy becomes one item a line.
  if (wanted.length > 0) allow.flow = false;
  for (const [glob, paths] of [...generalize(wanted).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const node = doc.createNode(glob);
    const allUses = paths
      .flatMap((p) => uses.get(p) ?? [])
      .sort((a, b) => (a.ref.file < b.ref.file ? -1 : a.ref.file > b.ref.file ? 1 : a.ref.line - b.ref.line));
    const comment = [refsText(allUses)];
    if (glob !== paths[0] || paths.length > 1) comment.push(` a glob because the events show it at ${paths.length} paths: ${paths.join(", ")}`);
    node.commentBefore = comment.join("\n");
    allow.items.push(node);
    added.push(glob);
  }
  // Every observed path must be covered by what was written (a bug otherwise).
  for (const path of wanted) {
    if (!added.some((g) => matchGlob(g, path))) throw new Error(`bug: learned policy does not cover ${path}`);
  }
  return { text: doc.toString({ lineWidth: 0 }), added, notes };
}
