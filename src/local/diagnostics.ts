// What `vigil local run` found wrong or cannot emulate in a task definition. Errors stop the run
// before anything is created; warnings are printed and the run goes on.

export type Severity = "error" | "warning";

export interface LocalDiagnostic {
  severity: Severity;
  /** Where in the task definition, e.g. `containerDefinitions[1].dependsOn[0].condition`. */
  path: string;
  message: string;
  /** What to do about it. */
  hint?: string;
}

export function formatLocalDiagnostic(d: LocalDiagnostic, file: string): string {
  const where = d.path === "" ? file : `${file}: ${d.path}`;
  const hint = d.hint === undefined ? "" : `\n  hint: ${d.hint}`;
  return `${d.severity}: ${where}: ${d.message}${hint}`;
}

export class Diagnostics {
  readonly list: LocalDiagnostic[] = [];

  error(path: string, message: string, hint?: string): void {
    this.list.push(hint === undefined ? { severity: "error", path, message } : { severity: "error", path, message, hint });
  }

  warning(path: string, message: string, hint?: string): void {
    this.list.push(hint === undefined ? { severity: "warning", path, message } : { severity: "warning", path, message, hint });
  }

  get hasErrors(): boolean {
    return this.list.some((d) => d.severity === "error");
  }
}
