// A private temporary directory that is removed when the callback settles, whatever happens.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export async function withTempDir<T>(
  env: Readonly<Record<string, string | undefined>>,
  prefix: string,
  use: (dir: string) => Promise<T>,
): Promise<T> {
  const base = env["TMPDIR"] !== undefined && env["TMPDIR"] !== "" ? env["TMPDIR"] : tmpdir();
  const dir = await mkdtemp(join(base, prefix));
  try {
    return await use(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
