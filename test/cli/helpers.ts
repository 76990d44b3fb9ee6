// Runs the CLI in-process with captured output, a private TMPDIR and a chosen working directory.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { onTestFinished } from "vitest";
import type { CliResult } from "../../src/cli/io.js";
import { runCli } from "../../src/cli/run-cli.js";

/** A new empty directory, removed when the current test finishes. */
export function freshDir(prefix = "vigil-test-"): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  onTestFinished(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface RunOptions {
  cwd?: string;
  stdin?: string;
  env?: Record<string, string | undefined>;
}

export function run(argv: readonly string[], options: RunOptions = {}): Promise<CliResult> {
  return runCli(argv, {
    stdio: "capture",
    env: { ...process.env, ...options.env },
    cwd: options.cwd ?? process.cwd(),
    readStdin: () => Promise.resolve(options.stdin ?? ""),
  });
}
