// A problem found in a user's policy: where it is, how bad, and what is wrong.

export type Severity = "error" | "warning";

export interface Diagnostic {
  /** File name as the user gave it ("-" is shown as "<stdin>"). */
  file: string;
  /** Errors stop compilation (exit code 2); warnings are reported and compilation goes on. Default: error. */
  severity?: Severity;
  /** 1-based line and column of the offending token, when the position is known. */
  line?: number;
  col?: number;
  /** 1-based line and column just past the offending token (same line: the caret covers it). */
  endLine?: number;
  endCol?: number;
  /** Field path such as `spec.exec.allow[2]`, or "" for the document itself. */
  path: string;
  message: string;
}

export function severityOf(d: Diagnostic): Severity {
  return d.severity ?? "error";
}

/** `file:line:col: error: path: message`, the form editors and terminals understand. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.col ?? 1}`;
  const what = d.path === "" ? d.message : `${d.path}: ${d.message}`;
  return `${where}: ${severityOf(d)}: ${what}`;
}

/**
 * The one-line form, then the source line and a caret under the offending token:
 *
 *     p.yaml:5:12: error: spec.exec.deny[0]: must be an absolute path ...
 *         deny: [usr/bin/nc]
 *                ^~~~~~~~~~
 */
export function renderDiagnostic(d: Diagnostic, source: string | null): string {
  const head = formatDiagnostic(d);
  if (source === null || d.line === undefined) return head;
  const lineText = source.split("\n")[d.line - 1]?.replace(/\r$/, "");
  if (lineText === undefined) return head;
  const col = Math.max(1, Math.min(d.col ?? 1, lineText.length + 1));
  const end = d.endLine === d.line && d.endCol !== undefined ? Math.min(d.endCol, lineText.length + 1) : lineText.length + 1;
  const width = Math.max(1, end - col);
  // Keep tabs from the source line so the caret lines up in any terminal.
  const pad = lineText.slice(0, col - 1).replace(/[^\t]/g, " ");
  return `${head}\n    ${lineText}\n    ${pad}^${"~".repeat(width - 1)}`;
}

/** "2 errors and 1 warning in p.yaml" (or "no problems in p.yaml"). */
export function summarizeDiagnostics(diagnostics: readonly Diagnostic[], file: string): string {
  const errors = diagnostics.filter((d) => severityOf(d) === "error").length;
  const warnings = diagnostics.length - errors;
  const parts: string[] = [];
  if (errors > 0) parts.push(`${errors} error${errors === 1 ? "" : "s"}`);
  if (warnings > 0) parts.push(`${warnings} warning${warnings === 1 ? "" : "s"}`);
  return `${parts.length === 0 ? "no problems" : parts.join(" and ")} in ${file}`;
}

/** Source order: by line, then column; diagnostics without a position last, in their given order. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return diagnostics
    .map((d, i) => ({ d, i }))
    .sort((a, b) => (a.d.line ?? Infinity) - (b.d.line ?? Infinity) || (a.d.col ?? 0) - (b.d.col ?? 0) || a.i - b.i)
    .map(({ d }) => d);
}

/** `spec.exec.allow[2]` from ["spec", "exec", "allow", 2]. */
export function formatFieldPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const part of path) {
    if (typeof part === "number") out += `[${part}]`;
    else out += out === "" ? String(part) : `.${String(part)}`;
  }
  return out;
}
