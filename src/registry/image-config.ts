// Read an image's run configuration (ENTRYPOINT, CMD, ...) from its registry, for one platform.
// STUB: the signature is final; the implementation follows.

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface ImageConfigResult {
  entrypoint: string[] | null;
  cmd: string[] | null;
  workingDir?: string;
  user?: string;
  env?: string[];
  /** Digest of the platform's image manifest (what `repo@digest` pins). */
  digest: string;
}

export interface ResolveOptions {
  /** Explicit credentials; otherwise ~/.docker/config.json, the environment, ECR, anonymous. */
  auth?: { username: string; password: string } | { token: string };
  /** Plain HTTP (no TLS). */
  insecure?: boolean;
  /** Extra CA certificate file (PEM) trusted for TLS. */
  caFile?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

export async function resolveImageConfig(
  ref: string,
  platform: Platform,
  opts: ResolveOptions = {},
): Promise<ImageConfigResult> {
  void ref;
  void platform;
  void opts;
  throw new Error("resolveImageConfig: not implemented yet");
}
