// Source text to compiled text in one step: parse, validate, check, compile. Every error and
// warning is collected; compiled text is produced only when there is no error.

import { basename } from "node:path";
import { compilePolicy } from "./compile.js";
import type { Diagnostic } from "./diagnostic.js";
import { formatFieldPath, severityOf, sortDiagnostics } from "./diagnostic.js";
import { lintPolicy } from "./lint.js";
import { parsePolicySource } from "./parse-source.js";
import type { Policy } from "./schema.js";

export interface SourceResult {
  policy: Policy | null;
  /** The compiled policy, or null when there is any error. */
  text: string | null;
  /** Errors only (compilation stopped when there is one). */
  errors: Diagnostic[];
  /** Warnings only: compilation goes on. */
  warnings: Diagnostic[];
  /** Errors and warnings together, in source order. */
  diagnostics: Diagnostic[];
}

/** `file` is the name the user gave ("-" for stdin); diagnostics and the header use it. */
export function compilePolicySource(text: string, file: string): SourceResult {
  const shownFile = file === "-" ? "<stdin>" : file;
  const parsed = parsePolicySource(text, shownFile);
  const findings: Diagnostic[] = lintPolicy(parsed.data).map((f) => ({
    file: shownFile,
    severity: f.severity,
    ...parsed.locate(f.path, f.at),
    path: formatFieldPath(f.path),
    message: f.message,
  }));
  if (parsed.value === null) return result(null, null, [...parsed.errors, ...findings]);
  const sourceName = file === "-" ? "stdin" : basename(file);
  const compiled = compilePolicy(parsed.value, { sourceName, file: shownFile });
  const all = [...findings, ...compiled.errors];
  const hasError = all.some((d) => severityOf(d) === "error");
  return result(parsed.value, hasError ? null : compiled.text, all);
}

function result(policy: Policy | null, text: string | null, diagnostics: readonly Diagnostic[]): SourceResult {
  const sorted = sortDiagnostics(diagnostics);
  return {
    policy,
    text,
    errors: sorted.filter((d) => severityOf(d) === "error"),
    warnings: sorted.filter((d) => severityOf(d) === "warning"),
    diagnostics: sorted,
  };
}

/** A compiled policy is passed to the enforcer as it is. */
export function isCompiledPolicy(text: string): boolean {
  return text.startsWith("vigil-policy ");
}
