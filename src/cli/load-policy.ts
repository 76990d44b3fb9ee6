// Reads a policy file given on the command line ("-" = stdin) and returns compiled policy text.
// A file that is already compiled is used as it is.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { compilePolicySource, isCompiledPolicy } from "../policy/compile-source.js";
import { renderDiagnostic, summarizeDiagnostics } from "../policy/diagnostic.js";
import type { Policy } from "../policy/schema.js";
import { UserError } from "./errors.js";
import type { CliIo } from "./io.js";

export async function readPolicyText(file: string, io: CliIo): Promise<string> {
  if (file === "-") return io.readStdin();
  try {
    return await readFile(resolve(io.cwd, file), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : String(error);
    throw new UserError(`cannot read policy ${file}: ${why}`, "give the path of a policy YAML or JSON file");
  }
}

export async function loadCompiledPolicy(file: string, io: CliIo): Promise<string> {
  const text = await readPolicyText(file, io);
  if (isCompiledPolicy(text)) return text;
  const result = compilePolicySource(text, file);
  if (result.text === null) {
    const shown = file === "-" ? "<stdin>" : file;
    throw new UserError(
      `${result.diagnostics.map((d) => renderDiagnostic(d, text)).join("\n")}\n${summarizeDiagnostics(result.diagnostics, shown)}`,
      "fix the policy and run again (`vigil policy check FILE` lists every problem; the format is in README.md, section Policy)",
    );
  }
  return result.text;
}

/** A policy source (YAML or JSON) as a validated document; every error is a user error with carets. */
export async function loadPolicyDocument(file: string, io: CliIo): Promise<Policy> {
  const text = await readPolicyText(file, io);
  const shown = file === "-" ? "<stdin>" : file;
  if (isCompiledPolicy(text)) {
    throw new UserError(`${shown} is a compiled policy`, "give the YAML or JSON source it was compiled from");
  }
  const result = compilePolicySource(text, file);
  if (result.policy === null || result.errors.length > 0) {
    throw new UserError(
      `${result.errors.map((d) => renderDiagnostic(d, text)).join("\n")}\n${summarizeDiagnostics(result.errors, shown)}`,
      "fix the policy and run again (`vigil policy check FILE` lists every problem)",
    );
  }
  return result.policy;
}
