// Reads a policy file given on the command line ("-" = stdin) and returns compiled policy text.
// A file that is already compiled is used as it is.

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { compilePolicySource, isCompiledPolicy } from "../policy/compile-source.js";
import { formatDiagnostic } from "../policy/diagnostic.js";
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
    const count = result.errors.length;
    throw new UserError(
      `${result.errors.map(formatDiagnostic).join("\n")}\n${count} error${count === 1 ? "" : "s"} in ${file === "-" ? "<stdin>" : file}`,
      "fix the policy and run again (the format is in README.md, section Policy)",
    );
  }
  return result.text;
}
