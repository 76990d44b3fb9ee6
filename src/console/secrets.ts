// Random credentials, their hashes, and password hashing (scrypt).

import { createHash, randomBytes, scrypt, timingSafeEqual } from "node:crypto";

export function randomSecret(bytes = 32): string {
  return randomBytes(bytes).toString("base64url");
}

export function randomId(bytes = 6): string {
  return randomBytes(bytes).toString("hex");
}

/** Tokens and session ids are high-entropy random values: one SHA-256 is enough to store them. */
export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/** A new bearer token `<prefix>_<id>_<secret>`, shown once; only the secret's hash is stored. */
export function newBearerToken(prefix: string): { id: string; token: string; secretHash: string } {
  const id = randomId(6);
  const secret = randomSecret(32);
  return { id, token: `${prefix}_${id}_${secret}`, secretHash: sha256Hex(secret) };
}

/** The id and secret of a `<prefix>_<id>_<secret>` bearer token, or null when it is not one. */
export function parseBearerToken(prefix: string, bearer: string): { id: string; secret: string } | null {
  const match = /^([a-z]+)_([0-9a-f]{12})_([A-Za-z0-9_-]{43})$/.exec(bearer);
  if (match === null || match[1] !== prefix) return null;
  return { id: match[2] ?? "", secret: match[3] ?? "" };
}

/** Compares a presented secret with the stored hash in constant time. */
export function secretMatches(secretHash: string, secret: string): boolean {
  return safeEqual(secretHash, sha256Hex(secret));
}

export function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "utf8");
  const y = Buffer.from(b, "utf8");
  return x.length === y.length && timingSafeEqual(x, y);
}

const SCRYPT = { N: 16384, r: 8, p: 1, keylen: 64 };

function scryptAsync(password: string, salt: Buffer, N: number, r: number, p: number, keylen: number): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, keylen, { N, r, p, maxmem: 256 * N * r }, (error, key) => (error ? reject(error) : resolve(key))),
  );
}

/** `scrypt$N$r$p$salt$hash` (base64url). */
export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const key = await scryptAsync(password, salt, SCRYPT.N, SCRYPT.r, SCRYPT.p, SCRYPT.keylen);
  return ["scrypt", SCRYPT.N, SCRYPT.r, SCRYPT.p, salt.toString("base64url"), key.toString("base64url")].join("$");
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [scheme, n, r, p, salt, hash] = stored.split("$");
  if (scheme !== "scrypt" || n === undefined || r === undefined || p === undefined || salt === undefined || hash === undefined) return false;
  const expected = Buffer.from(hash, "base64url");
  const key = await scryptAsync(password, Buffer.from(salt, "base64url"), Number(n), Number(r), Number(p), expected.length);
  return timingSafeEqual(key, expected);
}
