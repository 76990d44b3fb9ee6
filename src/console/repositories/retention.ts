// Retention: events (by event time) and gap records (by when they were recorded) older than the
// cutoff, deleted in bounded batches so that no single statement holds the database for long.

import type { Db } from "../db/database.js";

export async function deleteOldEvents(db: Db, cutoffMs: number, limit: number): Promise<number> {
  const sql = "DELETE FROM events WHERE (enforcer_id, seq) IN (SELECT enforcer_id, seq FROM events WHERE time_ms < ? LIMIT ?)";
  return (await db.run(sql, [cutoffMs, limit])).changes;
}

export async function deleteOldGaps(db: Db, cutoffMs: number, limit: number): Promise<number> {
  const sql = "DELETE FROM event_gaps WHERE (enforcer_id, from_seq) IN (SELECT enforcer_id, from_seq FROM event_gaps WHERE recorded_at < ? LIMIT ?)";
  return (await db.run(sql, [cutoffMs, limit])).changes;
}
