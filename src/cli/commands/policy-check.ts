// vigil policy check FILE...: every error and warning of every file, each with its position, the
// source line and a caret under the offending token. Exit 2 when any file has an error; warnings
// (such as rules the enforcer does not enforce yet) are reported and leave the exit code 0.

import { compilePolicySource, isCompiledPolicy } from "../../policy/compile-source.js";
import { renderDiagnostic, summarizeDiagnostics } from "../../policy/diagnostic.js";
import { EXIT_OK, EXIT_USER_ERROR, UserError } from "../errors.js";
import type { CliIo, CliResult } from "../io.js";
import { readPolicyText } from "../load-policy.js";

const USAGE = "usage: vigil policy check FILE...   (FILE may be - for stdin)";

export async function policyCheckCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  const files = argv.filter((a) => a === "-" || !a.startsWith("-"));
  const unknown = argv.find((a) => a !== "-" && a.startsWith("-"));
  if (unknown !== undefined) throw new UserError(`policy check: unknown option ${unknown}`, USAGE);
  if (files.length === 0) throw new UserError("policy check: no policy file given", USAGE);

  const out: string[] = [];
  let failed = false;
  for (const file of files) {
    const text = await readPolicyText(file, io);
    const shown = file === "-" ? "<stdin>" : file;
    if (isCompiledPolicy(text)) {
      out.push(`${shown}: error: this is a compiled policy; check the YAML or JSON source it was compiled from`);
      failed = true;
      continue;
    }
    const result = compilePolicySource(text, file);
    for (const d of result.diagnostics) out.push(renderDiagnostic(d, text));
    out.push(summarizeDiagnostics(result.diagnostics, shown));
    if (result.errors.length > 0) failed = true;
  }
  return { code: failed ? EXIT_USER_ERROR : EXIT_OK, stdout: `${out.join("\n")}\n`, stderr: "" };
}
