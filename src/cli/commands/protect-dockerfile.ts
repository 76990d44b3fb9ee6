// vigil protect dockerfile [FILE] [-o OUT]: the final stage copies /vigil from the sidecar image
// and starts the enforcer first (src/protect/dockerfile/protect.ts). A base image's entry point,
// when the stage inherits it, is read from its registry (or --base-config FILE).

import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { writeFileAtomic } from "../../fs/atomic-write.js";
import { parseImageConfig } from "../../protect/ecs/image-config-file.js";
import { DockerfileSyntaxError } from "../../protect/dockerfile/parse.js";
import { DockerfileError, protectDockerfile, type BaseConfig } from "../../protect/dockerfile/protect.js";
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
}

function parseArgs(argv: readonly string[]): Args {
  const a: Args = { file: "Dockerfile", output: null, sidecarImage: null, target: null, buildArgs: new Map(), baseConfig: null, platform: "linux/amd64", offline: false, registryCa: null, insecure: false };
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
      default:
        if (arg.startsWith("-") && arg !== "-") throw new UserError(`protect dockerfile: unknown option ${arg}`, USAGE);
        positional.push(arg);
    }
  }
  if (positional.length > 1) throw new UserError(`protect dockerfile: one Dockerfile at a time; received ${positional.join(" ")}`, USAGE);
  if (positional[0] !== undefined) a.file = positional[0];
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
    const parsed = parseImageConfig(raw);
    if (typeof parsed === "string") throw new UserError(`protect dockerfile: --base-config ${a.baseConfig}: ${parsed}`);
    baseFromFile = { entrypoint: parsed.entrypoint, cmd: parsed.cmd };
  }
  const [os = "linux", architecture = "amd64", variant] = a.platform.split("/");
  const resolveBase = async (image: string, platform: string | null, line: number): Promise<BaseConfig> => {
    if (baseFromFile !== null) return baseFromFile;
    const where = `${shown}:${line}`;
    const hint = `pass the base image's config: docker inspect ${image} > base.json, then --base-config base.json`;
    if (a.offline) throw new UserError(`protect dockerfile: ${where}: the stage inherits its entry point from ${image}, and --offline forbids reading it`, hint);
    const p = platform !== null && !platform.includes("$") ? platform.split("/") : [os, architecture, variant];
    try {
      const c = await resolveImageConfig(image, { os: p[0] ?? "linux", architecture: p[1] ?? "amd64", ...(p[2] !== undefined ? { variant: p[2] } : {}) }, {
        env: io.env,
        insecure: a.insecure,
        ...(a.registryCa !== null ? { caFile: resolve(io.cwd, a.registryCa) } : {}),
      });
      return { entrypoint: c.entrypoint, cmd: c.cmd };
    } catch (error) {
      if (error instanceof RegistryError) throw new UserError(`protect dockerfile: ${where}: the stage inherits its entry point from ${image}, which could not be read: ${error.message}`, hint);
      throw error;
    }
  };
  let result;
  try {
    result = await protectDockerfile(text, {
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
  const stderr = result.notes.map((n) => `protect dockerfile: ${n}\n`).join("");
  if (a.output === null || a.output === "-") return { code: 0, stdout: result.text, stderr };
  await writeFileAtomic(resolve(io.cwd, a.output), result.text);
  return { code: 0, stdout: "", stderr };
}
