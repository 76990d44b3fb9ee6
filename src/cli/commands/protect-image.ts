// vigil protect image SOURCE DEST / vigil unprotect image SOURCE DEST: the image plus one layer
// holding the enforcer (and policy, CA bundle), its entry point wrapped; or back. No Docker
// daemon; existing layers stay in the registry when SOURCE and DEST share one. Prints the new
// digest on stdout; what happened to each platform and every warning on stderr.

import { readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { RegistryClient } from "../../registry/client.js";
import { RegistryError } from "../../registry/errors.js";
import { formatReference } from "../../registry/reference.js";
import { openDockerArchive, LayoutSource, LayoutDestination } from "../../protect/image/layout-store.js";
import { DockerArchiveDestination } from "../../protect/image/archive-store.js";
import type { Layer } from "../../oci/layer.js";
import { forFamily, layerContentsLabel, parsePrebuilt, PREBUILT_DIGESTS_SUFFIX, PREBUILT_LAYER_SUFFIX, prepareEnforcerLayer } from "../../protect/image/enforcer-layer.js";
import { VigilImageError } from "../../protect/image/errors.js";
import { parseLocation, type Location } from "../../protect/image/locations.js";
import { transformImage, type TransformReport } from "../../protect/image/protect-image.js";
import { RegistryDestination, RegistrySource } from "../../protect/image/registry-store.js";
import type { EnforcerArch } from "../../protect/image/rewrite.js";
import type { ImageDestination, ImageSource } from "../../protect/image/store.js";
import { enforcerBinaryPath, readEnforcerBinary } from "../../sidecar/enforcer-binaries.js";
import { VIGIL_VERSION } from "../../version.js";
import { UserError } from "../errors.js";
import { argTokens } from "../options.js";
import type { CliIo, CliResult } from "../io.js";

const LOCATIONS = `SOURCE and DEST: a registry reference (REGISTRY/REPO:TAG), oci:DIR[:NAME] (OCI image layout folder),
or docker-archive:FILE[:NAME:TAG] (docker save / docker load tar).`;

const PROTECT_USAGE = `usage: vigil protect image SOURCE DEST [OPTIONS]
  --policy FILE          build this policy in (/vigil/policy, VIGIL_POLICY_FILE)
  --ca FILE              build this CA bundle in (/vigil/ca.pem)
  --strict               refuse an index with platforms vigil has no enforcer for (default: keep them unprotected, warn)
  --enforcer-dir DIR     where linux-amd64/ and linux-arm64/vigil-enforcer are (default: the bundled ones)
  --registry-ca FILE     trust this CA (PEM) for registries' TLS certificates
  --insecure-registry    plain HTTP to registries
  --load-platform ARCH   docker-archive DEST: the platform manifest.json names for older docker load (amd64)
${LOCATIONS}
Prints the new digest. Protecting a protected image with the same inputs changes nothing (same digest).`;

/**
 * The package root: this file is src/cli/commands/ (tests) or dist/cli/commands/ (built, bundled
 * into one file by scripts/bundle-cli.mjs), three levels down either way.
 */
const PACKAGE_ROOT = fileURLToPath(new URL("../../../", import.meta.url));

const UNPROTECT_USAGE = `usage: vigil unprotect image SOURCE DEST [--registry-ca FILE] [--insecure-registry]
Gives back the image vigil protect image started from (same config and manifest digests).
${LOCATIONS}`;

interface Args {
  source: string;
  dest: string;
  policy: string | null;
  ca: string | null;
  strict: boolean;
  enforcerDir: string | null;
  registryCa: string | null;
  insecure: boolean;
  loadPlatform: string;
}

function parseArgs(argv: readonly string[], mode: "protect" | "unprotect"): Args {
  const usage = mode === "protect" ? PROTECT_USAGE : UNPROTECT_USAGE;
  const a: Args = { source: "", dest: "", policy: null, ca: null, strict: false, enforcerDir: null, registryCa: null, insecure: false, loadPlatform: "amd64" };
  const positional: string[] = [];
  const protectOnly = ["--policy", "--ca", "--strict", "--enforcer-dir"];
  for (const { name, arg, value } of argTokens(argv, `${mode} image`, usage)) {
    if (mode === "unprotect" && protectOnly.includes(name)) throw new UserError(`unprotect image: ${name} is an option of protect image`, usage);
    switch (name) {
      case "--policy":
        a.policy = value();
        break;
      case "--ca":
        a.ca = value();
        break;
      case "--strict":
        a.strict = true;
        break;
      case "--enforcer-dir":
        a.enforcerDir = value();
        break;
      case "--registry-ca":
        a.registryCa = value();
        break;
      case "--insecure-registry":
        a.insecure = true;
        break;
      case "--load-platform": {
        const v = value();
        if (v !== "amd64" && v !== "arm64") throw new UserError(`${mode} image: --load-platform must be amd64 or arm64; received "${v}"`, usage);
        a.loadPlatform = v;
        break;
      }
      default:
        if (arg.startsWith("-") && arg !== "-") throw new UserError(`${mode} image: unknown option ${arg}`, usage);
        positional.push(arg);
    }
  }
  if (positional.length !== 2) throw new UserError(`${mode} image: expected SOURCE and DEST; received ${positional.length} argument${positional.length === 1 ? "" : "s"}`, usage);
  [a.source, a.dest] = positional as [string, string];
  return a;
}

export function protectImageCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  return imageCommand(argv, io, "protect");
}

export function unprotectImageCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  return imageCommand(argv, io, "unprotect");
}

async function imageCommand(argv: readonly string[], io: CliIo, mode: "protect" | "unprotect"): Promise<CliResult> {
  if (argv.includes("-h") || argv.includes("--help")) return { code: 0, stdout: `${mode === "protect" ? PROTECT_USAGE : UNPROTECT_USAGE}\n`, stderr: "" };
  const a = parseArgs(argv, mode);
  try {
    const clients = new Map<string, RegistryClient>();
    const client = (registry: string): RegistryClient => {
      let c = clients.get(registry);
      if (c === undefined) {
        c = new RegistryClient(registry, { env: io.env, insecure: a.insecure, ...(a.registryCa !== null ? { caFile: resolve(io.cwd, a.registryCa) } : {}) });
        clients.set(registry, c);
      }
      return c;
    };
    const src = await parseLocation(a.source, io.cwd);
    const dst = await parseLocation(a.dest, io.cwd);
    const source = await openSource(src, client);
    const dest = openDestination(dst, src, source, client, a.loadPlatform);

    // The policy compiler (zod, yaml) is loaded only when a policy is given: most of start-up otherwise.
    const policy = a.policy === null ? undefined : Buffer.from(await (await import("../load-policy.js")).loadCompiledPolicy(a.policy, io));
    const ca = a.ca === null ? undefined : await readCa(resolve(io.cwd, a.ca), a.ca);
    const enforcerDir = a.enforcerDir !== null ? resolve(io.cwd, a.enforcerDir) : io.env["VIGIL_ENFORCER_DIR"] || join(PACKAGE_ROOT, "dist", "enforcer");
    // An architecture's layer is made (files read, the prebuilt layer checked, or the tar
    // compressed, on the thread pool) as soon as the walk learns it is needed (amd64's at once),
    // while the registry answers the first requests. With neither policy nor CA, the layer made at
    // build time saves compressing the enforcer.
    const layers: Partial<Record<EnforcerArch, Layer>> = {};
    const preparing = new Map<EnforcerArch, Promise<void>>();
    const prepare = (arch: EnforcerArch): Promise<void> => {
      let p = preparing.get(arch);
      if (p === undefined) {
        p = (async () => {
          const binary = enforcerBinaryPath(enforcerDir, arch);
          const [enforcer, prebuilt, digests] = await Promise.all([
            readEnforcerBinary(enforcerDir, arch),
            policy || ca ? null : readFile(`${binary}${PREBUILT_LAYER_SUFFIX}`).catch(() => null),
            policy || ca ? null : readFile(`${binary}${PREBUILT_DIGESTS_SUFFIX}`, "utf8").catch(() => null),
          ]);
          layers[arch] = await prepareEnforcerLayer({ enforcer, ...(policy ? { policy } : {}), ...(ca ? { ca } : {}) }, parsePrebuilt(prebuilt, digests));
        })();
        preparing.set(arch, p);
      }
      return p;
    };
    const report = await transformImage(source, dest, {
      mode,
      version: VIGIL_VERSION,
      policy: policy !== undefined,
      contents: layerContentsLabel({ enforcer: new Uint8Array(0), ...(policy ? { policy } : {}), ...(ca ? { ca } : {}) }),
      layer: (arch, family) => {
        const layer = layers[arch];
        if (layer === undefined) throw new Error(`the ${arch} enforcer layer was asked for before it was prepared`);
        return forFamily(layer, family);
      },
      ...(mode === "protect" ? { prepare } : {}),
      strict: a.strict,
    });
    return { code: 0, stdout: `${report.digest}\n`, stderr: describe(report, mode) };
  } catch (error) {
    if (error instanceof VigilImageError) throw new UserError(`${mode} image: ${error.message}`, error.hint);
    if (error instanceof RegistryError && error.kind !== "bad-response") throw new UserError(`${mode} image: ${error.message}`);
    throw error;
  }
}

async function readCa(path: string, shown: string): Promise<Buffer> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (error) {
    throw new UserError(`protect image: cannot read --ca ${shown} (${(error as NodeJS.ErrnoException).code ?? "error"})`);
  }
  if (!text.includes("-----BEGIN CERTIFICATE-----")) throw new UserError(`protect image: --ca ${shown} holds no PEM certificate`);
  return text;
}

async function openSource(loc: Location, client: (r: string) => RegistryClient): Promise<ImageSource> {
  switch (loc.kind) {
    case "registry":
      return new RegistrySource(client(loc.ref.registry), loc.ref);
    case "oci":
      return LayoutSource.folder(loc.path, loc.name);
    case "docker-archive":
      return openDockerArchive(loc.path, loc.name);
  }
}

function openDestination(loc: Location, srcLoc: Location, source: ImageSource, client: (r: string) => RegistryClient, loadPlatform: string): ImageDestination {
  switch (loc.kind) {
    case "registry":
      return new RegistryDestination(client(loc.ref.registry), loc.ref);
    case "oci":
      return new LayoutDestination(loc.path, loc.name);
    case "docker-archive": {
      const fromSource =
        srcLoc.kind === "registry"
          ? formatReference({ ...srcLoc.ref, tag: srcLoc.ref.tag ?? "latest", digest: null })
          : ((source as { repoTags?: string[] }).repoTags?.[0] ?? null);
      return new DockerArchiveDestination(loc.path, loc.name ?? fromSource, loadPlatform);
    }
  }
}

function describe(report: TransformReport, mode: "protect" | "unprotect"): string {
  const lines = report.platforms.map((p) => `${mode} image: ${p.platform}: ${p.outcome} (${p.digest})`);
  const b = report.blobs;
  lines.push(`${mode} image: blobs: ${b.exists} already there, ${b.mounted} mounted, ${b.copied} copied, ${b.written} written; ${report.reference}`);
  for (const w of report.warnings) lines.push(`vigil: warning: ${w}`);
  return `${lines.join("\n")}\n`;
}
