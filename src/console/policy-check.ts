// The CLI's own checks (vigil policy check), run on text typed in the page: same diagnostics, same
// rendering, and the compiled text and digest the enforcers will get.

import { createHash } from "node:crypto";
import { compilePolicySource, isCompiledPolicy } from "../policy/compile-source.js";
import type { Diagnostic } from "../policy/diagnostic.js";
import { renderDiagnostic, severityOf } from "../policy/diagnostic.js";

export interface CheckedDiagnostic extends Diagnostic {
  severity: "error" | "warning";
  /** `file:line:col: error: …`, the source line and a caret, exactly as `vigil policy check` prints it. */
  rendered: string;
}

export interface PolicyCheck {
  ok: boolean;
  diagnostics: CheckedDiagnostic[];
  compiled: string | null;
  digest: string | null;
}

export function checkPolicy(name: string, source: string): PolicyCheck {
  const file = `${name}.yaml`;
  if (isCompiledPolicy(source)) {
    const d: Diagnostic = { file, path: "", message: "this is a compiled policy; paste the YAML or JSON source it was compiled from" };
    return { ok: false, diagnostics: [{ ...d, severity: "error", rendered: renderDiagnostic(d, null) }], compiled: null, digest: null };
  }
  const result = compilePolicySource(source, file);
  const diagnostics = result.diagnostics.map((d) => ({ ...d, severity: severityOf(d), rendered: renderDiagnostic(d, source) }));
  const compiled = result.text;
  return {
    ok: compiled !== null,
    diagnostics,
    compiled,
    digest: compiled === null ? null : createHash("sha256").update(compiled, "utf8").digest("hex"),
  };
}
