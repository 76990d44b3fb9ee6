// Content digests: every blob and manifest read from a registry is checked against the digest it
// was asked for.

import { createHash } from "node:crypto";
import { RegistryError } from "./errors.js";

export function sha256Digest(data: Uint8Array): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

const SUPPORTED: Record<string, "sha256" | "sha384" | "sha512"> = {
  sha256: "sha256",
  sha384: "sha384",
  sha512: "sha512",
};

export function digestOf(algorithm: string, data: Uint8Array): string {
  const alg = SUPPORTED[algorithm];
  if (alg === undefined) throw new RegistryError("bad-response", `unsupported digest algorithm "${algorithm}"`);
  return `${algorithm}:${createHash(alg).update(data).digest("hex")}`;
}

/** Throws a digest-mismatch error unless `data` hashes to `expected`. */
export function verifyDigest(data: Uint8Array, expected: string, what: string): void {
  const colon = expected.indexOf(":");
  const actual = digestOf(colon > 0 ? expected.slice(0, colon) : "", data);
  if (actual !== expected) {
    throw new RegistryError(
      "digest-mismatch",
      `${what}: content does not match its digest (expected ${expected}, received ${actual}, ${data.length} bytes); the registry or something between it and you served corrupted or substituted data`,
    );
  }
}
