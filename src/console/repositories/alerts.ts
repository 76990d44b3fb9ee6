// Alerts, from ingest to the webhook, all in the database so that replicas share them:
// 1. ingest records each batch's new blocked/alert events, grouped by (kind, verdict, rule,
//    executable), in alert_events — in the batch's own transaction, never touching the network;
// 2. fan-out (one replica at a time: an advisory lock on PostgreSQL) turns them into messages per
//    webhook, deduplicated by (group, kind, rule, executable) within a window and rate limited;
// 3. delivery claims due messages atomically (FOR UPDATE SKIP LOCKED on PostgreSQL), so each is
//    posted by one replica, and records the outcome (retry with backoff, or give up).

import type { VigilEvent } from "../../events/schema.js";
import type { Alert, AlertVerdict, SlackMessage } from "../alerts/slack.js";
import { alertMessage, heldMessage, repeatMessage } from "../alerts/slack.js";
import type { Db, SqlValue } from "../db/database.js";
import { sha256Hex } from "../secrets.js";

export interface AlertLimits {
  /** Same group + kind + rule + executable within this window: one message, then a count. */
  windowMs: number;
  /** Messages enqueued per webhook per minute; more are held and summarized. */
  perMinute: number;
}

const FAN_OUT_LOCK = 7345002;
const FAN_OUT_BATCH = 1000;
const KEEP_FINISHED_MS = 24 * 60 * 60 * 1000;

function alertVerdict(e: VigilEvent): AlertVerdict | null {
  const v = "verdict" in e ? e.verdict : null;
  return v === "blocked" || v === "alert" ? v : null;
}

/**
 * Inside ingest's transaction, before the batch's events are inserted: the batch's blocked and
 * alert events not stored already (a retried batch alerts once), one row per key. `maxSeq` is the
 * enforcer's highest stored sequence number before this batch.
 */
export async function recordAlerts(tx: Db, enforcerId: string, firstSeq: number, maxSeq: number, events: readonly VigilEvent[], now: number): Promise<number> {
  const candidates: number[] = [];
  events.forEach((e, i) => {
    if (alertVerdict(e) !== null) candidates.push(i);
  });
  if (candidates.length === 0) return 0;
  let stored = new Set<number>();
  const low = firstSeq + (candidates[0] ?? 0);
  if (low <= maxSeq) {
    const high = Math.min(maxSeq, firstSeq + (candidates[candidates.length - 1] ?? 0));
    const rows = await tx.all<{ seq: number }>("SELECT seq FROM events WHERE enforcer_id = ? AND seq BETWEEN ? AND ?", [enforcerId, low, high]);
    stored = new Set(rows.map((r) => Number(r.seq)));
  }
  const groups = new Map<string, { kind: string; verdict: AlertVerdict; rule: string; exe: string; count: number; seq: number; sample: VigilEvent }>();
  for (const i of candidates) {
    const e = events[i] as VigilEvent;
    const seq = firstSeq + i;
    if (stored.has(seq)) continue;
    const verdict = alertVerdict(e) as AlertVerdict;
    const rule = ("rule" in e ? e.rule : null) ?? "";
    const exe = "exe" in e ? e.exe : "";
    const key = JSON.stringify([e.kind, verdict, rule, exe]);
    const g = groups.get(key);
    if (g === undefined) groups.set(key, { kind: e.kind, verdict, rule, exe, count: 1, seq, sample: e });
    else g.count++;
  }
  for (const g of groups.values()) {
    await tx.run("INSERT INTO alert_events (enforcer_id, kind, verdict, rule, exe, count, seq, sample, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [
      enforcerId,
      g.kind,
      g.verdict,
      g.rule,
      g.exe,
      g.count,
      g.seq,
      JSON.stringify(g.sample),
      now,
    ]);
  }
  return groups.size;
}

interface HookRow {
  id: string;
  include_alerts: number;
  held_messages: number;
  held_events: number;
}

interface AlertRow {
  id: number;
  enforcer_id: string;
  kind: string;
  verdict: string;
  rule: string;
  exe: string;
  count: number;
  seq: number;
  sample: string;
  group_name: string;
  container: string | null;
  task_arn: string | null;
}

function toAlert(r: AlertRow): Alert {
  return {
    group: r.group_name,
    container: r.container,
    taskArn: r.task_arn,
    enforcerId: r.enforcer_id,
    seq: Number(r.seq),
    kind: r.kind,
    verdict: r.verdict === "alert" ? "alert" : "blocked",
    rule: r.rule,
    exe: r.exe,
    sample: JSON.parse(r.sample) as Record<string, unknown>,
  };
}

async function sentLastMinute(tx: Db, webhookId: string, now: number): Promise<number> {
  const row = await tx.get<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox WHERE webhook_id = ? AND created_at > ?", [webhookId, now - 60_000]);
  return Number(row?.n ?? 0);
}

function insertMessage(tx: Db, webhookId: string, kind: string, message: SlackMessage, now: number): Promise<unknown> {
  return tx.run("INSERT INTO webhook_outbox (webhook_id, kind, payload, state, attempts, next_attempt_at, created_at) VALUES (?, ?, ?, 'pending', 0, ?, ?)", [
    webhookId,
    kind,
    JSON.stringify(message),
    now,
    now,
  ]);
}

/** Enqueues a message unless the webhook's rate limit is reached; then it is counted as held. */
async function enqueue(tx: Db, webhookId: string, kind: string, message: SlackMessage, events: number, limits: AlertLimits, now: number): Promise<number> {
  if ((await sentLastMinute(tx, webhookId, now)) >= limits.perMinute) {
    await tx.run("UPDATE webhooks SET held_messages = held_messages + 1, held_events = held_events + ? WHERE id = ?", [events, webhookId]);
    return 0;
  }
  await insertMessage(tx, webhookId, kind, message, now);
  return 1;
}

/** Turns recorded alert events into webhook messages; returns how many were enqueued. */
export async function fanOut(db: Db, limits: AlertLimits, now = Date.now()): Promise<number> {
  return db.transaction(async (tx) => {
    // One replica fans out at a time; the others skip this round rather than wait.
    if (tx.dialect === "postgres") {
      const lock = await tx.get<{ ok: boolean }>(`SELECT pg_try_advisory_xact_lock(${FAN_OUT_LOCK}) AS ok`);
      if (lock?.ok !== true) return 0;
    }
    let queued = 0;
    const hooks = await tx.all<HookRow>("SELECT id, include_alerts, held_messages, held_events FROM webhooks ORDER BY id");

    // Summaries of what the rate limit held back go first, so new alerts cannot starve them.
    for (const h of hooks) {
      if (Number(h.held_messages) === 0 || (await sentLastMinute(tx, h.id, now)) >= limits.perMinute) continue;
      await insertMessage(tx, h.id, "held", heldMessage(Number(h.held_messages), Number(h.held_events), limits.perMinute), now);
      await tx.run("UPDATE webhooks SET held_messages = 0, held_events = 0 WHERE id = ?", [h.id]);
      queued++;
    }

    // Dedup windows that have run out: one message with the count of what they absorbed.
    const closed = await tx.all<{ webhook_id: string; dedup_key: string; pending: number; alert: string }>(
      "SELECT webhook_id, dedup_key, pending, alert FROM alert_windows WHERE opened_at <= ?",
      [now - limits.windowMs],
    );
    for (const w of closed) {
      const pending = Number(w.pending);
      if (pending === 0) {
        await tx.run("DELETE FROM alert_windows WHERE webhook_id = ? AND dedup_key = ?", [w.webhook_id, w.dedup_key]);
        continue;
      }
      const alert = JSON.parse(w.alert) as Alert;
      queued += await enqueue(tx, w.webhook_id, "repeat", repeatMessage(alert, pending, limits.windowMs), pending, limits, now);
      await tx.run("UPDATE alert_windows SET opened_at = ?, pending = 0 WHERE webhook_id = ? AND dedup_key = ?", [now, w.webhook_id, w.dedup_key]);
    }

    // New alert events.
    const rows = await tx.all<AlertRow>(
      `SELECT a.id, a.enforcer_id, a.kind, a.verdict, a.rule, a.exe, a.count, a.seq, a.sample, e.group_name, e.container, e.task_arn
       FROM alert_events a JOIN enforcers e ON e.id = a.enforcer_id ORDER BY a.id LIMIT ${FAN_OUT_BATCH}`,
    );
    for (const r of rows) {
      const alert = toAlert(r);
      const count = Number(r.count);
      const key = sha256Hex(JSON.stringify([alert.group, alert.kind, alert.verdict, alert.rule, alert.exe]));
      for (const h of hooks) {
        if (alert.verdict === "alert" && Number(h.include_alerts) !== 1) continue;
        const open = await tx.get<{ opened_at: number }>("SELECT opened_at FROM alert_windows WHERE webhook_id = ? AND dedup_key = ?", [h.id, key]);
        if (open !== undefined && Number(open.opened_at) > now - limits.windowMs) {
          await tx.run("UPDATE alert_windows SET pending = pending + ?, alert = ? WHERE webhook_id = ? AND dedup_key = ?", [count, JSON.stringify(alert), h.id, key]);
          continue;
        }
        await tx.run(
          "INSERT INTO alert_windows (webhook_id, dedup_key, opened_at, pending, alert) VALUES (?, ?, ?, 0, ?) ON CONFLICT (webhook_id, dedup_key) DO UPDATE SET opened_at = excluded.opened_at, pending = 0, alert = excluded.alert",
          [h.id, key, now, JSON.stringify(alert)],
        );
        queued += await enqueue(tx, h.id, "alert", alertMessage(alert, count), count, limits, now);
      }
    }
    for (let i = 0; i < rows.length; i += 500) {
      const ids = rows.slice(i, i + 500).map((r): SqlValue => Number(r.id));
      await tx.run(`DELETE FROM alert_events WHERE id IN (${ids.map(() => "?").join(", ")})`, ids);
    }
    await tx.run("DELETE FROM webhook_outbox WHERE finished_at IS NOT NULL AND finished_at < ?", [now - KEEP_FINISHED_MS]);
    return queued;
  });
}

export interface OutboxMessage {
  id: number;
  webhookId: string;
  url: string;
  payload: string;
  attempts: number;
}

/** Claims up to `limit` due messages for this replica until `now + leaseMs` (then others may retry them). */
export async function claimDeliveries(db: Db, limit: number, leaseMs: number, now = Date.now()): Promise<OutboxMessage[]> {
  const skipLocked = db.dialect === "postgres" ? " FOR UPDATE SKIP LOCKED" : "";
  const rows = await db.all<{ id: number; webhook_id: string; url: string | null; payload: string; attempts: number }>(
    `UPDATE webhook_outbox SET state = 'sending', attempts = attempts + 1, next_attempt_at = ?
     WHERE id IN (SELECT id FROM webhook_outbox WHERE state IN ('pending', 'sending') AND next_attempt_at <= ? ORDER BY id LIMIT ?${skipLocked})
     RETURNING id, webhook_id, payload, attempts, (SELECT url FROM webhooks w WHERE w.id = webhook_outbox.webhook_id) AS url`,
    [now + leaseMs, now, limit],
  );
  return rows.flatMap((r) => (r.url === null ? [] : [{ id: Number(r.id), webhookId: r.webhook_id, url: r.url, payload: r.payload, attempts: Number(r.attempts) }]));
}

export type DeliveryState = { state: "delivered" } | { state: "failed"; error: string } | { state: "retry"; error: string; at: number } | { state: "released" };

export async function finishDelivery(db: Db, id: number, outcome: DeliveryState, now = Date.now()): Promise<void> {
  switch (outcome.state) {
    case "delivered":
      await db.run("UPDATE webhook_outbox SET state = 'delivered', finished_at = ?, last_error = NULL WHERE id = ?", [now, id]);
      return;
    case "failed":
      await db.run("UPDATE webhook_outbox SET state = 'failed', finished_at = ?, last_error = ? WHERE id = ?", [now, outcome.error, id]);
      return;
    case "retry":
      await db.run("UPDATE webhook_outbox SET state = 'pending', next_attempt_at = ?, last_error = ? WHERE id = ?", [outcome.at, outcome.error, id]);
      return;
    case "released":
      await db.run("UPDATE webhook_outbox SET state = 'pending', attempts = attempts - 1, next_attempt_at = ? WHERE id = ? AND state = 'sending'", [now, id]);
      return;
  }
}

export async function outboxPending(db: Db): Promise<number> {
  const row = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox WHERE state IN ('pending', 'sending')");
  return Number(row?.n ?? 0);
}
