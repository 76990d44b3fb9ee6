// vigil console [--db sqlite:FILE | postgres://...] [--listen ADDR] [--retention-days N]: serves the console until
// SIGINT or SIGTERM, then stops accepting, finishes the requests in flight and closes the database.
// Its structured log (JSON lines) goes to stderr while it runs: a server cannot wait to print.

import type { ConsoleFlags } from "../../console/config.js";
import { resolveConfig } from "../../console/config.js";
import { startConsole } from "../../console/server.js";
import { UserError } from "../errors.js";
import type { CliIo, CliResult } from "../io.js";

const USAGE = "usage: vigil console [--db sqlite:FILE | postgres://...] [--listen HOST:PORT] [--retention-days N]";
const FLAGS = { "--db": "db", "--listen": "listen", "--retention-days": "retentionDays" } as const;

export async function consoleCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  const flags: ConsoleFlags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const [name, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (name === "--help" || name === "-h") return { code: 0, stdout: `${USAGE}\n`, stderr: "" };
    if (name !== "--db" && name !== "--listen" && name !== "--retention-days") throw new UserError(`console: unknown argument ${arg}`, USAGE);
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") throw new UserError(`console: ${name} needs a value`, USAGE);
    flags[FLAGS[name]] = value;
  }
  let config;
  try {
    config = resolveConfig(flags, io.env);
  } catch (error) {
    throw new UserError(`console: ${error instanceof Error ? error.message : String(error)}`, USAGE);
  }
  const log = io.stdio === "inherit" ? process.stderr : false;
  const running = await startConsole(config, log);
  if (log !== false) {
    const where = config.db.dialect === "sqlite" ? `sqlite:${config.db.target}` : "postgres";
    log.write(`vigil console: listening on ${running.url} (database ${where})\n`);
    if (running.setupCode !== null) log.write(`vigil console: first-run setup: open ${running.url}/ and enter the setup code ${running.setupCode}\n`);
  }
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off("SIGINT", stop);
      process.off("SIGTERM", stop);
      resolve();
    };
    process.on("SIGINT", stop);
    process.on("SIGTERM", stop);
  });
  await running.close();
  return { code: 0, stdout: "", stderr: "vigil console: stopped\n" };
}
