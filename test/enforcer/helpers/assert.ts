// Assertions every enforcer run must pass, whatever it tested.

import { existsSync } from "node:fs";
import { expect } from "vitest";
import { describeRun } from "./run.js";
import type { RunResult } from "./run.js";

/** Bounded, nothing left behind, every event line valid against the schema. */
export function expectCleanRun(r: RunResult): void {
  const context = describeRun(r);
  expect(r.timedOut, `run timed out\n${context}`).toBe(false);
  expect(r.leftovers, `processes outlived the run\n${context}`).toEqual([]);
  expect(r.pipesHeldOpen, `stdout/stderr held open after the enforcer exited\n${context}`).toBe(false);
  expect(r.eventErrors, `invalid event lines\n${context}`).toEqual([]);
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
