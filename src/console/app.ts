// The console as a Fastify plugin: security headers, the error handler, and every route. The
// server file (server.ts) only opens the database, registers this plugin and listens.

import type { FastifyInstance } from "fastify";
import type { ConsoleContext } from "./context.js";
import { installErrorHandler } from "./plugins/errors.js";
import { apiTokenRoutes } from "./routes/api-tokens.js";
import { authRoutes } from "./routes/auth.js";
import { enforcerApi } from "./routes/enforcer-api.js";
import { eventRoutes } from "./routes/events.js";
import { fleetRoutes } from "./routes/fleet.js";
import { opsRoutes } from "./routes/ops.js";
import { pageRoutes } from "./routes/page.js";
import { policyRoutes } from "./routes/policies.js";
import { tokenRoutes } from "./routes/tokens.js";
import { webhookRoutes } from "./routes/webhooks.js";

export async function consoleApp(app: FastifyInstance, ctx: ConsoleContext): Promise<void> {
  installErrorHandler(app);
  // A cross-site form can send text/plain without a preflight: only JSON bodies are accepted.
  app.removeContentTypeParser("text/plain");
  app.decorateRequest("adminName", "");
  app.addHook("onSend", async (_request, reply) => {
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    reply.header("x-frame-options", "DENY");
  });
  await app.register(opsRoutes(ctx));
  await app.register(enforcerApi(ctx));
  await app.register(authRoutes(ctx));
  await app.register(tokenRoutes(ctx));
  await app.register(policyRoutes(ctx));
  await app.register(fleetRoutes(ctx));
  await app.register(eventRoutes(ctx));
  await app.register(webhookRoutes(ctx));
  await app.register(apiTokenRoutes(ctx));
  await app.register(pageRoutes);
  // The background jobs run while the app is up; closing waits for them (before the database closes).
  app.addHook("onReady", async () => {
    ctx.alerts.start();
    ctx.retention.start();
  });
  app.addHook("onClose", async () => {
    await ctx.alerts.stop();
    await ctx.retention.stop();
  });
}
