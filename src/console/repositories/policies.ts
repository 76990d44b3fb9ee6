// Policies with their full history (every save is a new version; rollback saves an old source as
// the newest version) and their assignment to workload groups.

import type { Db } from "../db/database.js";
import { isUniqueViolation } from "./admins.js";

export interface PolicySummary {
  name: string;
  currentVersion: number;
  digest: string;
  groups: string[];
  updatedAt: number;
}

export interface PolicyVersion {
  name: string;
  version: number;
  source: string;
  compiled: string;
  digest: string;
  comment: string;
  author: string;
  createdAt: number;
}

export interface CompiledSource {
  source: string;
  compiled: string;
  digest: string;
}

interface VersionRow {
  policy_name: string;
  version: number;
  source: string;
  compiled: string;
  digest: string;
  comment: string;
  author: string;
  created_at: number;
}

function toVersion(row: VersionRow): PolicyVersion {
  return {
    name: row.policy_name,
    version: Number(row.version),
    source: row.source,
    compiled: row.compiled,
    digest: row.digest,
    comment: row.comment,
    author: row.author,
    createdAt: Number(row.created_at),
  };
}

/** Null when a policy of that name exists already. */
export async function createPolicy(db: Db, name: string, p: CompiledSource, author: string, comment: string): Promise<PolicyVersion | null> {
  const now = Date.now();
  try {
    return await db.transaction(async (tx) => {
      await tx.run("INSERT INTO policies (name, current_version, created_at, updated_at) VALUES (?, 1, ?, ?)", [name, now, now]);
      await insertVersion(tx, name, 1, p, author, comment, now);
      return { name, version: 1, ...p, comment, author, createdAt: now };
    });
  } catch (error) {
    if (isUniqueViolation(error)) return null;
    throw error;
  }
}

/** Saves a new version; null when the policy does not exist. */
export async function saveVersion(db: Db, name: string, p: CompiledSource, author: string, comment: string): Promise<PolicyVersion | null> {
  const now = Date.now();
  return db.transaction(async (tx) => {
    // The UPDATE takes the row lock first, so concurrent saves on replicas get distinct versions.
    const { changes } = await tx.run("UPDATE policies SET current_version = current_version + 1, updated_at = ? WHERE name = ?", [now, name]);
    if (changes === 0) return null;
    const row = await tx.get<{ current_version: number }>("SELECT current_version FROM policies WHERE name = ?", [name]);
    const version = Number(row?.current_version);
    await insertVersion(tx, name, version, p, author, comment, now);
    return { name, version, ...p, comment, author, createdAt: now };
  });
}

async function insertVersion(tx: Db, name: string, version: number, p: CompiledSource, author: string, comment: string, now: number): Promise<void> {
  await tx.run(
    "INSERT INTO policy_versions (policy_name, version, source, compiled, digest, comment, author, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
    [name, version, p.source, p.compiled, p.digest, comment, author, now],
  );
}

export async function listPolicies(db: Db): Promise<PolicySummary[]> {
  const rows = await db.all<{ name: string; current_version: number; digest: string; updated_at: number }>(
    `SELECT p.name, p.current_version, v.digest, p.updated_at FROM policies p
     JOIN policy_versions v ON v.policy_name = p.name AND v.version = p.current_version ORDER BY p.name`,
  );
  const groups = await db.all<{ group_name: string; policy_name: string }>("SELECT group_name, policy_name FROM group_policies ORDER BY group_name");
  return rows.map((r) => ({
    name: r.name,
    currentVersion: Number(r.current_version),
    digest: r.digest,
    groups: groups.filter((g) => g.policy_name === r.name).map((g) => g.group_name),
    updatedAt: Number(r.updated_at),
  }));
}

export async function getVersion(db: Db, name: string, version?: number): Promise<PolicyVersion | null> {
  const row =
    version === undefined
      ? await db.get<VersionRow>(
          "SELECT v.* FROM policy_versions v JOIN policies p ON p.name = v.policy_name AND p.current_version = v.version WHERE v.policy_name = ?",
          [name],
        )
      : await db.get<VersionRow>("SELECT * FROM policy_versions WHERE policy_name = ? AND version = ?", [name, version]);
  return row === undefined ? null : toVersion(row);
}

export async function history(db: Db, name: string): Promise<Omit<PolicyVersion, "source" | "compiled">[]> {
  const rows = await db.all<VersionRow>(
    "SELECT policy_name, version, '' AS source, '' AS compiled, digest, comment, author, created_at FROM policy_versions WHERE policy_name = ? ORDER BY version DESC",
    [name],
  );
  return rows.map(toVersion).map(({ source: _s, compiled: _c, ...rest }) => rest);
}

/** False when the policy does not exist. */
export async function assignPolicy(db: Db, group: string, policyName: string): Promise<boolean> {
  const exists = await db.get("SELECT 1 AS one FROM policies WHERE name = ?", [policyName]);
  if (exists === undefined) return false;
  await db.run(
    `INSERT INTO group_policies (group_name, policy_name, assigned_at) VALUES (?, ?, ?)
     ON CONFLICT (group_name) DO UPDATE SET policy_name = excluded.policy_name, assigned_at = excluded.assigned_at`,
    [group, policyName, Date.now()],
  );
  return true;
}

export async function unassignPolicy(db: Db, group: string): Promise<boolean> {
  return (await db.run("DELETE FROM group_policies WHERE group_name = ?", [group])).changes > 0;
}

export async function listGroups(db: Db): Promise<{ group: string; policy: string | null }[]> {
  const rows = await db.all<{ group_name: string; policy_name: string | null }>(
    `SELECT g AS group_name, (SELECT policy_name FROM group_policies WHERE group_name = g) AS policy_name FROM (
       SELECT group_name AS g FROM group_policies UNION SELECT group_name FROM enrollment_tokens UNION SELECT group_name FROM enforcers
     ) groups ORDER BY g`,
  );
  return rows.map((r) => ({ group: r.group_name, policy: r.policy_name }));
}

/** The compiled policy for a group: the current version of the assigned policy. */
export async function policyForGroup(db: Db, group: string): Promise<{ compiled: string; digest: string } | null> {
  const row = await db.get<{ compiled: string; digest: string }>(
    `SELECT v.compiled, v.digest FROM group_policies g
     JOIN policies p ON p.name = g.policy_name
     JOIN policy_versions v ON v.policy_name = p.name AND v.version = p.current_version
     WHERE g.group_name = ?`,
    [group],
  );
  return row ?? null;
}
