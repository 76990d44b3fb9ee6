// Alert webhooks: list (URLs redacted), add, remove, and send a test message now. The console's
// alert settings (dedup window, rate limit, retention) come along with the list.

import type { FastifyInstance } from "fastify";
import { postWebhook, webhookUrlProblem } from "../alerts/deliver.js";
import { testMessage } from "../alerts/slack.js";
import type { ConsoleContext } from "../context.js";
import { HttpError } from "../plugins/errors.js";
import { adminOnly } from "../plugins/session.js";
import { addWebhook, getWebhook, removeWebhook, webhookInfos } from "../repositories/webhooks.js";

const idParams = { type: "object", properties: { id: { type: "string", pattern: "^(wh_[0-9a-f]{12}|env)$" } } } as const;

export function webhookRoutes(ctx: ConsoleContext) {
  const { db } = ctx;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addHook("onRequest", adminOnly(db));

    app.get("/api/admin/webhooks", async () => ({
      webhooks: await webhookInfos(db),
      settings: {
        dedupWindowMinutes: ctx.alerts.settings.windowMs / 60000,
        messagesPerMinute: ctx.alerts.settings.perMinute,
        retentionDays: ctx.retention.settings.days,
      },
    }));

    app.post<{ Body: { url: string; includeAlerts?: boolean } }>(
      "/api/admin/webhooks",
      {
        schema: {
          body: {
            type: "object",
            required: ["url"],
            additionalProperties: false,
            properties: { url: { type: "string", minLength: 1, maxLength: 2048 }, includeAlerts: { type: "boolean" } },
          },
        },
      },
      async (request, reply) => {
        const problem = webhookUrlProblem(request.body.url);
        if (problem !== null) throw new HttpError(400, problem);
        const w = await addWebhook(db, request.body.url, request.body.includeAlerts ?? false);
        const info = (await webhookInfos(db)).find((x) => x.id === w.id);
        return reply.code(201).send(info);
      },
    );

    app.delete<{ Params: { id: string } }>("/api/admin/webhooks/:id", { schema: { params: idParams } }, async (request) => {
      const removed = await removeWebhook(db, request.params.id);
      if (removed === null) throw new HttpError(404, `no webhook ${request.params.id}`);
      if (!removed) throw new HttpError(409, "this webhook comes from VIGIL_CONSOLE_WEBHOOK_URL: unset it and restart the console");
      return { id: request.params.id, removed: true };
    });

    // Sent now, not through the outbox: the admin sees at once whether the receiver takes it.
    app.post<{ Params: { id: string } }>("/api/admin/webhooks/:id/test", { schema: { params: idParams } }, async (request) => {
      const w = await getWebhook(db, request.params.id);
      if (w === null) throw new HttpError(404, `no webhook ${request.params.id}`);
      const outcome = await postWebhook(w.url, JSON.stringify(testMessage(request.adminName)), ctx.alerts.settings.timeoutMs);
      if (outcome.ok) ctx.metrics.webhookDeliveriesOk++;
      else ctx.metrics.webhookDeliveriesFailed++;
      return { ok: outcome.ok, status: outcome.status, error: outcome.error };
    });
  };
}
