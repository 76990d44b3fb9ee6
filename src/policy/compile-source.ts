// Source text to compiled text in one step: parse, validate, compile.

import { basename } from "node:path";
import type { CompileResult } from "./compile.js";
import { compilePolicy } from "./compile.js";
import { parsePolicySource } from "./parse-source.js";

/** `file` is the name the user gave ("-" for stdin); diagnostics and the header use it. */
export function compilePolicySource(text: string, file: string): CompileResult {
  const shownFile = file === "-" ? "<stdin>" : file;
  const parsed = parsePolicySource(text, shownFile);
  if (parsed.value === null) return { text: null, errors: parsed.errors };
  const sourceName = file === "-" ? "stdin" : basename(file);
  return compilePolicy(parsed.value, { sourceName, file: shownFile });
}

/** A compiled policy is passed to the enforcer as it is. */
export function isCompiledPolicy(text: string): boolean {
  return text.startsWith("vigil-policy ");
}
