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
