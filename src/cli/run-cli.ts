// The command layer: argv in, { code, stdout, stderr } out. It never prints or exits; main.ts does.

import { VIGIL_VERSION } from "../version.js";
import { consoleCommand } from "./commands/console.js";
import { demoCommand } from "./commands/demo.js";
import { execCommand } from "./commands/exec.js";
import { localCommand } from "./commands/local-run.js";
import { policyCheckCommand } from "./commands/policy-check.js";
import { policyCompileCommand } from "./commands/policy-compile.js";
import { policyDefaultCommand } from "./commands/policy-default.js";
import { protectEcsCommand, unprotectEcsCommand } from "./commands/protect-ecs.js";
import { protectDockerfileCommand } from "./commands/protect-dockerfile.js";
import { protectImageCommand, unprotectImageCommand } from "./commands/protect-image.js";
import { sidecarBuildCommand } from "./commands/sidecar-build.js";
import { policyExplainCommand } from "./commands/policy-explain.js";
import { policyLearnCommand } from "./commands/policy-learn.js";
import { policyTestCommand } from "./commands/policy-test.js";
import { EXIT_INTERNAL_ERROR, EXIT_USER_ERROR, UserError } from "./errors.js";
import { HELP } from "./help.js";
import type { CliIo, CliResult } from "./io.js";

export type { CliIo, CliResult } from "./io.js";

export async function runCli(argv: readonly string[], io: CliIo): Promise<CliResult> {
  try {
    return await dispatch(argv, io);
  } catch (error) {
    return errorResult(error);
  }
}

async function dispatch(argv: readonly string[], io: CliIo): Promise<CliResult> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      return { code: EXIT_USER_ERROR, stdout: "", stderr: HELP };
    case "help":
    case "--help":
    case "-h":
      return { code: 0, stdout: HELP, stderr: "" };
    case "--version":
    case "-V":
    case "version":
      return { code: 0, stdout: `${VIGIL_VERSION}\n`, stderr: "" };
    case "exec":
      return execCommand(rest, io);
    case "demo":
      return demoCommand(rest, io);
    case "local":
      return localCommand(rest, io);
    case "console":
      return consoleCommand(rest, io);
    case "policy": {
      const [sub, ...subRest] = rest;
      if (sub === "compile") return policyCompileCommand(subRest, io);
      if (sub === "check") return policyCheckCommand(subRest, io);
      if (sub === "explain") return policyExplainCommand(subRest, io);
      if (sub === "default") return policyDefaultCommand(subRest, io);
      if (sub === "learn") return policyLearnCommand(subRest, io);
      if (sub === "test") return policyTestCommand(subRest, io);
      throw new UserError(
        sub === undefined ? "policy: which policy command?" : `policy: unknown command "${sub}"`,
        "available: vigil policy check | compile | explain | default | learn | test (see vigil help)",
      );
    }
    case "sidecar": {
      const [sub, ...subRest] = rest;
      if (sub === "build") return sidecarBuildCommand(subRest, io);
      throw new UserError(
        sub === undefined ? "sidecar: which sidecar command?" : `sidecar: unknown command "${sub}"`,
        "available: vigil sidecar build (-o FILE | --push REF)",
      );
    }
    case "protect":
    case "unprotect": {
      const [target, ...targetRest] = rest;
      if (target === "ecs") return command === "protect" ? protectEcsCommand(targetRest, io) : unprotectEcsCommand(targetRest, io);
      if (target === "image") return command === "protect" ? protectImageCommand(targetRest, io) : unprotectImageCommand(targetRest, io);
      if (target === "dockerfile" && command === "protect") return protectDockerfileCommand(targetRest, io);
      throw new UserError(
        target === undefined ? `${command}: what? (ecs, image${command === "protect" ? ", dockerfile" : ""})` : `${command}: unknown target "${target}"`,
        `available: vigil ${command} ecs INPUT | ${command} image SOURCE DEST${command === "protect" ? " | protect dockerfile [FILE]" : ""} (see vigil help)`,
      );
    }
    default:
      throw new UserError(`unknown command "${command}"`, "run `vigil help` for the list of commands");
  }
}

function errorResult(error: unknown): CliResult {
  if (error instanceof UserError) {
    const hint = error.hint === undefined ? "" : `\n${error.hint}`;
    return { code: EXIT_USER_ERROR, stdout: "", stderr: `vigil: error: ${error.message}${hint}\n` };
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return {
    code: EXIT_INTERNAL_ERROR,
    stdout: "",
    stderr: `vigil: internal error — this is a bug in vigil; please report it with the command you ran.\n${detail}\n`,
  };
}
