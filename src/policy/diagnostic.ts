// A problem found in a user's policy: where it is and what is wrong.

export interface Diagnostic {
  /** File name as the user gave it ("-" is shown as "<stdin>"). */
  file: string;
  /** 1-based line and column, when the position is known. */
  line?: number;
  col?: number;
  /** Field path such as `spec.exec.allow[2]`, or "" for the document itself. */
  path: string;
  message: string;
}

/** `file:line:col: path: message`, the form editors and terminals understand. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line === undefined ? d.file : `${d.file}:${d.line}:${d.col ?? 1}`;
  return d.path === "" ? `${where}: ${d.message}` : `${where}: ${d.path}: ${d.message}`;
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
