// Forwards the signals this process receives to a child, like tini does for its child. Signals
// that arrive before the child exists are remembered, so the caller can stop instead of starting it.

import type { ChildProcess } from "node:child_process";

export const RELAYED_SIGNALS: readonly NodeJS.Signals[] = [
  "SIGINT",
  "SIGTERM",
  "SIGHUP",
  "SIGQUIT",
  "SIGUSR1",
  "SIGUSR2",
  "SIGWINCH",
];

export class SignalRelay {
  private child: ChildProcess | null = null;
  private pendingSignal: NodeJS.Signals | null = null;
  private readonly handler = (signal: NodeJS.Signals): void => {
    if (this.child !== null && this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill(signal);
    } else if (this.pendingSignal === null && signal !== "SIGWINCH") {
      this.pendingSignal = signal;
    }
  };

  constructor(private readonly signals: readonly NodeJS.Signals[] = RELAYED_SIGNALS) {
    for (const signal of signals) process.on(signal, this.handler);
  }

  /** The first terminating signal received while no child was attached, if any. */
  get pending(): NodeJS.Signals | null {
    return this.pendingSignal;
  }

  attach(child: ChildProcess): void {
    this.child = child;
  }

  dispose(): void {
    for (const signal of this.signals) process.off(signal, this.handler);
    this.child = null;
  }
}
