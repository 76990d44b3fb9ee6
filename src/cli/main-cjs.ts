// The installed `vigil` executable (package.json "bin"), bundled into dist/cli/vigil.cjs by
// scripts/bundle-cli.mjs. `vigil protect image` and `vigil unprotect image` run from here in
// CommonJS: the command's bundle through its code cache (dist/cli/commands/protect-image.cjs,
// the same file and cache main.js's path uses), without Node's ES module loader (~4 ms of CPU at
// start-up, before any module of vigil's) nor run-cli's modules. Start-up is most of that
// command's time (bench/RESULTS-protect-image.md). Every other command goes to main.js.
//
// This file is bundled with errors.ts and cached-script.ts; the command's bundle gets this
// errors.ts (its UserError is the one errorResult checks) and the policy compiler as a function
// that imports it (ES modules: zod, yaml) when --policy is given.

import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { loadCachedScript } from "./cached-script.js";
import * as errors from "./errors.js";
import type { CliIo, CliResult } from "./io.js";

const [command, target] = process.argv.slice(2, 4);
if ((command === "protect" || command === "unprotect") && target === "image") {
  void runImageCommand(command, process.argv.slice(4)).then((result) => {
    if (result.stdout !== "") process.stdout.write(result.stdout);
    if (result.stderr !== "") process.stderr.write(result.stderr);
    process.exitCode = result.code;
  });
} else {
  // The ES module entry: it runs the command line of process.argv, prints and sets the exit code.
  void import(pathToFileURL(join(__dirname, "main.js")).href);
}

async function runImageCommand(mode: "protect" | "unprotect", argv: readonly string[]): Promise<CliResult> {
  try {
    const file = join(__dirname, "commands", "protect-image.cjs");
    const bundle = loadCachedScript(
      file,
      {
        "../errors.js": errors,
        "../load-policy.js": {
          loadCompiledPolicy: async (...args: unknown[]) =>
            ((await import(pathToFileURL(join(__dirname, "load-policy.js")).href)) as { loadCompiledPolicy: (...a: unknown[]) => unknown }).loadCompiledPolicy(...args),
        },
      },
      // What the bundle's import.meta.url stands for: the ES module it replaces (paths relative to it).
      pathToFileURL(join(__dirname, "commands", "protect-image.js")).href,
    );
    const io: CliIo = {
      stdio: "inherit",
      env: process.env,
      cwd: process.cwd(),
      readStdin: async () => (await import("node:stream/consumers")).text(process.stdin),
    };
    const run = bundle.exports[mode === "protect" ? "protectImageCommand" : "unprotectImageCommand"] as (argv: readonly string[], io: CliIo) => Promise<CliResult>;
    const result = await run(argv, io);
    if (result.code === 0) bundle.save();
    return result;
  } catch (error) {
    return errors.errorResult(error);
  }
}
