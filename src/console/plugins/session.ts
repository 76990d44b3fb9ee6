// Admin sessions: an HttpOnly, SameSite=Strict cookie (Secure behind TLS) naming a session stored
// hashed in the database; every state-changing request also carries the session's CSRF token in
// X-CSRF-Token, and, when the browser sends Origin, comes from this console's own origin.
// Automation uses an API token instead (Authorization: Bearer vat_…): no cookie, so no CSRF.

import type { FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from "fastify";
import type { Db } from "../db/database.js";
import type { Session } from "../repositories/admins.js";
import { SESSION_TTL_MS, findSession } from "../repositories/admins.js";
import { authenticateApiToken } from "../repositories/api-tokens.js";
import { safeEqual } from "../secrets.js";
import { HttpError } from "./errors.js";

export const SESSION_COOKIE = "vigil_session";

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (header === undefined) return undefined;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export function setSessionCookie(reply: FastifyReply, value: string, secure: boolean): void {
  const attributes = [`${SESSION_COOKIE}=${value}`, "Path=/", "HttpOnly", "SameSite=Strict", `Max-Age=${SESSION_TTL_MS / 1000}`];
  if (secure) attributes.push("Secure");
  reply.header("set-cookie", attributes.join("; "));
}

export function clearSessionCookie(reply: FastifyReply, secure: boolean): void {
  reply.header("set-cookie", `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? "; Secure" : ""}`);
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** Refuses a state change whose Origin header names another site. */
export function checkOrigin(request: FastifyRequest): void {
  if (SAFE_METHODS.has(request.method)) return;
  const origin = request.headers.origin;
  if (origin === undefined) return;
  let host: string;
  try {
    host = new URL(origin).host;
  } catch {
    throw new HttpError(403, "cross-site request refused (bad Origin)");
  }
  if (host !== request.headers.host) throw new HttpError(403, "cross-site request refused (Origin is not this console)");
}

/** The signed-in admin's session; refuses with 401, or 403 for a state change without the CSRF token. */
export async function requireSession(db: Db, request: FastifyRequest): Promise<Session> {
  const id = readCookie(request, SESSION_COOKIE);
  const session = id === undefined || id === "" ? null : await findSession(db, id);
  if (session === null) throw new HttpError(401, "sign in first");
  checkOrigin(request);
  if (!SAFE_METHODS.has(request.method)) {
    const token = request.headers["x-csrf-token"];
    if (typeof token !== "string" || !safeEqual(token, session.csrfToken)) throw new HttpError(403, "missing or wrong X-CSRF-Token");
  }
  return session;
}

/**
 * A session (with CSRF for state changes) or an API token. A request that carries an Authorization
 * header is judged by it alone: a wrong, expired or revoked token is a 401 even beside a cookie.
 */
export async function requireAdmin(db: Db, request: FastifyRequest): Promise<string> {
  const header = request.headers.authorization;
  if (header === undefined) return (await requireSession(db, request)).admin.username;
  const m = /^Bearer (\S+)$/.exec(header);
  const token = m === null ? null : await authenticateApiToken(db, m[1] ?? "");
  if (token === null) throw new HttpError(401, "unknown, malformed, expired or revoked API token (Authorization: Bearer vat_…)");
  return `api-token:${token.name}`;
}

/** onRequest hook for the admin routes: a session or an API token; sets request.adminName. */
export function adminOnly(db: Db): onRequestAsyncHookHandler {
  return async (request) => {
    request.adminName = await requireAdmin(db, request);
  };
}

/** onRequest hook for routes automation must not reach (managing API tokens): a session only. */
export function sessionOnly(db: Db): onRequestAsyncHookHandler {
  return async (request) => {
    if (request.headers.authorization !== undefined) throw new HttpError(403, "API tokens cannot manage API tokens: sign in");
    request.adminName = (await requireSession(db, request)).admin.username;
  };
}

declare module "fastify" {
  interface FastifyRequest {
    /** The signed-in admin (or `api-token:NAME`), set by the admin routes' onRequest hook. */
    adminName: string;
  }
}
