// The exec decision, exactly as the enforcer takes it (enforcer/src/rules.c and
// docs/compiled-policy.md, "Exec semantics"), on this machine:
//
//   1. a path matching an exec.deny glob, or its canonical variant, is blocked;
//   2. a file that is the same (device, inode) as a file a deny glob names on disk is blocked;
//   3. with no exec.allow glob, anything else is allowed ("default");
//   4. else the first exec.allow glob (or canonical variant) that matches allows it;
//   5. else it is blocked by "exec.allow" (not in the allow list).
//
// Rules are tried in the order the enforcer tries them, so the rule reported is the one it reports.

import { matchGlob } from "./glob.js";
import { canonicalGlobVariant, walkGlob } from "./host-fs.js";
import { statOrNull } from "./host-fs.js";

export interface RuleGlob {
  /** The glob as matched: the policy's, or its canonical variant. */
  glob: string;
  /** Index of the policy rule it comes from. */
  rule: number;
  /** True for the canonical variant added at load time. */
  variant: boolean;
}

export interface DenyInode {
  dev: number;
  ino: number;
  rule: number;
  /** The file on disk the deny glob named (a symlink is followed to its file). */
  path: string;
}

export interface ExecRules {
  allowGlobs: readonly string[];
  denyGlobs: readonly string[];
  allow: RuleGlob[];
  deny: RuleGlob[];
  denyInodes: DenyInode[];
  /** Deny globs that named too many files to index all of them (hard links judged by path only). */
  incompleteDeny: number[];
}

export interface FileId {
  dev: number;
  ino: number;
}

export interface ExecVerdict {
  allowed: boolean;
  /** "exec.deny[1]", "exec.allow[0]", "exec.allow" (not in the allow list) or "default". */
  rule: string;
  /** The policy glob of `rule`, or null. */
  pattern: string | null;
  /** Why, in words. */
  reason: string;
}

function addVariants(list: RuleGlob[], glob: string, rule: number): void {
  const add = (g: string, variant: boolean): void => {
    if (!list.some((r) => r.rule === rule && r.glob === g)) list.push({ glob: g, rule, variant });
  };
  add(glob, false);
  const variant = canonicalGlobVariant(glob);
  if (variant !== null) add(variant, true);
}

/** Load-time work of the enforcer: canonical variants and the identity of every file a deny glob names. */
export function buildExecRules(allowGlobs: readonly string[], denyGlobs: readonly string[]): ExecRules {
  const allow: RuleGlob[] = [];
  const deny: RuleGlob[] = [];
  allowGlobs.forEach((g, i) => addVariants(allow, g, i));
  denyGlobs.forEach((g, i) => addVariants(deny, g, i));
  const denyInodes: DenyInode[] = [];
  const incompleteDeny: number[] = [];
  for (const d of deny) {
    const walked = walkGlob(d.glob);
    if (!walked.complete && !incompleteDeny.includes(d.rule)) incompleteDeny.push(d.rule);
    for (const file of walked.files) {
      const st = file.lstat.isSymbolicLink() ? statOrNull(file.path) : file.lstat;
      if (st?.isFile() === true) denyInodes.push({ dev: st.dev, ino: st.ino, rule: d.rule, path: file.path });
    }
  }
  return { allowGlobs, denyGlobs, allow, deny, denyInodes, incompleteDeny };
}

function quoted(r: RuleGlob, patterns: readonly string[]): string {
  const pattern = patterns[r.rule] ?? r.glob;
  return r.variant ? `"${pattern}" (as "${r.glob}": its literal prefix resolved with realpath on this machine)` : `"${pattern}"`;
}

/** Decide one file: `path` is canonical; `id` identifies it (null when unknown, e.g. it does not exist). */
export function decideExec(rules: ExecRules, path: string, id: FileId | null): ExecVerdict {
  for (const d of rules.deny) {
    if (matchGlob(d.glob, path)) {
      return {
        allowed: false,
        rule: `exec.deny[${d.rule}]`,
        pattern: rules.denyGlobs[d.rule] ?? null,
        reason: `exec.deny[${d.rule}] ${quoted(d, rules.denyGlobs)} matches ${path}`,
      };
    }
  }
  if (id !== null) {
    const same = rules.denyInodes.find((d) => d.dev === id.dev && d.ino === id.ino);
    if (same !== undefined) {
      return {
        allowed: false,
        rule: `exec.deny[${same.rule}]`,
        pattern: rules.denyGlobs[same.rule] ?? null,
        reason: `${path} is the same file (device ${id.dev}, inode ${id.ino}) as ${same.path}, which exec.deny[${same.rule}] "${rules.denyGlobs[same.rule] ?? ""}" names (a hard link or symlink to a denied file is denied too)`,
      };
    }
  }
  if (rules.allowGlobs.length === 0) {
    return { allowed: true, rule: "default", pattern: null, reason: `no exec.deny glob matches ${path}, and there is no allow list` };
  }
  for (const a of rules.allow) {
    if (matchGlob(a.glob, path)) {
      return {
        allowed: true,
        rule: `exec.allow[${a.rule}]`,
        pattern: rules.allowGlobs[a.rule] ?? null,
        reason: `exec.allow[${a.rule}] ${quoted(a, rules.allowGlobs)} matches ${path}`,
      };
    }
  }
  return {
    allowed: false,
    rule: "exec.allow",
    pattern: null,
    reason: `no exec.allow glob matches ${path} (with an allow list, every other program is blocked)`,
  };
}
