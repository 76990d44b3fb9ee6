// vigil policy compile FILE [-o OUT]: policy YAML/JSON to the compiled format. "-" is stdin/stdout;
// without -o the result goes to stdout; an output file is written atomically.

import { resolve } from "node:path";
import { writeFileAtomic } from "../../fs/atomic-write.js";
import { UserError } from "../errors.js";
import type { CliIo, CliResult } from "../io.js";
import { loadCompiledPolicy } from "../load-policy.js";

const USAGE = "usage: vigil policy compile FILE [-o OUT]   (FILE or OUT may be - for stdin/stdout)";

export async function policyCompileCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  let file: string | null = null;
  let out = "-";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "-o" || arg === "--output") {
      const value = argv[++i];
      if (value === undefined) throw new UserError(`policy compile: ${arg} needs a file name`, USAGE);
      out = value;
    } else if (arg.startsWith("--output=")) {
      out = arg.slice("--output=".length);
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new UserError(`policy compile: unknown option ${arg}`, USAGE);
    } else if (file === null) {
      file = arg;
    } else {
      throw new UserError(`policy compile: one policy file at a time; received ${file} and ${arg}`, USAGE);
    }
  }
  if (file === null) throw new UserError("policy compile: no policy file given", USAGE);
  if (out === "") throw new UserError("policy compile: -o needs a file name", USAGE);

  const compiled = await loadCompiledPolicy(file, io);
  if (out === "-") return { code: 0, stdout: compiled, stderr: "" };
  try {
    await writeFileAtomic(resolve(io.cwd, out), compiled);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR" || code === "ENOTDIR" || code === "EROFS") {
      throw new UserError(`policy compile: cannot write ${out} (${code})`, "check that its directory exists and is writable");
    }
    throw error;
  }
  return { code: 0, stdout: "", stderr: "" };
}
