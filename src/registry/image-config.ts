// Read an image's run configuration (ENTRYPOINT, CMD, SHELL, WORKDIR, USER, ENV) from its registry for
// one platform, without Docker: tag → manifest or index → the platform's manifest → config blob.

import { RegistryClient, type RegistryClientOptions } from "./client.js";
import type { ExplicitAuth } from "./credentials.js";
import { RegistryError } from "./errors.js";
import { normalizeArchitecture, parseManifest, platformString, selectPlatform } from "./manifest.js";
import { formatReference, manifestReference, parseReference } from "./reference.js";

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageConfigResult {
  entrypoint: string[] | null;
  cmd: string[] | null;
  /** The image's SHELL (what its shell-form RUN/CMD/ENTRYPOINT and those of images built FROM it run with); absent when unset. */
  shell?: string[];
  workingDir?: string;
  user?: string;
  env?: string[];
  /** Digest of the platform's image manifest (what `repo@digest` pins). */
  digest: string;
  /** The image config's own os and architecture, when it states them. */
  os?: string;
  architecture?: string;
}

export interface ResolveOptions {
  /** Explicit credentials; otherwise VIGIL_REGISTRY_*, ~/.docker/config.json, ECR, anonymous. */
  auth?: ExplicitAuth;
  /** Plain HTTP (no TLS). */
  insecure?: boolean;
  /** Extra CA certificate file (PEM) trusted for TLS. */
  caFile?: string;
  /** Environment for the credential lookup and the TLS roots (SSL_CERT_FILE); default process.env. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Anything else the client takes (retry policy, timeouts, ECR endpoint). */
  client?: Omit<RegistryClientOptions, "auth" | "insecure" | "caFile" | "env">;
}

/** The parts of an image config (OCI image-spec config.md) read here. */
interface ImageConfigBlob {
  architecture?: string;
  os?: string;
  variant?: string;
  config?: {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Shell?: string[] | null;
    WorkingDir?: string;
    User?: string;
    Env?: string[] | null;
  } | null;
}

const CONFIG_LIMIT = 8 * 1024 * 1024;

export async function resolveImageConfig(ref: string, platform: Platform, opts: ResolveOptions = {}): Promise<ImageConfigResult> {
  const parsed = parseReference(ref);
  const client = new RegistryClient(parsed.registry, {
    ...(opts.client ?? {}),
    ...(opts.auth !== undefined ? { auth: opts.auth } : {}),
    ...(opts.insecure !== undefined ? { insecure: opts.insecure } : {}),
    ...(opts.caFile !== undefined ? { caFile: opts.caFile } : {}),
    ...(opts.env !== undefined ? { env: opts.env } : {}),
  });
  const name = formatReference(parsed);
  let fetched = await client.getManifest(parsed.repository, manifestReference(parsed));
  let manifest = parseManifest(fetched.bytes, fetched.mediaType, name);
  // An index may (rarely) point to another index; follow a bounded number of levels.
  for (let depth = 0; manifest.kind === "index"; depth++) {
    if (depth >= 3) throw new RegistryError("bad-response", `${name}: image indexes nested more than 3 levels`);
    const entry = selectPlatform(manifest.index, platform, name);
    fetched = await client.getManifest(parsed.repository, entry.digest);
    manifest = parseManifest(fetched.bytes, fetched.mediaType, `${name} (${platformString(platform)})`);
  }
  const configDigest = manifest.manifest.config.digest;
  const blob = await client.getBlob(parsed.repository, configDigest, CONFIG_LIMIT);
  let config: ImageConfigBlob;
  try {
    config = JSON.parse(blob.toString("utf8")) as ImageConfigBlob;
  } catch {
    throw new RegistryError("bad-response", `${name}: the image config ${configDigest} is not JSON`);
  }
  checkPlatform(config, platform, name);
  return toResult(config, fetched.digest);
}

/** A single-platform image for another architecture would not run on the asked platform. */
function checkPlatform(config: ImageConfigBlob, wanted: Platform, name: string): void {
  if (config.architecture === undefined || config.os === undefined || config.architecture === "" || config.os === "") return;
  const osOk = config.os.toLowerCase() === wanted.os.toLowerCase();
  const archOk = normalizeArchitecture(config.architecture) === normalizeArchitecture(wanted.architecture);
  if (!osOk || !archOk) {
    throw new RegistryError(
      "no-matching-platform",
      `${name} is a single-platform image for ${platformString({ os: config.os, architecture: config.architecture, variant: config.variant })}, not ${platformString({ os: wanted.os, architecture: normalizeArchitecture(wanted.architecture), variant: wanted.variant })}`,
    );
  }
}

function toResult(config: ImageConfigBlob, digest: string): ImageConfigResult {
  const c = config.config ?? {};
  const result: ImageConfigResult = {
    entrypoint: stringList(c.Entrypoint),
    cmd: stringList(c.Cmd),
    digest,
  };
  const shell = stringList(c.Shell);
  if (shell !== null && shell.length > 0) result.shell = shell;
  if (typeof c.WorkingDir === "string" && c.WorkingDir !== "") result.workingDir = c.WorkingDir;
  if (typeof c.User === "string" && c.User !== "") result.user = c.User;
  const env = stringList(c.Env);
  if (env !== null) result.env = env;
  if (typeof config.os === "string" && config.os !== "") result.os = config.os;
  if (typeof config.architecture === "string" && config.architecture !== "") result.architecture = config.architecture;
  return result;
}

function stringList(value: unknown): string[] | null {
  if (!Array.isArray(value)) return null;
  return value.filter((v): v is string => typeof v === "string");
}
