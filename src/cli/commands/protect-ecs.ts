// vigil protect ecs INPUT [...] and vigil unprotect ecs INPUT [...]: read the document, read the
// image configs it needs (files given with --image-config, else the registry), run the pure
// rewrite, and write the result atomically (or show it with --diff, or judge it with --check).

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { type EcsConnection, EcsError, fetchTaskDefinition, registerTaskDefinition } from "../../aws/ecs-task-definitions.js";
import { writeFileAtomic } from "../../fs/atomic-write.js";
import { storeTokenHint } from "../../protect/ecs/console.js";
import { parseImageConfig } from "../../protect/ecs/image-config-file.js";
import { checkEcs, protectEcsWithResolver, unprotectEcs } from "../../protect/ecs/protect.js";
import type { DeliveryMode, ImageConfigResolver, ImageRunConfig, ProtectDiagnostic, ProtectOptions, ProtectResult } from "../../protect/ecs/types.js";
import { resolveImageConfig } from "../../registry/image-config.js";
import { unifiedDiff } from "../../text/line-diff.js";
import { EXIT_FINDINGS, EXIT_USER_ERROR, UserError } from "../errors.js";
import type { CliIo, CliResult } from "../io.js";
import { loadCompiledPolicy } from "../load-policy.js";

const PROTECT_USAGE = `usage: vigil protect ecs INPUT [-o OUT] [--mode copy|volumes-from] [--sidecar-image REF] [--policy FILE | --policy-from ARN]
                         [--container NAME]... [--image-config IMAGE=FILE]... [--offline] [--check] [--diff]
                         [--registry-ca FILE] [--insecure-registry] [--allow-shared-pid]
                         [--console URL (--token-secret ARN | --token-env) [--console-insecure] | --no-console]
       vigil protect ecs --from FAMILY[:REVISION] [--register] [--region R] [--endpoint-url URL] [...]`;
const UNPROTECT_USAGE = "usage: vigil unprotect ecs INPUT [-o OUT] [--diff]";

interface Args {
  input: string | null;
  output: string;
  mode?: DeliveryMode;
  sidecarImage?: string;
  policy?: string;
  policyFrom?: string;
  containers: string[];
  imageConfigs: string[];
  check: boolean;
  diff: boolean;
  offline: boolean;
  allowSharedPid: boolean;
  registryCa?: string;
  insecureRegistry: boolean;
  from?: string;
  register: boolean;
  region?: string;
  endpoint?: string;
  console?: string;
  tokenSecret?: string;
  tokenEnv: boolean;
  consoleInsecure: boolean;
  noConsole: boolean;
}

function parseArgs(argv: readonly string[], command: "protect" | "unprotect"): Args {
  const usage = command === "protect" ? PROTECT_USAGE : UNPROTECT_USAGE;
  const args: Args = { input: null, output: "-", containers: [], imageConfigs: [], check: false, diff: false, offline: false, allowSharedPid: false, insecureRegistry: false, register: false, tokenEnv: false, consoleInsecure: false, noConsole: false };
  const valueFlags = command === "protect" ? ["-o", "--output", "--mode", "--sidecar-image", "--policy", "--policy-from", "--container", "--image-config", "--registry-ca", "--from", "--region", "--endpoint-url", "--console", "--token-secret", "--token"] : ["-o", "--output"];
  const switches = command === "protect" ? ["--check", "--diff", "--offline", "--allow-shared-pid", "--insecure-registry", "--register", "--token-env", "--console-insecure", "--no-console"] : ["--diff"];
  for (let i = 0; i < argv.length; i++) {
    let arg = argv[i] ?? "";
    let value: string | undefined;
    const eq = arg.indexOf("=");
    if (arg.startsWith("--") && eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    if (valueFlags.includes(arg)) {
      value ??= argv[++i];
      if (value === undefined || value === "") throw new UserError(`${command} ecs: ${arg} needs a value`, usage);
      switch (arg) {
        case "-o":
        case "--output":
          args.output = value;
          break;
        case "--mode":
          if (value !== "copy" && value !== "volumes-from") throw new UserError(`${command} ecs: --mode must be copy or volumes-from; received "${value}"`, usage);
          args.mode = value;
          break;
        case "--sidecar-image":
          args.sidecarImage = value;
          break;
        case "--policy":
          args.policy = value;
          break;
        case "--policy-from":
          args.policyFrom = value;
          break;
        case "--container":
          args.containers.push(value);
          break;
        case "--registry-ca":
          args.registryCa = value;
          break;
        case "--from":
          args.from = value;
          break;
        case "--region":
          args.region = value;
          break;
        case "--endpoint-url":
          args.endpoint = value;
          break;
        case "--console":
          args.console = value;
          break;
        case "--token-secret":
          args.tokenSecret = value;
          break;
        case "--token":
          throw new UserError(`${command} ecs: --token would write the enrollment token in clear into the task definition; vigil does not do that`, `${storeTokenHint("--token-secret")}; or pass --token-env when the container gets VIGIL_TOKEN another way`);
        case "--image-config": {
          const eq = value.indexOf("=");
          if (eq <= 0 || eq === value.length - 1) {
            throw new UserError(`--image-config ${value}: expected IMAGE=FILE`, "e.g. --image-config nginx:1.27=nginx-config.json (IMAGE may also be a container name; FILE may be inline JSON)");
          }
          args.imageConfigs.push(value);
          break;
        }
      }
    } else if (switches.includes(arg) && value === undefined) {
      if (arg === "--check") args.check = true;
      else if (arg === "--diff") args.diff = true;
      else if (arg === "--offline") args.offline = true;
      else if (arg === "--insecure-registry") args.insecureRegistry = true;
      else if (arg === "--register") args.register = true;
      else if (arg === "--token-env") args.tokenEnv = true;
      else if (arg === "--console-insecure") args.consoleInsecure = true;
      else if (arg === "--no-console") args.noConsole = true;
      else args.allowSharedPid = true;
    } else if (arg.startsWith("-") && arg !== "-") {
      throw new UserError(`${command} ecs: unknown option ${argv[i] ?? arg}`, usage);
    } else if (args.input === null) {
      args.input = arg;
    } else {
      throw new UserError(`${command} ecs: one input at a time; received ${args.input} and ${arg}`, usage);
    }
  }
  if (args.input === null && args.from === undefined) throw new UserError(`${command} ecs: no input given (a task definition, template, - for stdin, or --from FAMILY[:REVISION])`, usage);
  if (args.input !== null && args.from !== undefined) throw new UserError(`${command} ecs: give INPUT or --from, not both`, usage);
  if (args.register && args.from === undefined) throw new UserError(`${command} ecs: --register needs --from FAMILY[:REVISION]`, usage);
  if (args.register && (args.check || args.diff || args.output !== "-")) throw new UserError(`${command} ecs: --register does not go with --check, --diff or -o`, usage);
  if (args.policy !== undefined && args.policyFrom !== undefined) throw new UserError(`${command} ecs: give --policy or --policy-from, not both`, usage);
  checkConsoleArgs(args, command, usage);
  if (args.check && args.diff) throw new UserError(`${command} ecs: --check and --diff do not go together`, usage);
  return args;
}

function checkConsoleArgs(args: Args, command: string, usage: string): void {
  const given = [args.tokenSecret === undefined ? null : "--token-secret", args.tokenEnv ? "--token-env" : null, args.consoleInsecure ? "--console-insecure" : null].filter((x) => x !== null);
  if (args.noConsole && (args.console !== undefined || given.length > 0)) throw new UserError(`${command} ecs: --no-console removes the console connection; it does not go with --console, ${given.join(", ") || "--console"}`, usage);
  if (args.console === undefined) {
    if (given.length > 0) throw new UserError(`${command} ecs: ${given.join(", ")} only go${given.length === 1 ? "es" : ""} with --console URL`, usage);
    return;
  }
  if (args.tokenSecret !== undefined && args.tokenEnv) throw new UserError(`${command} ecs: give --token-secret or --token-env, not both`, usage);
  if (args.tokenSecret === undefined && !args.tokenEnv) {
    throw new UserError(
      `${command} ecs: --console needs to know where the enrollment token comes from`,
      "pass --token-secret ARN (an SSM parameter or Secrets Manager secret holding it: vigil adds a VIGIL_TOKEN secrets entry), or --token-env when the container gets VIGIL_TOKEN another way (a secrets entry of your own, an environment file)",
    );
  }
}

async function readInput(file: string, io: CliIo): Promise<string> {
  if (file === "-") return io.readStdin();
  try {
    return await readFile(resolve(io.cwd, file), "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "ENOENT" ? "no such file" : code === "EISDIR" ? "it is a directory" : String(error);
    throw new UserError(`cannot read ${file}: ${why}`, "give a task definition JSON, a CloudFormation template, or - for stdin");
  }
}

/** --image-config KEY=FILE or KEY=<inline JSON>; KEY is an image reference or a container name. */
async function readImageConfigs(specs: readonly string[], io: CliIo): Promise<Map<string, ImageRunConfig>> {
  const configs = new Map<string, ImageRunConfig>();
  for (const spec of specs) {
    const eq = spec.indexOf("=");
    if (eq <= 0 || eq === spec.length - 1) {
      throw new UserError(`--image-config ${spec}: expected IMAGE=FILE`, "e.g. --image-config nginx:1.27=nginx-config.json (IMAGE may also be a container name)");
    }
    const name = spec.slice(0, eq);
    const source = spec.slice(eq + 1);
    const inline = source.trimStart().startsWith("{") || source.trimStart().startsWith("[");
    let text: string;
    if (inline) text = source;
    else {
      try {
        text = await readFile(resolve(io.cwd, source), "utf8");
      } catch (error) {
        throw new UserError(`--image-config ${name}: cannot read ${source} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
      }
    }
    const config = parseImageConfig(text);
    if (typeof config === "string") throw new UserError(`--image-config ${name}: ${inline ? "inline JSON" : source} ${config}`);
    configs.set(name, config);
    configs.set(`container:${name}`, config);
  }
  return configs;
}

function registryResolver(io: CliIo, args: Args): ImageConfigResolver {
  return async (ref, platform) => {
    const config = await resolveImageConfig(ref, platform, {
      env: io.env,
      ...(args.registryCa === undefined ? {} : { caFile: resolve(io.cwd, args.registryCa) }),
      ...(args.insecureRegistry ? { insecure: true } : {}),
    });
    return { entrypoint: config.entrypoint, cmd: config.cmd, ...(config.os === undefined ? {} : { os: config.os }) };
  };
}

function formatDiagnostic(d: ProtectDiagnostic, file: string): string {
  const shown = file === "-" ? "<stdin>" : file;
  const where = d.line === undefined ? shown : `${shown}:${d.line}:${d.col ?? 1}`;
  const head = `vigil: ${d.severity}: ${where}: ${d.path === "" ? "" : `${d.path}: `}${d.message}`;
  return d.hint === undefined ? head : `${head}\n  ${d.hint}`;
}

function summary(result: ProtectResult): string {
  const lines: string[] = [];
  const by = (outcome: string): string[] =>
    result.report.containers.filter((c) => c.outcome === outcome).map((c) => `${c.task}/${c.container}${c.agent === undefined ? "" : ` (${c.agent})`}`);
  const protectedNow = [...by("protected"), ...by("reprotected")];
  const modes = [...new Set(result.report.containers.flatMap((c) => (c.mode === undefined ? [] : [c.mode])))];
  if (protectedNow.length > 0) lines.push(`vigil: protected ${protectedNow.join(", ")} (${modes.join(", ")} mode)`);
  const agents = by("skipped-agent");
  if (agents.length > 0) lines.push(`vigil: left alone (known agents): ${agents.join(", ")}`);
  const inessential = by("skipped-not-essential");
  if (inessential.length > 0) lines.push(`vigil: left alone (not essential): ${inessential.join(", ")}`);
  const unselected = by("skipped-not-selected");
  if (unselected.length > 0) lines.push(`vigil: left alone (not named with --container): ${unselected.join(", ")}`);
  const undone = by("unprotected");
  if (undone.length > 0) lines.push(`vigil: unprotected ${undone.join(", ")}`);
  if (result.report.kind === "describe") lines.push("vigil: read-only fields of the describe-task-definition output were removed so the result can be registered");
  else if (result.report.removedReadOnly !== undefined) {
    lines.push(`vigil: read-only fields removed so the result can be registered (unprotect does not bring them back): ${result.report.removedReadOnly.join(", ")}`);
  }
  return lines.map((l) => `${l}\n`).join("");
}

async function finish(result: ProtectResult, input: string, before: string, args: Args, command: "protect" | "unprotect", io: CliIo): Promise<CliResult> {
  const diagnostics = result.diagnostics.map((d) => `${formatDiagnostic(d, input)}\n`).join("");
  if (result.text === null) {
    const count = result.diagnostics.filter((d) => d.severity === "error").length;
    return { code: EXIT_USER_ERROR, stdout: "", stderr: `${diagnostics}vigil: ${command} ecs: ${count} error${count === 1 ? "" : "s"}; nothing was written\n` };
  }
  if (args.diff) {
    const name = input === "-" ? "<stdin>" : input;
    return { code: 0, stdout: unifiedDiff(before, result.text, name, `${name} (${command}ed)`), stderr: diagnostics + summary(result) };
  }
  if (args.output === "-") return { code: 0, stdout: result.text, stderr: diagnostics + summary(result) };
  try {
    await writeFileAtomic(resolve(io.cwd, args.output), result.text);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EACCES" || code === "EISDIR" || code === "ENOTDIR" || code === "EROFS") {
      throw new UserError(`${command} ecs: cannot write ${args.output} (${code})`, "check that its directory exists and is writable");
    }
    throw error;
  }
  return { code: 0, stdout: "", stderr: diagnostics + summary(result) };
}

function connection(args: Args, io: CliIo): EcsConnection {
  return { env: io.env, ...(args.region === undefined ? {} : { region: args.region }), ...(args.endpoint === undefined ? {} : { endpoint: args.endpoint }) };
}

async function withEcs<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof EcsError) throw new UserError(error.message, "check the task definition name, the region and your AWS credentials");
    throw error;
  }
}

export async function protectEcsCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  const args = parseArgs(argv, "protect");
  const input = args.from === undefined ? (args.input as string) : `ecs:${args.from}`;
  const text = args.from === undefined ? await readInput(input, io) : await withEcs(() => fetchTaskDefinition(connection(args, io), args.from as string));
  if (args.check) {
    const check = checkEcs(text, args.containers.length > 0 ? { containers: args.containers } : {});
    const diagnostics = check.diagnostics.map((d) => `${formatDiagnostic(d, input)}\n`).join("");
    if (check.diagnostics.some((d) => d.severity === "error")) return { code: EXIT_USER_ERROR, stdout: "", stderr: diagnostics };
    if (check.unprotected.length === 0) return { code: 0, stdout: "protected: every selected container\n", stderr: diagnostics };
    return { code: EXIT_FINDINGS, stdout: check.unprotected.map((c) => `not protected: ${c.task}/${c.container}\n`).join(""), stderr: diagnostics };
  }
  const options: ProtectOptions = {
    ...(args.mode === undefined ? {} : { mode: args.mode }),
    imageConfigs: await readImageConfigs(args.imageConfigs, io),
    ...(args.sidecarImage === undefined ? {} : { sidecarImage: args.sidecarImage }),
    ...(args.policy === undefined ? {} : { policy: await loadCompiledPolicy(args.policy, io) }),
    ...(args.policyFrom === undefined ? {} : { policySecret: args.policyFrom }),
    ...(args.containers.length > 0 ? { containers: args.containers } : {}),
    ...(args.allowSharedPid ? { allowSharedPid: true } : {}),
    ...(args.noConsole ? { console: null } : {}),
    ...(args.console === undefined
      ? {}
      : { console: { url: args.console, ...(args.tokenSecret === undefined ? {} : { tokenSecret: args.tokenSecret }), ...(args.consoleInsecure ? { insecure: true } : {}) } }),
  };
  const result = await protectEcsWithResolver(text, options, args.offline ? null : registryResolver(io, args));
  if (args.register && result.text !== null) {
    const arn = await withEcs(() => registerTaskDefinition(connection(args, io), result.text as string));
    const diagnostics = result.diagnostics.map((d) => `${formatDiagnostic(d, input)}\n`).join("");
    return { code: 0, stdout: `${arn}\n`, stderr: `${diagnostics}${summary(result)}vigil: registered ${arn}\n` };
  }
  return finish(result, input, text, args, "protect", io);
}

export async function unprotectEcsCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  const args = parseArgs(argv, "unprotect");
  const input = args.input as string;
  const text = await readInput(input, io);
  return finish(unprotectEcs(text), input, text, args, "unprotect", io);
}
