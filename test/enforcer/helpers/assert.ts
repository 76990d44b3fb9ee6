// Assertions every enforcer run must pass, whatever it tested.

import { existsSync } from "node:fs";
import { afterEach, expect } from "vitest";
import { describeRun, takeFinishedRuns } from "./run.js";
import type { RunResult } from "./run.js";

/**
 * After each test: every event line of every enforcer run in it is valid against the TypeScript
 * schema (src/events/schema.ts). Done after the test's own assertions so that a schema mismatch
 * does not hide what the enforcer decided.
 */
export function validateEventsAfterEach(): void {
  afterEach(() => {
    const problems = takeFinishedRuns().flatMap((r) =>
      r.eventErrors.map((e) => {
        const line = r.eventsText.split("\n")[e.line - 1] ?? "";
        return `${e.message}\n    in: ${line.slice(0, 400)}`;
      }),
    );
    expect(problems, "event lines that fail src/events/schema.ts").toEqual([]);
  });
}

/** Bounded and nothing left behind. */
export function expectCleanRun(r: RunResult): void {
  const context = describeRun(r);
  expect(r.timedOut, `run timed out\n${context}`).toBe(false);
  expect(r.leftovers, `processes outlived the run\n${context}`).toEqual([]);
  expect(r.pipesHeldOpen, `stdout/stderr held open after the enforcer exited\n${context}`).toBe(false);
  expect(r.stderr, `sanitizer report\n${context}`).not.toMatch(/AddressSanitizer|LeakSanitizer|runtime error:/);
}

export function expectExit(r: RunResult, code: number): void {
  expectCleanRun(r);
  expect(r.code, describeRun(r)).toBe(code);
}

export function expectRan(markerFile: string, r: RunResult): void {
  expect(existsSync(markerFile), `expected ${markerFile} to be written\n${describeRun(r)}`).toBe(true);
}

export function expectDidNotRun(markerFile: string, r: RunResult): void {
  expect(existsSync(markerFile), `the denied program ran (${markerFile} exists)\n${describeRun(r)}`).toBe(false);
}
