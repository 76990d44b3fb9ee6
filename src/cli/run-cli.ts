// The command layer: argv in, { code, stdout, stderr } out. It never prints or exits; main.ts does.
// Each command is imported when it runs, so `vigil protect image` does not load the console's
// web server and database drivers (start-up time is part of every command's cost).

import { VIGIL_VERSION } from "../version.js";
import { errorResult, EXIT_USER_ERROR, UserError } from "./errors.js";
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
      return (await import("./commands/exec.js")).execCommand(rest, io);
    case "demo":
      return (await import("./commands/demo.js")).demoCommand(rest, io);
    case "local":
      return (await import("./commands/local-run.js")).localCommand(rest, io);
    case "console":
      return (await import("./commands/console.js")).consoleCommand(rest, io);
    case "policy": {
      const [sub, ...subRest] = rest;
      if (sub === "compile") return (await import("./commands/policy-compile.js")).policyCompileCommand(subRest, io);
      if (sub === "check") return (await import("./commands/policy-check.js")).policyCheckCommand(subRest, io);
      if (sub === "explain") return (await import("./commands/policy-explain.js")).policyExplainCommand(subRest, io);
      if (sub === "default") return (await import("./commands/policy-default.js")).policyDefaultCommand(subRest, io);
      if (sub === "learn") return (await import("./commands/policy-learn.js")).policyLearnCommand(subRest, io);
      if (sub === "test") return (await import("./commands/policy-test.js")).policyTestCommand(subRest, io);
      throw new UserError(
        sub === undefined ? "policy: which policy command?" : `policy: unknown command "${sub}"`,
        "available: vigil policy check | compile | explain | default | learn | test (see vigil help)",
      );
    }
    case "sidecar": {
      const [sub, ...subRest] = rest;
      if (sub === "build") return (await import("./commands/sidecar-build.js")).sidecarBuildCommand(subRest, io);
      throw new UserError(
        sub === undefined ? "sidecar: which sidecar command?" : `sidecar: unknown command "${sub}"`,
        "available: vigil sidecar build (-o FILE | --push REF)",
      );
    }
    case "protect":
    case "unprotect": {
      const [target, ...targetRest] = rest;
      if (target === "ecs") {
        const ecs = await import("./commands/protect-ecs.js");
        return command === "protect" ? ecs.protectEcsCommand(targetRest, io) : ecs.unprotectEcsCommand(targetRest, io);
      }
      if (target === "image") {
        const image = await import("./commands/protect-image.js");
        return command === "protect" ? image.protectImageCommand(targetRest, io) : image.unprotectImageCommand(targetRest, io);
      }
      if (target === "dockerfile" && command === "protect")
        return (await import("./commands/protect-dockerfile.js")).protectDockerfileCommand(targetRest, io);
      throw new UserError(
        target === undefined ? `${command}: what? (ecs, image${command === "protect" ? ", dockerfile" : ""})` : `${command}: unknown target "${target}"`,
        `available: vigil ${command} ecs INPUT | ${command} image SOURCE DEST${command === "protect" ? " | protect dockerfile [FILE]" : ""} (see vigil help)`,
      );
    }
    default:
      throw new UserError(`unknown command "${command}"`, "run `vigil help` for the list of commands");
  }
}
