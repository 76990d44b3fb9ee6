// Admin accounts, sessions, the first-run setup code and login failures (the rate limit's memory).
// All of it lives in the database so that replicas share it.

import type { Db } from "../db/database.js";
import { hashPassword, randomId, randomSecret, sha256Hex, verifyPassword } from "../secrets.js";

export interface Admin {
  id: string;
  username: string;
}

export interface Session {
  admin: Admin;
  csrfToken: string;
  expiresAt: number;
}

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

export async function adminCount(db: Db): Promise<number> {
  const row = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM admins");
  return Number(row?.n ?? 0);
}

/** The code that first-run setup asks for, made once by whichever replica starts first. */
export async function setupCode(db: Db): Promise<string> {
  await db.run("INSERT INTO settings (key, value) VALUES ('setup_code', ?) ON CONFLICT (key) DO NOTHING", [randomSecret(9)]);
  const row = await db.get<{ value: string }>("SELECT value FROM settings WHERE key = 'setup_code'");
  if (row === undefined) throw new Error("setup code missing after insert");
  return row.value;
}

/** Creates the first admin; false when one exists already (the unique first_admin column decides races). */
export async function createFirstAdmin(db: Db, username: string, password: string): Promise<Admin | null> {
  const id = randomId(8);
  const hash = await hashPassword(password);
  try {
    const { changes } = await db.run(
      "INSERT INTO admins (id, username, password_hash, first_admin, created_at) SELECT ?, ?, ?, 1, ? WHERE NOT EXISTS (SELECT 1 FROM admins)",
      [id, username, hash, Date.now()],
    );
    if (changes === 0) return null;
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
  await db.run("DELETE FROM settings WHERE key = 'setup_code'");
  return { id, username };
}

export async function checkPassword(db: Db, username: string, password: string): Promise<Admin | null> {
  const row = await db.get<{ id: string; username: string; password_hash: string }>(
    "SELECT id, username, password_hash FROM admins WHERE username = ?",
    [username],
  );
  // Hash anyway for unknown users, so timing does not tell which usernames exist.
  const ok = await verifyPassword(password, row?.password_hash ?? DUMMY_HASH);
  return row !== undefined && ok ? { id: row.id, username: row.username } : null;
}

const DUMMY_HASH = "scrypt$16384$8$1$AAAAAAAAAAAAAAAAAAAAAA$" + "A".repeat(86);

export async function createSession(db: Db, admin: Admin, now = Date.now()): Promise<{ sessionId: string; csrfToken: string }> {
  const sessionId = randomSecret(32);
  const csrfToken = randomSecret(32);
  await db.run("DELETE FROM sessions WHERE expires_at < ?", [now]);
  await db.run("INSERT INTO sessions (id_hash, admin_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)", [
    sha256Hex(sessionId),
    admin.id,
    csrfToken,
    now,
    now + SESSION_TTL_MS,
  ]);
  return { sessionId, csrfToken };
}

export async function findSession(db: Db, sessionId: string, now = Date.now()): Promise<Session | null> {
  const row = await db.get<{ id: string; username: string; csrf_token: string; expires_at: number }>(
    "SELECT a.id, a.username, s.csrf_token, s.expires_at FROM sessions s JOIN admins a ON a.id = s.admin_id WHERE s.id_hash = ?",
    [sha256Hex(sessionId)],
  );
  if (row === undefined || Number(row.expires_at) < now) return null;
  return { admin: { id: row.id, username: row.username }, csrfToken: row.csrf_token, expiresAt: Number(row.expires_at) };
}

export async function deleteSession(db: Db, sessionId: string): Promise<void> {
  await db.run("DELETE FROM sessions WHERE id_hash = ?", [sha256Hex(sessionId)]);
}

export async function recentLoginFailures(db: Db, subjects: readonly string[], windowMs: number, now = Date.now()): Promise<number> {
  let most = 0;
  for (const subject of subjects) {
    const row = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM login_failures WHERE subject = ? AND at > ?", [subject, now - windowMs]);
    most = Math.max(most, Number(row?.n ?? 0));
  }
  return most;
}

export async function recordLoginFailure(db: Db, subjects: readonly string[], now = Date.now()): Promise<void> {
  await db.run("DELETE FROM login_failures WHERE at < ?", [now - 24 * 60 * 60 * 1000]);
  for (const subject of subjects) await db.run("INSERT INTO login_failures (subject, at) VALUES (?, ?)", [subject, now]);
}

export async function clearLoginFailures(db: Db, subjects: readonly string[]): Promise<void> {
  for (const subject of subjects) await db.run("DELETE FROM login_failures WHERE subject = ?", [subject]);
}

export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== "object" || error === null) return false;
  const code = (error as { code?: unknown }).code;
  return code === "23505" || code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY";
}
