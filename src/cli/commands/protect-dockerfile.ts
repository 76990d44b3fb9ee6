// vigil protect dockerfile [FILE] [-o OUT]: the final stage copies /vigil from the sidecar image
// and starts the enforcer first (src/protect/dockerfile/protect.ts). A base image's entry point
// and SHELL, when the stage inherits them, are read from its registry (or --base-config FILE).
// With --policy, the compiled policy is written into the build context (atomically, before the
// Dockerfile that COPYs it) and the stage copies it to /vigil/policy.

import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, relative, resolve, sep } from "node:path";
import { writeFileAtomic } from "../../fs/atomic-write.js";
import { parseBaseConfig } from "../../protect/dockerfile/base-config.js";
import { DockerfileSyntaxError } from "../../protect/dockerfile/parse.js";
import { BaseUnavailable, DockerfileError, protectDockerfile, type BaseConfig } from "../../protect/dockerfile/protect.js";
import { RegistryError } from "../../registry/errors.js";
import { resolveImageConfig } from "../../registry/image-config.js";
import { UserError } from "../errors.js";
import { argTokens } from "../options.js";
import type { CliIo, CliResult } from "../io.js";

const USAGE = `usage: vigil protect dockerfile [FILE] [-o OUT] [OPTIONS]      (FILE default ./Dockerfile; - = stdin)
  -o, --output OUT         write here (default stdout; - = stdout)
  --sidecar-image REF      the vigil sidecar image to COPY /vigil from (default $VIGIL_SIDECAR_IMAGE, or the one already there)
  --target STAGE           protect this stage instead of the last
  --build-arg NAME=VALUE   a value for an ARG used in FROM (repeatable), as for docker build
  --base-config FILE       the base image's config (docker inspect output or image config JSON), instead of reading its registry
  --platform OS/ARCH       the platform the base image is read for (default linux/amd64)
  --policy FILE            build this policy in: compiled into the build context, COPY'd to /vigil/policy
  --policy-out PATH        where the compiled policy is written (default vigil.policy in the context)
  --context DIR            the build context docker build is given (default the output's folder,
                           or the Dockerfile's when writing to stdout)
  --offline                never read a registry (a stage that inherits its entry point then needs --base-config)
  --registry-ca FILE, --insecure-registry   TLS trust for a private registry, or plain HTTP`;

interface Args {
  file: string;
  output: string | null;
  sidecarImage: string | null;
  target: string | null;
  buildArgs: Map<string, string>;
  baseConfig: string | null;
  platform: string;
  offline: boolean;
  registryCa: string | null;
  insecure: boolean;
  policy: string | null;
  policyOut: string | null;
  context: string | null;
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { file: "Dockerfile", output: null, sidecarImage: null, target: null, buildArgs: new Map(), baseConfig: null, platform: "linux/amd64", offline: false, registryCa: null, insecure: false, policy: null, policyOut: null, context: null };
  const positional: string[] = [];
  for (const { name, arg, value } of argTokens(argv, "protect dockerfile", USAGE)) {
    switch (name) {
      case "-o":
      case "--output":
        a.output = value();
        break;
      case "--sidecar-image":
        a.sidecarImage = value();
        break;
      case "--target":
        a.target = value();
        break;
      case "--build-arg": {
        const v = value();
        const at = v.indexOf("=");
        if (at <= 0) throw new UserError(`protect dockerfile: --build-arg expects NAME=VALUE; received "${v}"`, USAGE);
        a.buildArgs.set(v.slice(0, at), v.slice(at + 1));
        break;
      }
      case "--base-config":
        a.baseConfig = value();
        break;
      case "--platform":
        a.platform = value();
        break;
      case "--offline":
        a.offline = true;
        break;
      case "--registry-ca":
        a.registryCa = value();
        break;
      case "--insecure-registry":
        a.insecure = true;
        break;
      case "--policy":
        a.policy = value();
        break;
      case "--policy-out":
        a.policyOut = value();
        break;
      case "--context":
        a.context = value();
        break;
      default:
        if (arg.startsWith("-") && arg !== "-") throw new UserError(`protect dockerfile: unknown option ${arg}`, USAGE);
        positional.push(arg);
    }
  }
  if (positional.length > 1) throw new UserError(`protect dockerfile: one Dockerfile at a time; received ${positional.join(" ")}`, USAGE);
  if (positional[0] !== undefined) a.file = positional[0];
  if (a.policy === null && (a.policyOut !== null || a.context !== null)) throw new UserError(`protect dockerfile: ${a.policyOut !== null ? "--policy-out" : "--context"} only goes with --policy`, USAGE);
  return a;
}

export async function protectDockerfileCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  if (argv.includes("-h") || argv.includes("--help")) return { code: 0, stdout: `${USAGE}\n`, stderr: "" };
  const a = parseArgs(argv);
  const shown = a.file === "-" ? "<stdin>" : a.file;
  let text: string;
  try {
    text = a.file === "-" ? await io.readStdin() : await readFile(resolve(io.cwd, a.file), "utf8");
  } catch (error) {
    throw new UserError(`protect dockerfile: cannot read ${a.file} (${(error as NodeJS.ErrnoException).code ?? "error"})`, "give the path of a Dockerfile, or - for stdin");
  }
  let baseFromFile: BaseConfig | null = null;
  if (a.baseConfig !== null) {
    let raw: string;
    try {
      raw = await readFile(resolve(io.cwd, a.baseConfig), "utf8");
    } catch (error) {
      throw new UserError(`protect dockerfile: cannot read --base-config ${a.baseConfig} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
    }
    const parsed = parseBaseConfig(raw);
    if (typeof parsed === "string") throw new UserError(`protect dockerfile: --base-config ${a.baseConfig}: ${parsed}`);
    baseFromFile = parsed;
  }
  const [os = "linux", architecture = "amd64", variant] = a.platform.split("/");
  const resolveBase = async (image: string, platform: string | null): Promise<BaseConfig> => {
    if (baseFromFile !== null) return baseFromFile;
    const hint = `pass the base image's config: docker inspect ${image} > base.json, then --base-config base.json`;
    if (a.offline) throw new BaseUnavailable("--offline forbids reading a registry", hint);
    const p = platform !== null && !platform.includes("$") ? platform.split("/") : [os, architecture, variant];
    try {
      const c = await resolveImageConfig(image, { os: p[0] ?? "linux", architecture: p[1] ?? "amd64", ...(p[2] !== undefined ? { variant: p[2] } : {}) }, {
        env: io.env,
        insecure: a.insecure,
        ...(a.registryCa !== null ? { caFile: resolve(io.cwd, a.registryCa) } : {}),
      });
      return { entrypoint: c.entrypoint, cmd: c.cmd, shell: c.shell ?? null };
    } catch (error) {
      if (error instanceof RegistryError) throw new BaseUnavailable(error.message, hint);
      throw error;
    }
  };
  const policy = a.policy === null ? null : await policyPlacement(a, io);
  let result;
  try {
    result = await protectDockerfile(text, {
      ...(policy !== null ? { policySource: policy.source } : {}),
      ...(a.sidecarImage !== null ? { sidecarImage: a.sidecarImage } : io.env["VIGIL_SIDECAR_IMAGE"] ? { sidecarImage: io.env["VIGIL_SIDECAR_IMAGE"] } : {}),
      ...(a.target !== null ? { target: a.target } : {}),
      buildArgs: a.buildArgs,
      resolveBase,
    });
  } catch (error) {
    if (error instanceof DockerfileError || error instanceof DockerfileSyntaxError) {
      throw new UserError(`protect dockerfile: ${shown}${error.line === null ? "" : `:${error.line}`}: ${error.message}`, error instanceof DockerfileError ? error.hint : undefined);
    }
    throw error;
  }
  const notes = [...result.notes];
  // The policy first: a Dockerfile that COPYs it is never there without it.
  if (policy !== null) {
    await writeFileAtomic(policy.path, policy.text);
    notes.push(`wrote ${policy.shown} (docker build needs it in the context; keep it out of .dockerignore)`);
  }
  const stderr = notes.map((n) => `protect dockerfile: ${n}\n`).join("");
  if (a.output === null || a.output === "-") return { code: 0, stdout: result.text, stderr };
  await writeFileAtomic(resolve(io.cwd, a.output), result.text);
  return { code: 0, stdout: "", stderr };
}

/** The compiled policy, where it goes, and the path the Dockerfile's COPY names (relative to the context). */
async function policyPlacement(a: Args, io: CliIo): Promise<{ text: string; path: string; source: string; shown: string }> {
  // The policy compiler (zod, yaml) is loaded only here.
  const text = await (await import("../load-policy.js")).loadCompiledPolicy(a.policy as string, io);
  const writesFile = a.output !== null && a.output !== "-";
  const context = resolve(io.cwd, a.context ?? (writesFile ? dirname(a.output as string) : a.file === "-" ? "." : dirname(a.file)));
  const path = a.policyOut !== null ? resolve(io.cwd, a.policyOut) : resolve(context, "vigil.policy");
  const inside = relative(context, path);
  if (inside === "" || inside.startsWith("..") || isAbsolute(inside)) {
    throw new UserError(`protect dockerfile: --policy-out ${a.policyOut ?? path} is outside the build context ${context}`, "docker build can only COPY files inside its context: put it there, or pass --context DIR (the folder you give docker build)");
  }
  return { text, path, source: inside.split(sep).join("/"), shown: a.policyOut ?? relative(io.cwd, path) };
}
