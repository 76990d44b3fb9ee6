// Operations: liveness, readiness (the database answers), Prometheus metrics.

import type { FastifyInstance } from "fastify";
import type { ConsoleContext } from "../context.js";
import { countOnline } from "../repositories/enforcers.js";
import { outboxPending } from "../repositories/alerts.js";
import { totals } from "../repositories/events.js";

export function opsRoutes(ctx: ConsoleContext) {
  const { db, metrics } = ctx;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get("/healthz", async () => ({ ok: true }));

    app.get("/readyz", async (_request, reply) => {
      try {
        await db.get("SELECT 1 AS one");
        return { ok: true };
      } catch {
        return reply.code(503).send({ ok: false, error: "database unavailable", statusCode: 503 });
      }
    });

    app.get("/metrics", async (_request, reply) => {
      const t = await totals(db);
      const online = await countOnline(db, Date.now() - 3 * ctx.pollSeconds * 1000);
      const lines = [
        "# HELP vigil_console_events_ingested_total Events stored by this replica since it started.",
        "# TYPE vigil_console_events_ingested_total counter",
        `vigil_console_events_ingested_total ${metrics.eventsIngested}`,
        "# HELP vigil_console_events_duplicate_total Resent events this replica recognised as stored already.",
        "# TYPE vigil_console_events_duplicate_total counter",
        `vigil_console_events_duplicate_total ${metrics.eventsDuplicate}`,
        "# HELP vigil_console_batches_refused_total Event batches refused as malformed by this replica.",
        "# TYPE vigil_console_batches_refused_total counter",
        `vigil_console_batches_refused_total ${metrics.batchesRefused}`,
        "# HELP vigil_console_events_stored Events in the database.",
        "# TYPE vigil_console_events_stored gauge",
        `vigil_console_events_stored ${t.events}`,
        "# HELP vigil_console_events_dropped Events enforcers reported dropped (sum of dropped events' counts).",
        "# TYPE vigil_console_events_dropped gauge",
        `vigil_console_events_dropped ${t.dropped}`,
        "# HELP vigil_console_event_gaps Open gaps in enforcers' sequence numbers.",
        "# TYPE vigil_console_event_gaps gauge",
        `vigil_console_event_gaps ${t.gaps}`,
        "# HELP vigil_console_events_missing Sequence numbers inside open gaps.",
        "# TYPE vigil_console_events_missing gauge",
        `vigil_console_events_missing ${t.missing}`,
        "# HELP vigil_console_enforcers_online Enforcers seen within three poll intervals.",
        "# TYPE vigil_console_enforcers_online gauge",
        `vigil_console_enforcers_online ${online}`,
        "# HELP vigil_console_webhook_deliveries_total Webhook posts by this replica, by result (a failed post may be retried).",
        "# TYPE vigil_console_webhook_deliveries_total counter",
        `vigil_console_webhook_deliveries_total{result="ok"} ${metrics.webhookDeliveriesOk}`,
        `vigil_console_webhook_deliveries_total{result="failed"} ${metrics.webhookDeliveriesFailed}`,
        "# HELP vigil_console_webhook_pending Webhook messages waiting to be delivered.",
        "# TYPE vigil_console_webhook_pending gauge",
        `vigil_console_webhook_pending ${await outboxPending(db)}`,
        "# HELP vigil_console_retention_deleted_total Rows deleted by retention on this replica.",
        "# TYPE vigil_console_retention_deleted_total counter",
        `vigil_console_retention_deleted_total{table="events"} ${metrics.retentionEventsDeleted}`,
        `vigil_console_retention_deleted_total{table="event_gaps"} ${metrics.retentionGapsDeleted}`,
      ];
      return reply.type("text/plain; version=0.0.4").send(`${lines.join("\n")}\n`);
    });
  };
}
