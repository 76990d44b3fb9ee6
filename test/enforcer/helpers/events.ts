// Reading the enforcer's events: validated against the TypeScript schema (the source of truth).

import type { ExecEvent, LifecycleEvent, VigilEvent } from "../../../src/events/schema.js";

export type { ExecEvent, LifecycleEvent, VigilEvent };

export function execEvents(events: readonly VigilEvent[]): ExecEvent[] {
  return events.filter((e): e is ExecEvent => e.kind === "exec");
}

/** Exec events about `exe` (the canonical path). */
export function execEventsFor(events: readonly VigilEvent[], exe: string): ExecEvent[] {
  return execEvents(events).filter((e) => e.exe === exe);
}

export function blockedExecs(events: readonly VigilEvent[]): ExecEvent[] {
  return execEvents(events).filter((e) => e.verdict === "blocked");
}

export function lifecycle(events: readonly VigilEvent[], event: LifecycleEvent["event"]): LifecycleEvent[] {
  return events.filter((e): e is LifecycleEvent => e.kind === "lifecycle" && e.event === event);
}

/** A short, readable dump of exec events for assertion messages. */
export function describeExecs(events: readonly VigilEvent[]): string {
  return execEvents(events)
    .map((e) => `${e.verdict} ${e.exe} rule=${String(e.rule)} mech=${e.mechanism} argv=${JSON.stringify(e.argv)}`)
    .join("\n");
}
