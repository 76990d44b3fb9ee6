// Opens the database (migrating it), builds the app, listens. Nothing else lives here.

import { readFileSync } from "node:fs";
import Fastify from "fastify";
import type { FastifyInstance } from "fastify";
import { consoleApp } from "./app.js";
import type { ConsoleConfig } from "./config.js";
import type { AlertSettings } from "./alerts/dispatcher.js";
import { AlertDispatcher, DEFAULT_ALERT_SETTINGS } from "./alerts/dispatcher.js";
import type { ConsoleContext } from "./context.js";
import { newMetrics } from "./context.js";
import type { Db, DbLocation } from "./db/database.js";
import { migrate } from "./db/migrations.js";
import { openPostgres } from "./db/postgres.js";
import { openSqlite } from "./db/sqlite.js";
import { adminCount, setupCode } from "./repositories/admins.js";
import { syncEnvWebhook } from "./repositories/webhooks.js";
import type { RetentionSettings } from "./retention.js";
import { DEFAULT_RETENTION_DAYS, RetentionJob } from "./retention.js";

export async function openDatabase(location: DbLocation): Promise<Db> {
  const db = location.dialect === "sqlite" ? openSqlite(location.target) : openPostgres(location.target);
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  return db;
}

export interface BuildOptions {
  /** The alert loop's limits and timings (tests shorten them). */
  alerts?: Partial<AlertSettings>;
  retention?: Partial<RetentionSettings>;
  /** VIGIL_CONSOLE_WEBHOOK_URL: kept as the "env" webhook; null removes it; undefined leaves it. */
  webhookUrl?: string | null;
  secureCookies?: boolean;
  pollSeconds?: number;
  /** false (tests), or a pino destination stream for structured logs. */
  logger?: false | NodeJS.WritableStream;
  https?: { cert: string; key: string } | null;
}

/** The app over an open database (tests call this and use inject()). */
export async function buildConsole(db: Db, options: BuildOptions = {}): Promise<FastifyInstance> {
  const logger = options.logger === undefined || options.logger === false ? false : { stream: options.logger };
  const https = options.https ? { https: { cert: readFileSync(options.https.cert), key: readFileSync(options.https.key) } } : {};
  // Unknown fields are refused (400), not silently dropped: removeAdditional off.
  const ajv = { customOptions: { removeAdditional: false, coerceTypes: "array" as const, useDefaults: true, allErrors: true } };
  const app = Fastify({ logger, bodyLimit: 1024 * 1024, trustProxy: false, ajv, ...https }) as unknown as FastifyInstance;
  const metrics = newMetrics();
  const log = (message: string, error: unknown): void => app.log.error({ err: error }, message);
  const ctx: ConsoleContext = {
    db,
    secureCookies: options.secureCookies ?? false,
    pollSeconds: options.pollSeconds ?? 30,
    metrics,
    alerts: new AlertDispatcher(db, { ...DEFAULT_ALERT_SETTINGS, ...options.alerts }, metrics, log),
    retention: new RetentionJob(db, { days: DEFAULT_RETENTION_DAYS, intervalMs: 60 * 60 * 1000, batch: 5000, ...options.retention }, metrics, log),
  };
  if (options.webhookUrl !== undefined) await syncEnvWebhook(db, options.webhookUrl);
  // While closing, a request still in flight is answered with "Connection: close": its keep-alive connection would
  // otherwise hold the shutdown until the idle timeout (5 s), and a stopping task may be killed before that.
  let closing = false;
  app.addHook("preClose", async () => {
    closing = true;
  });
  app.addHook("onSend", async (_request, reply) => {
    if (closing) void reply.header("connection", "close");
  });
  await app.register(async (instance) => consoleApp(instance, ctx));
  await app.ready();
  return app;
}

export interface RunningConsole {
  app: FastifyInstance;
  url: string;
  /** Stops accepting, finishes the requests in flight (no accepted event is lost), closes the database. */
  close(): Promise<void>;
  /** Present until the first admin exists: what first-run setup asks for. */
  setupCode: string | null;
}

export async function startConsole(config: ConsoleConfig, logger: false | NodeJS.WritableStream): Promise<RunningConsole> {
  const db = await openDatabase(config.db);
  const app = await buildConsole(db, {
    secureCookies: config.secureCookies,
    pollSeconds: config.pollSeconds,
    logger,
    https: config.tls,
    webhookUrl: config.webhookUrl,
    retention: { days: config.retentionDays },
  });
  const code = (await adminCount(db)) === 0 ? await setupCode(db) : null;
  const address = await app.listen({ host: config.listen.host, port: config.listen.port });
  return {
    app,
    url: address,
    setupCode: code,
    close: async () => {
      await app.close();
      await db.close();
    },
  };
}
