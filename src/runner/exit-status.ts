// A child's end as a shell reports it: its exit code, or 128+N when it died of signal N.

import { constants } from "node:os";

export function exitStatus(code: number | null, signal: NodeJS.Signals | null): number {
  if (code !== null) return code;
  if (signal !== null) return 128 + (constants.signals[signal] ?? 0);
  throw new Error("bug: a child process ended with neither an exit code nor a signal");
}

export function signalStatus(signal: NodeJS.Signals): number {
  return 128 + (constants.signals[signal] ?? 0);
}
