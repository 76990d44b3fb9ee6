#!/usr/bin/env node
// The `vigil` executable: the only place that prints and sets the exit code.

import { runCli } from "./run-cli.js";

const result = await runCli(process.argv.slice(2), {
  stdio: "inherit",
  env: process.env,
  cwd: process.cwd(),
  // node:stream/consumers only when a command reads stdin (start-up is part of every command).
  readStdin: async () => (await import("node:stream/consumers")).text(process.stdin),
});
if (result.stdout !== "") process.stdout.write(result.stdout);
if (result.stderr !== "") process.stderr.write(result.stderr);
process.exitCode = result.code;
