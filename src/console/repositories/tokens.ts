// Enrollment tokens: `vgt_<id>_<secret>`, scoped to a workload group, stored as the secret's hash.

import type { Db } from "../db/database.js";
import { newBearerToken, parseBearerToken, secretMatches } from "../secrets.js";

export interface TokenInfo {
  id: string;
  name: string;
  group: string;
  createdAt: number;
  revokedAt: number | null;
  lastUsedAt: number | null;
}

interface TokenRow {
  id: string;
  name: string;
  group_name: string;
  secret_hash: string;
  created_at: number;
  revoked_at: number | null;
  last_used_at: number | null;
}

const PREFIX = "vgt";

function info(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    group: row.group_name,
    createdAt: Number(row.created_at),
    revokedAt: row.revoked_at === null ? null : Number(row.revoked_at),
    lastUsedAt: row.last_used_at === null ? null : Number(row.last_used_at),
  };
}

/** Returns the token in clear: the only time it is ever seen. */
export async function createToken(db: Db, name: string, group: string): Promise<{ token: string; info: TokenInfo }> {
  const { id, token, secretHash } = newBearerToken(PREFIX);
  const now = Date.now();
  await db.run("INSERT INTO enrollment_tokens (id, name, group_name, secret_hash, created_at) VALUES (?, ?, ?, ?, ?)", [id, name, group, secretHash, now]);
  return { token, info: { id, name, group, createdAt: now, revokedAt: null, lastUsedAt: null } };
}

export async function listTokens(db: Db): Promise<TokenInfo[]> {
  return (await db.all<TokenRow>("SELECT * FROM enrollment_tokens ORDER BY created_at DESC, id")).map(info);
}

/** True when the token existed and was not revoked yet. */
export async function revokeToken(db: Db, id: string): Promise<boolean | null> {
  const row = await db.get<TokenRow>("SELECT * FROM enrollment_tokens WHERE id = ?", [id]);
  if (row === undefined) return null;
  if (row.revoked_at !== null) return false;
  await db.run("UPDATE enrollment_tokens SET revoked_at = ? WHERE id = ?", [Date.now(), id]);
  return true;
}

/** The live token a bearer string stands for, or null (malformed, unknown, wrong secret, revoked). */
export async function authenticateToken(db: Db, bearer: string): Promise<TokenInfo | null> {
  const presented = parseBearerToken(PREFIX, bearer);
  if (presented === null) return null;
  const row = await db.get<TokenRow>("SELECT * FROM enrollment_tokens WHERE id = ?", [presented.id]);
  if (row === undefined || row.revoked_at !== null) return null;
  if (!secretMatches(row.secret_hash, presented.secret)) return null;
  await db.run("UPDATE enrollment_tokens SET last_used_at = ? WHERE id = ?", [Date.now(), row.id]);
  return info(row);
}
