// Temporary directories that tests create and always remove.

import { mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";

export interface TempDir {
  /** Canonical path (realpath), so it can be compared with the enforcer's canonical paths. */
  readonly path: string;
  join(...parts: string[]): string;
  remove(): void;
}

export function makeTempDir(prefix: string): TempDir {
  const dir = realpathSync(mkdtempSync(path.join(tmpdir(), `vigil-${prefix}-`)));
  return {
    path: dir,
    join: (...parts) => path.join(dir, ...parts),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * Lets files just written count as part of the "image" for an enforcer started next. File systems stamp ctime
 * with the coarse clock, and the enforcer takes its start for drift from the same clock; a file written in the
 * tick the enforcer starts in (1–10 ms) has a ctime equal to the start, which is drift. 30 ms is past any tick.
 */
export function pastCoarseTick(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 30));
}
