// Runs the enforcer as a child, forwarding signals, and reports how it ended.

import { spawn } from "node:child_process";
import { UserError } from "../cli/errors.js";
import { exitStatus } from "./exit-status.js";
import type { SignalRelay } from "./signal-relay.js";

export interface EnforcerOptions {
  /** "inherit" passes this process's stdio through; "capture" collects stdout and stderr. */
  stdio: "inherit" | "capture";
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  relay: SignalRelay;
}

export interface EnforcerOutcome {
  /** The enforcer's exit code, 128+N if it died of signal N. */
  status: number;
  stdout: string;
  stderr: string;
}

export function runEnforcer(binary: string, args: readonly string[], options: EnforcerOptions): Promise<EnforcerOutcome> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      cwd: options.cwd,
      env: { ...options.env },
      stdio: options.stdio === "inherit" ? "inherit" : ["ignore", "pipe", "pipe"],
    });
    options.relay.attach(child);
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => stderr.push(chunk));
    child.on("error", (error: NodeJS.ErrnoException) => {
      reject(
        new UserError(
          `cannot start the enforcer ${binary}: ${error.message}`,
          error.code === "ENOEXEC" ? "it was built for another architecture; run `npm run build` on this machine" : "check the file, or rebuild it with `npm run build`",
        ),
      );
    });
    child.on("close", (code, signal) => {
      resolve({
        status: exitStatus(code, signal),
        stdout: Buffer.concat(stdout).toString("utf8"),
        stderr: Buffer.concat(stderr).toString("utf8"),
      });
    });
  });
}
