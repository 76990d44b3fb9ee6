import type { CliIo, CliResult } from "../io.js";
export async function protectDockerfileCommand(_argv: readonly string[], _io: CliIo): Promise<CliResult> { return { code: 2, stdout: "", stderr: "todo" }; }
