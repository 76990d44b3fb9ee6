// Webhooks that receive alerts: set on the page (stored here) or by VIGIL_CONSOLE_WEBHOOK_URL
// (kept in the same table under the id "env", so every replica fans out to it the same way).

import type { Db } from "../db/database.js";
import { redactUrl } from "../alerts/deliver.js";
import { randomId } from "../secrets.js";

export type WebhookSource = "console" | "env";
export const ENV_WEBHOOK_ID = "env";

export interface Webhook {
  id: string;
  url: string;
  includeAlerts: boolean;
  source: WebhookSource;
  createdAt: number;
}

export interface WebhookInfo extends Omit<Webhook, "url"> {
  /** Redacted: a Slack webhook URL's path is its secret. */
  url: string;
  pending: number;
  last: { state: string; attempts: number; at: number | null; error: string | null } | null;
}

interface WebhookRow {
  id: string;
  url: string;
  include_alerts: number;
  source: string;
  created_at: number;
}

function toWebhook(r: WebhookRow): Webhook {
  return { id: r.id, url: r.url, includeAlerts: Number(r.include_alerts) === 1, source: r.source === "env" ? "env" : "console", createdAt: Number(r.created_at) };
}

export async function listWebhooks(db: Db): Promise<Webhook[]> {
  return (await db.all<WebhookRow>("SELECT id, url, include_alerts, source, created_at FROM webhooks ORDER BY created_at, id")).map(toWebhook);
}

export async function getWebhook(db: Db, id: string): Promise<Webhook | null> {
  const row = await db.get<WebhookRow>("SELECT id, url, include_alerts, source, created_at FROM webhooks WHERE id = ?", [id]);
  return row === undefined ? null : toWebhook(row);
}

export async function webhookInfos(db: Db): Promise<WebhookInfo[]> {
  const out: WebhookInfo[] = [];
  for (const w of await listWebhooks(db)) {
    const pending = await db.get<{ n: number }>("SELECT COUNT(*) AS n FROM webhook_outbox WHERE webhook_id = ? AND state IN ('pending', 'sending')", [w.id]);
    const last = await db.get<{ state: string; attempts: number; finished_at: number | null; last_error: string | null }>(
      "SELECT state, attempts, finished_at, last_error FROM webhook_outbox WHERE webhook_id = ? ORDER BY id DESC LIMIT 1",
      [w.id],
    );
    out.push({
      ...w,
      url: redactUrl(w.url),
      pending: Number(pending?.n ?? 0),
      last: last === undefined ? null : { state: last.state, attempts: Number(last.attempts), at: last.finished_at === null ? null : Number(last.finished_at), error: last.last_error },
    });
  }
  return out;
}

export async function addWebhook(db: Db, url: string, includeAlerts: boolean): Promise<Webhook> {
  const w: Webhook = { id: `wh_${randomId(6)}`, url, includeAlerts, source: "console", createdAt: Date.now() };
  await db.run("INSERT INTO webhooks (id, url, include_alerts, source, created_at) VALUES (?, ?, ?, ?, ?)", [w.id, url, includeAlerts ? 1 : 0, w.source, w.createdAt]);
  return w;
}

/** Null: no such webhook; false: it comes from the environment and cannot be removed here. */
export async function removeWebhook(db: Db, id: string): Promise<boolean | null> {
  const w = await getWebhook(db, id);
  if (w === null) return null;
  if (w.source === "env") return false;
  await db.run("DELETE FROM webhooks WHERE id = ?", [id]);
  return true;
}

/** Makes the "env" webhook match VIGIL_CONSOLE_WEBHOOK_URL (added, changed, or removed when unset). */
export async function syncEnvWebhook(db: Db, url: string | null): Promise<void> {
  if (url === null) {
    await db.run("DELETE FROM webhooks WHERE id = ?", [ENV_WEBHOOK_ID]);
    return;
  }
  await db.run(
    "INSERT INTO webhooks (id, url, include_alerts, source, created_at) VALUES (?, ?, 0, 'env', ?) ON CONFLICT (id) DO UPDATE SET url = excluded.url",
    [ENV_WEBHOOK_ID, url, Date.now()],
  );
}
