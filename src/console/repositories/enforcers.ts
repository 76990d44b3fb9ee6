// Enforcers that registered: who they are, what they run, when they were last seen.

import type { Db } from "../db/database.js";
import { randomId, randomSecret, sha256Hex } from "../secrets.js";

export interface Registration {
  instance: string;
  taskArn: string | null;
  container: string | null;
  image: string | null;
  version: string;
  arch: string;
  mode: string | null;
  policyDigest: string | null;
  hostname: string | null;
}

/** A registered enforcer: what it said when it registered, and what the console keeps about it. */
export interface Enforcer extends Registration {
  id: string;
  tokenId: string;
  group: string;
  failopen: boolean;
  registeredAt: number;
  lastSeen: number;
  maxSeq: number;
  gaps: number;
}

interface EnforcerRow {
  id: string;
  token_id: string;
  group_name: string;
  instance: string;
  task_arn: string | null;
  container: string | null;
  image: string | null;
  version: string;
  arch: string;
  mode: string | null;
  policy_digest: string | null;
  hostname: string | null;
  failopen: number;
  registered_at: number;
  last_seen: number;
  max_seq: number;
  gaps?: number;
}

function toEnforcer(row: EnforcerRow): Enforcer {
  return {
    id: row.id,
    tokenId: row.token_id,
    group: row.group_name,
    instance: row.instance,
    taskArn: row.task_arn,
    container: row.container,
    image: row.image,
    version: row.version,
    arch: row.arch,
    mode: row.mode,
    policyDigest: row.policy_digest,
    hostname: row.hostname,
    failopen: Number(row.failopen) !== 0,
    registeredAt: Number(row.registered_at),
    lastSeen: Number(row.last_seen),
    maxSeq: Number(row.max_seq),
    gaps: Number(row.gaps ?? 0),
  };
}

/** Registers (or re-registers: same group and instance) and issues a new enforcer key. */
export async function registerEnforcer(
  db: Db,
  token: { id: string; group: string },
  r: Registration,
): Promise<{ enforcer: Enforcer; key: string }> {
  const key = `vek_${randomSecret(32)}`;
  const now = Date.now();
  return db.transaction(async (tx) => {
    await tx.run(
      `INSERT INTO enforcers (id, token_id, group_name, instance, key_hash, task_arn, container, image, version, arch, mode, policy_digest, hostname, registered_at, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (group_name, instance) DO UPDATE SET
         token_id = excluded.token_id, key_hash = excluded.key_hash, task_arn = excluded.task_arn,
         container = excluded.container, image = excluded.image, version = excluded.version, arch = excluded.arch,
         mode = excluded.mode, policy_digest = excluded.policy_digest, hostname = excluded.hostname,
         last_seen = excluded.last_seen`,
      [
        `e_${randomId(10)}`,
        token.id,
        token.group,
        r.instance,
        sha256Hex(key),
        r.taskArn,
        r.container,
        r.image,
        r.version,
        r.arch,
        r.mode,
        r.policyDigest,
        r.hostname,
        now,
        now,
      ],
    );
    const row = await tx.get<EnforcerRow>("SELECT * FROM enforcers WHERE group_name = ? AND instance = ?", [token.group, r.instance]);
    if (row === undefined) throw new Error("enforcer row missing after upsert");
    return { enforcer: toEnforcer(row), key };
  });
}

/** The enforcer a key belongs to, if its enrollment token is still live; marks it seen. */
export async function authenticateEnforcer(db: Db, key: string, now = Date.now()): Promise<Enforcer | null> {
  if (!/^vek_[A-Za-z0-9_-]{43}$/.test(key)) return null;
  const row = await db.get<EnforcerRow>(
    "SELECT e.* FROM enforcers e JOIN enrollment_tokens t ON t.id = e.token_id WHERE e.key_hash = ? AND t.revoked_at IS NULL",
    [sha256Hex(key)],
  );
  if (row === undefined) return null;
  await db.run("UPDATE enforcers SET last_seen = ? WHERE id = ?", [now, row.id]);
  return toEnforcer({ ...row, last_seen: now });
}

export async function setPolicyInForce(db: Db, enforcerId: string, digest: string | null): Promise<void> {
  await db.run("UPDATE enforcers SET policy_digest = ? WHERE id = ?", [digest, enforcerId]);
}

export async function markFailopen(db: Db, enforcerId: string): Promise<void> {
  await db.run("UPDATE enforcers SET failopen = 1 WHERE id = ?", [enforcerId]);
}

export async function listEnforcers(db: Db): Promise<Enforcer[]> {
  const rows = await db.all<EnforcerRow>(
    `SELECT e.*, (SELECT COUNT(*) FROM event_gaps g WHERE g.enforcer_id = e.id) AS gaps
     FROM enforcers e ORDER BY e.group_name, e.last_seen DESC, e.id`,
  );
  return rows.map(toEnforcer);
}

export async function countOnline(db: Db, since: number): Promise<number> {
  const row = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM enforcers WHERE last_seen >= ?", [since]);
  return Number(row?.n ?? 0);
}
