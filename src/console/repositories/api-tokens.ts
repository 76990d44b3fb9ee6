// API tokens for automation: `vat_<id>_<secret>`, named, optionally expiring, revocable, stored as
// the secret's SHA-256 (the secret is shown once, when created).

import type { Db } from "../db/database.js";
import { newBearerToken, parseBearerToken, secretMatches } from "../secrets.js";

export interface ApiTokenInfo {
  id: string;
  name: string;
  createdBy: string;
  createdAt: number;
  expiresAt: number | null;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

interface ApiTokenRow {
  id: string;
  name: string;
  secret_hash: string;
  created_by: string;
  created_at: number;
  expires_at: number | null;
  revoked_at: number | null;
  last_used_at: number | null;
}

const PREFIX = "vat";

const num = (v: number | null): number | null => (v === null ? null : Number(v));

function info(r: ApiTokenRow): ApiTokenInfo {
  return {
    id: r.id,
    name: r.name,
    createdBy: r.created_by,
    createdAt: Number(r.created_at),
    expiresAt: num(r.expires_at),
    revokedAt: num(r.revoked_at),
    lastUsedAt: num(r.last_used_at),
  };
}

/** Returns the token in clear: the only time it is ever seen. */
export async function createApiToken(db: Db, name: string, createdBy: string, expiresAt: number | null): Promise<{ token: string; info: ApiTokenInfo }> {
  const { id, token, secretHash } = newBearerToken(PREFIX);
  const now = Date.now();
  await db.run("INSERT INTO api_tokens (id, name, secret_hash, created_by, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)", [
    id,
    name,
    secretHash,
    createdBy,
    now,
    expiresAt,
  ]);
  return { token, info: { id, name, createdBy, createdAt: now, expiresAt, revokedAt: null, lastUsedAt: null } };
}

export async function listApiTokens(db: Db): Promise<ApiTokenInfo[]> {
  return (await db.all<ApiTokenRow>("SELECT * FROM api_tokens ORDER BY created_at DESC, id")).map(info);
}

/** Null: no such token; false: revoked already. */
export async function revokeApiToken(db: Db, id: string): Promise<boolean | null> {
  const row = await db.get<ApiTokenRow>("SELECT * FROM api_tokens WHERE id = ?", [id]);
  if (row === undefined) return null;
  const { changes } = await db.run("UPDATE api_tokens SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL", [Date.now(), id]);
  return changes === 1;
}

/** The live token a bearer string stands for, or null (malformed, unknown, wrong secret, revoked, expired). */
export async function authenticateApiToken(db: Db, bearer: string, now = Date.now()): Promise<ApiTokenInfo | null> {
  const presented = parseBearerToken(PREFIX, bearer);
  if (presented === null) return null;
  const row = await db.get<ApiTokenRow>("SELECT * FROM api_tokens WHERE id = ?", [presented.id]);
  if (row === undefined || row.revoked_at !== null) return null;
  if (row.expires_at !== null && Number(row.expires_at) <= now) return null;
  if (!secretMatches(row.secret_hash, presented.secret)) return null;
  await db.run("UPDATE api_tokens SET last_used_at = ? WHERE id = ?", [now, row.id]);
  return info(row);
}
