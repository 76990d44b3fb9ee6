// vigil sidecar build (-o FILE | --push REF): the sidecar image (FROM scratch, /vigil/enforcer,
// VOLUME /vigil, command `/vigil/enforcer --noop`, and with --ca the console's CA bundle at
// /vigil/ca.pem) for linux/amd64 and linux/arm64 as an OCI index, written as an OCI layout tar that `docker load` accepts, or pushed to a registry.
// No Docker daemon is involved. Prints the index digest.

import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { writeFileAtomic } from "../../fs/atomic-write.js";
import { ociLayoutTar } from "../../oci/layout.js";
import { pushIndex } from "../../oci/push.js";
import { RegistryClient } from "../../registry/client.js";
import { RegistryError } from "../../registry/errors.js";
import { formatReference, parseReference, type ImageReference } from "../../registry/reference.js";
import { PACKAGE_ROOT } from "../../runner/locate-enforcer.js";
import { checkCaBundle } from "../../sidecar/ca-bundle.js";
import { readEnforcerBinary } from "../../sidecar/enforcer-binaries.js";
import { buildSidecarImage, SIDECAR_ARCHES, type SidecarArch } from "../../sidecar/image.js";
import { VIGIL_VERSION } from "../../version.js";
import { UserError } from "../errors.js";
import { argTokens } from "../options.js";
import type { CliIo, CliResult } from "../io.js";

const USAGE = `usage: vigil sidecar build (-o FILE | --push REF) [OPTIONS]
  -o, --output FILE      write an OCI layout tar (docker load-able)
  --push REF             push to a registry, e.g. 123456789012.dkr.ecr.us-east-1.amazonaws.com/vigil:${VIGIL_VERSION}
  --tag NAME             image name recorded in the tar (default vigil-sidecar:${VIGIL_VERSION})
  --load-platform ARCH   amd64 (default) or arm64: the platform older docker load reads from manifest.json
  --ca FILE              the console's CA bundle (PEM), put at /vigil/ca.pem: the enforcer verifies the console's
                         certificate with it (vigil protect ecs --console)
  --enforcer-dir DIR     where linux-amd64/ and linux-arm64/vigil-enforcer are (default: the bundled ones)
  --ca-file FILE         trust this CA (PEM) for the registry's TLS certificate
  --insecure             plain HTTP to the registry
Registry credentials: VIGIL_REGISTRY_USERNAME/VIGIL_REGISTRY_PASSWORD, ~/.docker/config.json, or ECR through the AWS credential chain.`;

interface Options {
  output: string | null;
  push: string | null;
  tag: string;
  loadPlatform: SidecarArch;
  enforcerDir: string | null;
  caFile: string | null;
  insecure: boolean;
  consoleCa: string | null;
}

function parseArgs(argv: readonly string[]): Options {
  const o: Options = { output: null, push: null, tag: `vigil-sidecar:${VIGIL_VERSION}`, loadPlatform: "amd64", enforcerDir: null, caFile: null, insecure: false, consoleCa: null };
  for (const { name, arg, value } of argTokens(argv, "sidecar build", USAGE)) {
    switch (name) {
      case "-o":
      case "--output":
        o.output = value();
        break;
      case "--push":
        o.push = value();
        break;
      case "--tag":
        o.tag = value();
        break;
      case "--load-platform": {
        const v = value();
        if (v !== "amd64" && v !== "arm64") throw new UserError(`sidecar build: --load-platform must be amd64 or arm64; received "${v}"`, USAGE);
        o.loadPlatform = v;
        break;
      }
      case "--enforcer-dir":
        o.enforcerDir = value();
        break;
      case "--ca-file":
        o.caFile = value();
        break;
      case "--ca":
        o.consoleCa = value();
        break;
      case "--insecure":
        o.insecure = true;
        break;
      case "-h":
      case "--help":
        throw new UserError("sidecar build: help", USAGE);
      default:
        throw new UserError(`sidecar build: unexpected argument ${arg}`, USAGE);
    }
  }
  if (o.output === null && o.push === null) throw new UserError("sidecar build: say where the image goes: -o FILE or --push REF", USAGE);
  if (o.output === "-") throw new UserError("sidecar build: the image is a binary tar; give -o a file name, not -", USAGE);
  return o;
}

export async function sidecarBuildCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  if (argv.includes("-h") || argv.includes("--help")) return { code: 0, stdout: `${USAGE}\n`, stderr: "" };
  const o = parseArgs(argv);
  const tagRef = parseUserReference(o.tag, "--tag");
  const pushRef = o.push === null ? null : parseUserReference(o.push, "--push");

  const dir = o.enforcerDir !== null ? resolve(io.cwd, o.enforcerDir) : (io.env["VIGIL_ENFORCER_DIR"] || join(PACKAGE_ROOT, "dist", "enforcer"));
  const binaries = {} as Record<SidecarArch, Buffer>;
  for (const arch of SIDECAR_ARCHES) binaries[arch] = await readEnforcerBinary(dir, arch);
  const ca = o.consoleCa === null ? null : await readConsoleCa(o.consoleCa, io);
  const built = buildSidecarImage(binaries, VIGIL_VERSION, ca === null ? {} : { caBundle: ca.data });

  const lines: string[] = [];
  if (o.output !== null) {
    const dockerImage = built.images[SIDECAR_ARCHES.indexOf(o.loadPlatform)];
    if (dockerImage === undefined) throw new Error(`no ${o.loadPlatform} image was built`);
    const tar = ociLayoutTar(built, { name: shortName(tagRef, o.tag), tag: tagRef.tag ?? "latest", dockerImage });
    const out = resolve(io.cwd, o.output);
    try {
      await writeFileAtomic(out, tar);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "EACCES" || code === "EISDIR" || code === "ENOTDIR" || code === "EROFS") {
        throw new UserError(`sidecar build: cannot write ${o.output} (${code})`, "check that its directory exists and is writable");
      }
      throw error;
    }
    lines.push(built.index.digest);
  }
  if (pushRef !== null) {
    try {
      const client = new RegistryClient(pushRef.registry, {
        env: io.env,
        insecure: o.insecure,
        ...(o.caFile !== null ? { caFile: resolve(io.cwd, o.caFile) } : {}),
      });
      const pushed = await pushIndex(client, pushRef.repository, built, pushRef.digest ?? pushRef.tag);
      lines.push(`${formatReference({ ...pushRef, tag: pushRef.digest === null ? pushRef.tag : null, digest: null })}@${pushed.digest}`);
    } catch (error) {
      if (error instanceof RegistryError && error.kind !== "bad-response") {
        throw new UserError(`sidecar build: push to ${o.push} failed: ${error.message}`);
      }
      throw error;
    }
  }
  return { code: 0, stdout: `${[...new Set(lines)].join("\n")}\n`, stderr: ca?.warnings ?? "" };
}

/** The --ca bundle, checked as the enforcer will read it; warnings as stderr lines. */
async function readConsoleCa(file: string, io: CliIo): Promise<{ data: Buffer; warnings: string }> {
  let data: Buffer;
  try {
    data = await readFile(resolve(io.cwd, file));
  } catch (error) {
    throw new UserError(`sidecar build: cannot read --ca ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`, "give the console's CA certificate(s) as a PEM file");
  }
  const check = checkCaBundle(data);
  if (check.errors.length > 0) {
    throw new UserError(
      `sidecar build: --ca ${file}: ${check.errors.join(`\n  ${file}: `)}`,
      "give the PEM file of the CA that signed the console's certificate (-----BEGIN CERTIFICATE----- …), e.g. the ca.pem your console's certificate was issued from, or /etc/ssl/certs/ca-certificates.crt for a public one",
    );
  }
  return { data, warnings: check.warnings.map((w) => `vigil: warning: --ca ${file}: ${w}\n`).join("") };
}

function parseUserReference(text: string, flag: string): ImageReference {
  try {
    return parseReference(text);
  } catch (error) {
    if (error instanceof RegistryError) throw new UserError(`sidecar build: ${flag}: ${error.message}`);
    throw error;
  }
}

/** The name as the user wrote it for docker (no docker.io/library/ expansion). */
function shortName(ref: ImageReference, written: string): string {
  const name = written.split("@")[0] ?? written;
  const last = name.slice(name.lastIndexOf("/") + 1);
  return last.includes(":") ? name : `${name}:${ref.tag ?? "latest"}`;
}
