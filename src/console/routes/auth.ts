// First-run setup, sign-in (rate limited per username and per client address), sign-out, and the
// current session (which hands the page its CSRF token).

import type { FastifyInstance } from "fastify";
import type { ConsoleContext } from "../context.js";
import {
  adminCount,
  checkPassword,
  clearLoginFailures,
  createFirstAdmin,
  createSession,
  deleteSession,
  recentLoginFailures,
  recordLoginFailure,
  setupCode,
} from "../repositories/admins.js";
import { HttpError } from "../plugins/errors.js";
import { SESSION_COOKIE, checkOrigin, clearSessionCookie, readCookie, requireSession, setSessionCookie } from "../plugins/session.js";
import { safeEqual } from "../secrets.js";

export const LOGIN_MAX_FAILURES = 5;
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;

const credentials = {
  type: "object",
  required: ["username", "password"],
  additionalProperties: false,
  properties: {
    username: { type: "string", minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9._@-]+$" },
    password: { type: "string", minLength: 1, maxLength: 1024 },
    setupCode: { type: "string", maxLength: 64 },
  },
} as const;

interface Credentials {
  username: string;
  password: string;
  setupCode?: string;
}

export function authRoutes(ctx: ConsoleContext) {
  const { db } = ctx;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.get("/api/admin/setup", async () => ({ needed: (await adminCount(db)) === 0 }));

    app.post<{ Body: Credentials }>("/api/admin/setup", { schema: { body: credentials } }, async (request, reply) => {
      checkOrigin(request);
      if ((await adminCount(db)) > 0) throw new HttpError(409, "setup is done already: sign in");
      if (request.body.password.length < 12) throw new HttpError(400, "password: at least 12 characters");
      if (request.body.setupCode === undefined || !safeEqual(request.body.setupCode, await setupCode(db))) {
        throw new HttpError(403, "wrong setup code: it is printed in the console's log at start");
      }
      const admin = await createFirstAdmin(db, request.body.username, request.body.password);
      if (admin === null) throw new HttpError(409, "setup is done already: sign in");
      const { sessionId, csrfToken } = await createSession(db, admin);
      setSessionCookie(reply, sessionId, ctx.secureCookies);
      return reply.code(201).send({ username: admin.username, csrfToken });
    });

    app.post<{ Body: Credentials }>("/api/admin/login", { schema: { body: credentials } }, async (request, reply) => {
      checkOrigin(request);
      const subjects = [`user:${request.body.username.toLowerCase()}`, `ip:${request.ip}`];
      if ((await recentLoginFailures(db, subjects, LOGIN_WINDOW_MS)) >= LOGIN_MAX_FAILURES) {
        reply.header("retry-after", String(LOGIN_WINDOW_MS / 1000));
        throw new HttpError(429, "too many failed sign-ins; try again later");
      }
      const admin = await checkPassword(db, request.body.username, request.body.password);
      if (admin === null) {
        await recordLoginFailure(db, subjects);
        throw new HttpError(401, "wrong username or password");
      }
      await clearLoginFailures(db, [subjects[0] ?? ""]);
      const { sessionId, csrfToken } = await createSession(db, admin);
      setSessionCookie(reply, sessionId, ctx.secureCookies);
      return { username: admin.username, csrfToken };
    });

    app.get("/api/admin/session", async (request) => {
      const session = await requireSession(db, request);
      return { username: session.admin.username, csrfToken: session.csrfToken, expiresAt: session.expiresAt };
    });

    app.post("/api/admin/logout", async (request, reply) => {
      await requireSession(db, request);
      await deleteSession(db, readCookie(request, SESSION_COOKIE) ?? "");
      clearSessionCookie(reply, ctx.secureCookies);
      return reply.code(204).send();
    });
  };
}
