// The enforcer's view of the file system at load time (enforcer/src/fswalk.c), on this machine:
// canonical paths, canonical variants of globs, and bounded walks of the files a glob names.
// Used by `explain` and `test`, which must decide exactly as the enforcer would here.

import type { Dirent, Stats } from "node:fs";
import { lstatSync, readdirSync, realpathSync, statSync } from "node:fs";
import { globError, globMayMatchBelow, matchGlob } from "./glob.js";
import { hasWildcard, literalPrefix } from "./glob-relations.js";

export const FSWALK_MAX_DEPTH = 32;
export const FSWALK_MAX_ENTRIES = 200_000;

export function realpathOrNull(path: string): string | null {
  try {
    return realpathSync.native(path);
  } catch {
    return null;
  }
}

export function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}

function join(dir: string, name: string): string {
  return dir === "/" ? `/${name}` : `${dir}/${name}`;
}

/** realpath of the path, or of its parent plus the last segment (fs_canonical). */
export function canonicalPath(path: string): string | null {
  const real = realpathOrNull(path);
  if (real !== null) return real;
  const slash = path.lastIndexOf("/");
  if (slash <= 0) return null;
  const parent = realpathOrNull(path.slice(0, slash));
  return parent === null ? null : join(parent, path.slice(slash + 1));
}

/** The glob with its literal prefix replaced by that prefix's canonical path, or null when the same (fs_canonical_glob). */
export function canonicalGlobVariant(glob: string): string | null {
  const prefix = literalPrefix(glob);
  if (prefix === "") return null;
  const real = canonicalPath(prefix);
  if (real === null) return null;
  const variant = `${real === "/" ? "" : real}${glob.slice(prefix.length)}`;
  return variant !== glob && (variant === "/" || globError(variant) === null) ? variant : null;
}

export interface WalkedFile {
  path: string;
  /** lstat of the entry (a symlink is not followed). */
  lstat: Stats;
}

/** Every existing file or directory matching the glob, symlinks not followed (fs_walk_glob). */
export function walkGlob(glob: string): { files: WalkedFile[]; complete: boolean } {
  const files: WalkedFile[] = [];
  const prefix = literalPrefix(glob);
  const start = prefix === "" ? "/" : prefix;
  if (!hasWildcard(glob)) {
    const st = lstatOrNull(start);
    if (st !== null) files.push({ path: start, lstat: st });
    return { files, complete: true };
  }
  let entries = 0;
  let complete = true;
  const walk = (dir: string, depth: number): void => {
    if (depth > FSWALK_MAX_DEPTH) {
      complete = false;
      return;
    }
    let list: Dirent[];
    try {
      list = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of list) {
      if (++entries > FSWALK_MAX_ENTRIES) {
        complete = false;
        return;
      }
      const path = join(dir, entry.name);
      if (matchGlob(glob, path)) {
        const st = lstatOrNull(path);
        if (st !== null) files.push({ path, lstat: st });
      }
      if (entry.isDirectory() && path !== "/proc" && path !== "/sys" && globMayMatchBelow(glob, path)) walk(path, depth + 1);
    }
  };
  walk(start, 0);
  return { files, complete };
}
