// The console's settings: command-line flags over environment variables over defaults, one schema.

import { z } from "zod";
import type { DbLocation } from "./db/database.js";
import { parseDbLocation } from "./db/database.js";
import { webhookUrlProblem } from "./alerts/deliver.js";
import { DEFAULT_RETENTION_DAYS } from "./retention.js";

export const envSchema = z.object({
  VIGIL_CONSOLE_DB: z.string().min(1).optional(),
  VIGIL_CONSOLE_LISTEN: z.string().min(1).optional(),
  /** PEM files: with both, the console serves HTTPS and session cookies are Secure. */
  VIGIL_CONSOLE_TLS_CERT: z.string().min(1).optional(),
  VIGIL_CONSOLE_TLS_KEY: z.string().min(1).optional(),
  /** "1" behind a TLS-terminating load balancer: cookies are Secure though this process speaks HTTP. */
  VIGIL_CONSOLE_SECURE_COOKIES: z.enum(["0", "1"]).optional(),
  VIGIL_CONSOLE_POLL_SECONDS: z.coerce.number().int().min(1).max(3600).optional(),
  /** Alerts go here (besides the webhooks set on the page): blocked events, Slack-compatible. */
  VIGIL_CONSOLE_WEBHOOK_URL: z.string().min(1).optional(),
  /** Events older than this many days are deleted (0: kept forever). */
  VIGIL_CONSOLE_RETENTION_DAYS: z.string().min(1).optional(),
});

export interface ListenAddress {
  host: string;
  port: number;
}

export interface ConsoleConfig {
  db: DbLocation;
  listen: ListenAddress;
  tls: { cert: string; key: string } | null;
  secureCookies: boolean;
  pollSeconds: number;
  webhookUrl: string | null;
  retentionDays: number;
}

export const DEFAULT_DB = "sqlite:vigil-console.db";
export const DEFAULT_LISTEN = "127.0.0.1:8080";

/** `HOST:PORT`, `:PORT` (all interfaces), `PORT`, or `[IPv6]:PORT`. */
export function parseListen(text: string): ListenAddress {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]*)):(\d{1,5})$/.exec(text) ?? /^()()(\d{1,5})$/.exec(text);
  const port = Number(m?.[3]);
  if (m === null || !Number.isInteger(port) || port > 65535) throw new Error(`--listen ${text}: expected HOST:PORT, :PORT or [IPv6]:PORT`);
  const host = m[1] ?? m[2] ?? "";
  return { host: host === "" ? "0.0.0.0" : host, port };
}

function parseRetentionDays(source: string, text: string): number {
  if (!/^\d{1,5}$/.test(text)) throw new Error(`${source} ${text}: expected a whole number of days (0 keeps events forever)`);
  return Number(text);
}

export interface ConsoleFlags {
  db?: string | undefined;
  listen?: string | undefined;
  retentionDays?: string | undefined;
}

export function resolveConfig(flags: ConsoleFlags, env: Readonly<Record<string, string | undefined>>): ConsoleConfig {
  const e = envSchema.parse(env);
  const cert = e.VIGIL_CONSOLE_TLS_CERT;
  const key = e.VIGIL_CONSOLE_TLS_KEY;
  if ((cert === undefined) !== (key === undefined)) throw new Error("VIGIL_CONSOLE_TLS_CERT and VIGIL_CONSOLE_TLS_KEY go together");
  const tls = cert !== undefined && key !== undefined ? { cert, key } : null;
  const webhookUrl = e.VIGIL_CONSOLE_WEBHOOK_URL ?? null;
  const problem = webhookUrl === null ? null : webhookUrlProblem(webhookUrl);
  if (problem !== null) throw new Error(`VIGIL_CONSOLE_WEBHOOK_URL: ${problem}`);
  let retentionDays = DEFAULT_RETENTION_DAYS;
  if (flags.retentionDays !== undefined) retentionDays = parseRetentionDays("--retention-days", flags.retentionDays);
  else if (e.VIGIL_CONSOLE_RETENTION_DAYS !== undefined) retentionDays = parseRetentionDays("VIGIL_CONSOLE_RETENTION_DAYS", e.VIGIL_CONSOLE_RETENTION_DAYS);
  return {
    db: parseDbLocation(flags.db ?? e.VIGIL_CONSOLE_DB ?? DEFAULT_DB),
    listen: parseListen(flags.listen ?? e.VIGIL_CONSOLE_LISTEN ?? DEFAULT_LISTEN),
    tls,
    secureCookies: tls !== null || e.VIGIL_CONSOLE_SECURE_COOKIES === "1",
    pollSeconds: e.VIGIL_CONSOLE_POLL_SECONDS ?? 30,
    webhookUrl,
    retentionDays,
  };
}
