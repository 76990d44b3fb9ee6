// vigil policy default [-o OUT]: the default policy, every rule commented with why it is there.

import { resolve } from "node:path";
import { writeFileAtomic } from "../../fs/atomic-write.js";
import { DEFAULT_POLICY } from "../../policy/default-policy.js";
import { UserError } from "../errors.js";
import type { CliIo, CliResult } from "../io.js";

const USAGE = "usage: vigil policy default [-o OUT]";

export async function policyDefaultCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  let out = "-";
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    if (arg === "-o" || arg === "--output") {
      const value = argv[++i];
      if (value === undefined || value === "") throw new UserError(`policy default: ${arg} needs a file name`, USAGE);
      out = value;
    } else {
      throw new UserError(`policy default: unexpected argument ${arg}`, USAGE);
    }
  }
  if (out === "-") return { code: 0, stdout: DEFAULT_POLICY, stderr: "" };
  await writeFileAtomic(resolve(io.cwd, out), DEFAULT_POLICY);
  return { code: 0, stdout: "", stderr: "" };
}
