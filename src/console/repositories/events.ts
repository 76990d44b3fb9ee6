// Events: stored exactly once by (enforcer, seq), with the gaps in each enforcer's numbering;
// queried with filters, counted per time bucket, and walked up the ppid chain for an event's detail.

import type { VigilEvent } from "../../events/schema.js";
import type { Db, SqlValue } from "../db/database.js";
import { recordAlerts } from "./alerts.js";

export interface IngestResult {
  accepted: number;
  duplicates: number;
  nextSeq: number;
  gaps: number;
  /** Gaps recorded by this batch (not counting those it filled). */
  newGaps: number;
  /** Alert rows recorded for the webhooks (new blocked/alert events, grouped). */
  alerts: number;
}

export interface StoredEvent {
  enforcerId: string;
  seq: number;
  group: string;
  container: string | null;
  taskArn: string | null;
  receivedAt: number;
  event: VigilEvent;
}

export interface EventFilter {
  workload?: string | undefined;
  enforcer?: string | undefined;
  kind?: string | undefined;
  verdict?: string | undefined;
  from?: number | undefined;
  to?: number | undefined;
}

const INSERT_CHUNK = 500;

export async function ingestBatch(db: Db, enforcerId: string, firstSeq: number, events: readonly VigilEvent[], now = Date.now()): Promise<IngestResult> {
  const lastSeq = firstSeq + events.length - 1;
  return db.transaction(async (tx) => {
    // Takes the enforcer's row lock: batches of one enforcer are applied one at a time.
    await tx.run("UPDATE enforcers SET max_seq = max_seq WHERE id = ?", [enforcerId]);
    const row = await tx.get<{ max_seq: number }>("SELECT max_seq FROM enforcers WHERE id = ?", [enforcerId]);
    const maxSeq = Number(row?.max_seq ?? 0);

    const alerts = await recordAlerts(tx, enforcerId, firstSeq, maxSeq, events, now);
    let accepted = 0;
    for (let start = 0; start < events.length; start += INSERT_CHUNK) {
      accepted += await insertChunk(tx, enforcerId, firstSeq + start, events.slice(start, start + INSERT_CHUNK), now);
    }

    let newGaps = 0;
    if (events.length > 0 && firstSeq > maxSeq + 1) {
      await tx.run("INSERT INTO event_gaps (enforcer_id, from_seq, to_seq, recorded_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING", [
        enforcerId,
        maxSeq + 1,
        firstSeq - 1,
        now,
      ]);
      newGaps = 1;
    } else if (events.length > 0 && firstSeq <= maxSeq) {
      await fillGaps(tx, enforcerId, firstSeq, lastSeq);
    }
    const newMax = Math.max(maxSeq, events.length > 0 ? lastSeq : maxSeq);
    await tx.run("UPDATE enforcers SET max_seq = ? WHERE id = ?", [newMax, enforcerId]);
    await noteLifecycle(tx, enforcerId, events);
    const gaps = await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM event_gaps WHERE enforcer_id = ?", [enforcerId]);
    return { accepted, duplicates: events.length - accepted, nextSeq: newMax + 1, gaps: Number(gaps?.n ?? 0), newGaps, alerts };
  });
}

async function insertChunk(tx: Db, enforcerId: string, firstSeq: number, events: readonly VigilEvent[], now: number): Promise<number> {
  const rows = events.map((e, i): SqlValue[] => {
    const p = "pid" in e ? e : null;
    return [
      enforcerId,
      firstSeq + i,
      Date.parse(e.time),
      e.kind,
      "verdict" in e ? e.verdict : null,
      "rule" in e ? e.rule : null,
      p === null ? null : p.pid,
      p === null ? null : p.ppid,
      p === null ? null : p.exe,
      JSON.stringify(e),
      now,
    ];
  });
  const head = "INSERT INTO events (enforcer_id, seq, time_ms, kind, verdict, rule, pid, ppid, exe, body, received_at) VALUES ";
  const tuple = "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
  const tail = " ON CONFLICT (enforcer_id, seq) DO NOTHING";
  if (tx.dialect === "sqlite") {
    // One cached statement per row: the fastest path on SQLite.
    let n = 0;
    for (const r of rows) n += (await tx.run(head + tuple + tail, r)).changes;
    return n;
  }
  return (await tx.run(head + rows.map(() => tuple).join(", ") + tail, rows.flat())).changes;
}

/** A late batch [first, last] removes what it covers from the recorded gaps. */
async function fillGaps(tx: Db, enforcerId: string, first: number, last: number): Promise<void> {
  const gaps = await tx.all<{ from_seq: number; to_seq: number; recorded_at: number }>(
    "SELECT from_seq, to_seq, recorded_at FROM event_gaps WHERE enforcer_id = ? AND from_seq <= ? AND to_seq >= ?",
    [enforcerId, last, first],
  );
  for (const g of gaps) {
    const from = Number(g.from_seq);
    const to = Number(g.to_seq);
    await tx.run("DELETE FROM event_gaps WHERE enforcer_id = ? AND from_seq = ?", [enforcerId, from]);
    if (from < first) await tx.run("INSERT INTO event_gaps (enforcer_id, from_seq, to_seq, recorded_at) VALUES (?, ?, ?, ?)", [enforcerId, from, first - 1, g.recorded_at]);
    if (to > last) await tx.run("INSERT INTO event_gaps (enforcer_id, from_seq, to_seq, recorded_at) VALUES (?, ?, ?, ?)", [enforcerId, last + 1, to, g.recorded_at]);
  }
}

async function noteLifecycle(tx: Db, enforcerId: string, events: readonly VigilEvent[]): Promise<void> {
  for (const e of events) {
    if (e.kind !== "lifecycle") continue;
    if (e.event === "failopen") await tx.run("UPDATE enforcers SET failopen = 1 WHERE id = ?", [enforcerId]);
    if (e.event === "start") await tx.run("UPDATE enforcers SET failopen = 0, policy_digest = ?, mode = ? WHERE id = ?", [e.policy, e.mode, enforcerId]);
  }
}

export async function gapsOf(db: Db, enforcerId: string): Promise<{ from: number; to: number; recordedAt: number }[]> {
  const rows = await db.all<{ from_seq: number; to_seq: number; recorded_at: number }>(
    "SELECT from_seq, to_seq, recorded_at FROM event_gaps WHERE enforcer_id = ? ORDER BY from_seq",
    [enforcerId],
  );
  return rows.map((r) => ({ from: Number(r.from_seq), to: Number(r.to_seq), recordedAt: Number(r.recorded_at) }));
}

function where(filter: EventFilter): { sql: string; params: SqlValue[] } {
  const clauses: string[] = [];
  const params: SqlValue[] = [];
  if (filter.workload !== undefined) {
    clauses.push("(e.group_name = ? OR e.container = ? OR e.task_arn = ?)");
    params.push(filter.workload, filter.workload, filter.workload);
  }
  if (filter.enforcer !== undefined) {
    clauses.push("ev.enforcer_id = ?");
    params.push(filter.enforcer);
  }
  if (filter.kind !== undefined) {
    clauses.push("ev.kind = ?");
    params.push(filter.kind);
  }
  if (filter.verdict !== undefined) {
    clauses.push("ev.verdict = ?");
    params.push(filter.verdict);
  }
  if (filter.from !== undefined) {
    clauses.push("ev.time_ms >= ?");
    params.push(filter.from);
  }
  if (filter.to !== undefined) {
    clauses.push("ev.time_ms < ?");
    params.push(filter.to);
  }
  return { sql: clauses.length === 0 ? "" : `WHERE ${clauses.join(" AND ")}`, params };
}

interface EventRow {
  enforcer_id: string;
  seq: number;
  group_name: string;
  container: string | null;
  task_arn: string | null;
  received_at: number;
  body: string;
}

function toStored(r: EventRow): StoredEvent {
  return {
    enforcerId: r.enforcer_id,
    seq: Number(r.seq),
    group: r.group_name,
    container: r.container,
    taskArn: r.task_arn,
    receivedAt: Number(r.received_at),
    event: JSON.parse(r.body) as VigilEvent,
  };
}

const SELECT_EVENTS = "SELECT ev.enforcer_id, ev.seq, e.group_name, e.container, e.task_arn, ev.received_at, ev.body FROM events ev JOIN enforcers e ON e.id = ev.enforcer_id";

export async function queryEvents(db: Db, filter: EventFilter, limit: number, offset: number): Promise<{ events: StoredEvent[]; total: number }> {
  const w = where(filter);
  const rows = await db.all<EventRow>(`${SELECT_EVENTS} ${w.sql} ORDER BY ev.time_ms DESC, ev.enforcer_id, ev.seq DESC LIMIT ? OFFSET ?`, [...w.params, limit, offset]);
  const total = await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM events ev JOIN enforcers e ON e.id = ev.enforcer_id ${w.sql}`, w.params);
  return { events: rows.map(toStored), total: Number(total?.n ?? 0) };
}

export interface Bucket {
  start: number;
  blocked: number;
  alert: number;
  allowed: number;
}

export async function countBuckets(db: Db, filter: EventFilter, bucketMs: number): Promise<Bucket[]> {
  const w = where(filter);
  const rows = await db.all<{ b: number; verdict: string | null; n: number }>(
    `SELECT (ev.time_ms / CAST(? AS INTEGER)) * CAST(? AS INTEGER) AS b, ev.verdict, COUNT(*) AS n FROM events ev JOIN enforcers e ON e.id = ev.enforcer_id ${w.sql}
     GROUP BY 1, 2 ORDER BY 1`,
    [bucketMs, bucketMs, ...w.params],
  );
  const buckets = new Map<number, Bucket>();
  for (const r of rows) {
    const start = Number(r.b);
    const bucket = buckets.get(start) ?? { start, blocked: 0, alert: 0, allowed: 0 };
    if (r.verdict === "blocked" || r.verdict === "alert" || r.verdict === "allowed") bucket[r.verdict] += Number(r.n);
    buckets.set(start, bucket);
  }
  return [...buckets.values()].sort((a, b) => a.start - b.start);
}

export async function getEvent(db: Db, enforcerId: string, seq: number): Promise<StoredEvent | null> {
  const row = await db.get<EventRow>(`${SELECT_EVENTS} WHERE ev.enforcer_id = ? AND ev.seq = ?`, [enforcerId, seq]);
  return row === undefined ? null : toStored(row);
}

/** The exec events of the parent, grandparent… (nearest first), as far as the events go. */
export async function ancestry(db: Db, stored: StoredEvent, maxDepth = 32): Promise<StoredEvent[]> {
  const chain: StoredEvent[] = [];
  const seen = new Set<number>();
  let ppid = "ppid" in stored.event ? stored.event.ppid : -1;
  let before = Date.parse(stored.event.time);
  while (ppid > 0 && chain.length < maxDepth && !seen.has(ppid)) {
    seen.add(ppid);
    const row = await db.get<EventRow>(
      `${SELECT_EVENTS} WHERE ev.enforcer_id = ? AND ev.pid = ? AND ev.kind = 'exec' AND ev.time_ms <= ? ORDER BY ev.time_ms DESC, ev.seq DESC LIMIT 1`,
      [stored.enforcerId, ppid, before],
    );
    if (row === undefined) break;
    const parent = toStored(row);
    chain.push(parent);
    ppid = "ppid" in parent.event ? parent.event.ppid : -1;
    before = Date.parse(parent.event.time);
  }
  return chain;
}

export async function totals(db: Db): Promise<{ events: number; gaps: number; missing: number; dropped: number }> {
  const e = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM events");
  const g = await db.get<{ n: number; missing: number | null }>("SELECT COUNT(*) AS n, SUM(to_seq - from_seq + 1) AS missing FROM event_gaps");
  const d = await db.all<{ body: string }>("SELECT body FROM events WHERE kind = 'dropped'");
  const dropped = d.reduce((n, r) => n + Number((JSON.parse(r.body) as { count?: number }).count ?? 0), 0);
  return { events: Number(e?.n ?? 0), gaps: Number(g?.n ?? 0), missing: Number(g?.missing ?? 0), dropped };
}
