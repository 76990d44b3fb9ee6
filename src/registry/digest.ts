// Content digests: every blob and manifest read from a registry is checked against the digest it
// was asked for.

import { createHash } from "node:crypto";
import { Transform, type Readable } from "node:stream";
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

/** Passes `source` through, failing at its end with digest-mismatch unless it hashed to `expected`. */
export function verifyingStream(source: Readable, expected: string, what: string): Readable {
  const colon = expected.indexOf(":");
  const algorithm = SUPPORTED[colon > 0 ? expected.slice(0, colon) : ""];
  if (algorithm === undefined) throw new RegistryError("bad-response", `${what}: unsupported digest algorithm in "${expected}"`);
  const hash = createHash(algorithm);
  let size = 0;
  const check = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      hash.update(chunk);
      size += chunk.length;
      done(null, chunk);
    },
    flush(done) {
      const actual = `${expected.slice(0, colon)}:${hash.digest("hex")}`;
      if (actual === expected) done();
      else done(new RegistryError("digest-mismatch", `${what}: content does not match its digest (expected ${expected}, received ${actual}, ${size} bytes)`));
    },
  });
  source.on("error", (error) => check.destroy(error));
  return source.pipe(check);
}
