// API tokens for automation and retention, as tests that run on any database.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { Db } from "../../src/console/db/database.js";
import { DAY_MS, applyRetention } from "../../src/console/retention.js";
import type { BuildOptions } from "../../src/console/server.js";
import type { AdminSession, TestConsole } from "./helpers.js";
import { execEvent, register, sendEvents, setupAdmin, tokenSecret, createToken as createEnrollmentToken } from "./helpers.js";
import { until } from "./webhook-receiver.js";

const POLICY = "apiVersion: vigil/v1\nkind: Policy\nspec:\n  exec:\n    allow: [\"/bin/*\"]\n";

async function createApiToken(c: TestConsole, s: AdminSession, body: Record<string, unknown>): Promise<{ id: string; token: string }> {
  const res = await c.app.inject({ method: "POST", url: "/api/admin/api-tokens", headers: s.headers, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function count(db: Db, table: string): Promise<number> {
  return Number((await db.get<{ n: number }>(`SELECT COUNT(*) AS n FROM ${table}`))?.n);
}

export function defineAutomationTests(name: string, makeConsole: (options: BuildOptions) => Promise<TestConsole>): void {
  describe(`API tokens (${name})`, () => {
    let c: TestConsole;
    let admin: AdminSession;
    beforeEach(async () => {
      c = await makeConsole({});
      admin = await setupAdmin(c);
    });
    afterEach(async () => {
      await c.close();
    });

    it("automation creates an enrollment token and assigns a policy with an API token: no session, no CSRF", async () => {
      const { token } = await createApiToken(c, admin, { name: "ci", expiresInDays: 30 });
      expect(token).toMatch(/^vat_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
      const bot = { authorization: `Bearer ${token}` };
      const enrollment = await c.app.inject({ method: "POST", url: "/api/admin/tokens", headers: bot, payload: { name: "from ci", group: "web-prod" } });
      expect(enrollment.statusCode, enrollment.body).toBe(201);
      expect(enrollment.json().token).toMatch(/^vgt_/);
      expect((await c.app.inject({ method: "POST", url: "/api/admin/policies", headers: bot, payload: { name: "web", source: POLICY } })).statusCode).toBe(201);
      const assign = await c.app.inject({ method: "PUT", url: "/api/admin/groups/web-prod/policy", headers: bot, payload: { policy: "web" } });
      expect(assign.statusCode, assign.body).toBe(200);
      const got = await c.app.inject({ method: "GET", url: "/api/admin/policies/web", headers: bot });
      expect(got.json().history[0].author).toBe("api-token:ci");
      // The enrollment token made by automation works for an enforcer, which gets the policy.
      const e = await register(c, enrollment.json().token);
      expect((await c.app.inject({ method: "GET", url: "/api/v1/enforcer/policy", headers: { authorization: `Bearer ${e.enforcerKey}` } })).statusCode).toBe(200);
      const list = await c.app.inject({ method: "GET", url: "/api/admin/api-tokens", headers: admin.headers });
      expect(list.json().tokens).toHaveLength(1);
      expect(list.json().tokens[0]).toMatchObject({ name: "ci", createdBy: "admin", revokedAt: null });
      expect(list.json().tokens[0].lastUsedAt).toBeGreaterThan(0);
      expect(list.json().tokens[0].expiresAt - Date.now()).toBeGreaterThan(29 * DAY_MS);
      expect(JSON.stringify(list.json())).not.toContain(tokenSecret(token));
      expect((await c.db.get<{ secret_hash: string }>("SELECT secret_hash FROM api_tokens"))?.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it("refuses revoked, expired, wrong and malformed tokens with 401, changing nothing", async () => {
      const live = await createApiToken(c, admin, { name: "live" });
      const revoked = await createApiToken(c, admin, { name: "revoked" });
      const expired = await createApiToken(c, admin, { name: "expired", expiresInDays: 1 });
      expect((await c.app.inject({ method: "DELETE", url: `/api/admin/api-tokens/${revoked.id}`, headers: admin.headers })).statusCode).toBe(200);
      expect((await c.app.inject({ method: "DELETE", url: `/api/admin/api-tokens/${revoked.id}`, headers: admin.headers })).statusCode).toBe(409);
      expect((await c.app.inject({ method: "DELETE", url: "/api/admin/api-tokens/000000000000", headers: admin.headers })).statusCode).toBe(404);
      await c.db.run("UPDATE api_tokens SET expires_at = ? WHERE id = ?", [Date.now() - 1, expired.id]);
      const wrongSecret = live.token.replace(/.$/, (ch) => (ch === "A" ? "B" : "A"));
      const before = [await count(c.db, "enrollment_tokens"), await count(c.db, "policies"), await count(c.db, "group_policies")];
      for (const bad of [`Bearer ${revoked.token}`, `Bearer ${expired.token}`, `Bearer ${wrongSecret}`, "Bearer vat_nope", `Basic ${live.token}`, "Bearer"]) {
        for (const [method, url, payload] of [
          ["POST", "/api/admin/tokens", { name: "x", group: "g" }],
          ["POST", "/api/admin/policies", { name: "p", source: POLICY }],
          ["PUT", "/api/admin/groups/g/policy", { policy: null }],
          ["GET", "/api/admin/events", undefined],
        ] as const) {
          // A valid session cookie beside a bad token does not rescue it.
          const res = await c.app.inject({ method, url, headers: { authorization: bad, ...admin.headers }, ...(payload === undefined ? {} : { payload }) });
          expect(res.statusCode, `${bad} ${method} ${url}`).toBe(401);
          expect(res.json().error).toMatch(/API token/);
        }
      }
      expect([await count(c.db, "enrollment_tokens"), await count(c.db, "policies"), await count(c.db, "group_policies")]).toEqual(before);
      // The live one still works; no token can manage API tokens.
      expect((await c.app.inject({ method: "GET", url: "/api/admin/events", headers: { authorization: `Bearer ${live.token}` } })).statusCode).toBe(200);
      const mint = await c.app.inject({ method: "POST", url: "/api/admin/api-tokens", headers: { authorization: `Bearer ${live.token}` }, payload: { name: "more" } });
      expect(mint.statusCode).toBe(403);
      expect((await c.app.inject({ method: "GET", url: "/api/admin/api-tokens" })).statusCode).toBe(401);
      expect((await c.app.inject({ method: "POST", url: "/api/admin/api-tokens", headers: { cookie: admin.cookie }, payload: { name: "x" } })).statusCode).toBe(403);
      expect((await c.app.inject({ method: "POST", url: "/api/admin/api-tokens", headers: admin.headers, payload: { name: "x", expiresInDays: 0 } })).statusCode).toBe(400);
      expect(await count(c.db, "api_tokens")).toBe(3);
    });
  });

  describe(`retention (${name})`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f();
    });

    async function withEvents(options: BuildOptions, now: number) {
      const c = await makeConsole(options);
      cleanup.push(() => c.close());
      const admin = await setupAdmin(c);
      const { token } = await createEnrollmentToken(c, admin, "web");
      const e = await register(c, token);
      const at = (daysAgo: number) => new Date(now - daysAgo * DAY_MS).toISOString();
      // 25 events 40 days old, 5 from yesterday, and a gap (seq 31..99) recorded 40 days ago.
      await sendEvents(c, e.enforcerKey, 1, Array.from({ length: 25 }, (_, i) => execEvent({ time: at(40), pid: i, verdict: "allowed" })));
      await sendEvents(c, e.enforcerKey, 26, Array.from({ length: 5 }, (_, i) => execEvent({ time: at(1), pid: i, verdict: "allowed" })));
      await sendEvents(c, e.enforcerKey, 100, [execEvent({ time: at(1), verdict: "allowed" })]);
      await c.db.run("UPDATE event_gaps SET recorded_at = ?", [now - 40 * DAY_MS]);
      return c;
    }

    it("deletes events and gaps older than N days in bounded batches, keeping the rest", async () => {
      const now = Date.now();
      const c = await withEvents({ retention: { days: 0 } }, now);
      expect(await count(c.db, "events")).toBe(31);
      expect(await count(c.db, "event_gaps")).toBe(1);
      // Record each DELETE's size: none may exceed the batch.
      const sizes: number[] = [];
      const recording: Db = {
        dialect: c.db.dialect,
        all: (sql, params) => c.db.all(sql, params),
        get: (sql, params) => c.db.get(sql, params),
        run: async (sql, params) => {
          const r = await c.db.run(sql, params);
          if (sql.startsWith("DELETE FROM events")) sizes.push(r.changes);
          return r;
        },
        transaction: (fn) => c.db.transaction(fn),
        close: () => c.db.close(),
      };
      const counters = { retentionEventsDeleted: 0, retentionGapsDeleted: 0 };
      expect(await applyRetention(recording, { days: 30, intervalMs: 1000, batch: 10 }, counters, now)).toEqual({ events: 25, gaps: 1 });
      expect(sizes).toEqual([10, 10, 5]);
      expect(counters).toEqual({ retentionEventsDeleted: 25, retentionGapsDeleted: 1 });
      expect(await count(c.db, "events")).toBe(6);
      expect(await count(c.db, "event_gaps")).toBe(0);
      // 0 days: keep everything.
      expect(await applyRetention(c.db, { days: 0, intervalMs: 1000, batch: 10 }, counters, now + 400 * DAY_MS)).toEqual({ events: 0, gaps: 0 });
      expect(await count(c.db, "events")).toBe(6);
    });

    it("runs by itself in a running console, and /metrics counts what it deleted", async () => {
      const c = await withEvents({ retention: { days: 30, intervalMs: 100, batch: 7 } }, Date.now());
      await until("retention", async () => (await count(c.db, "events")) === 6, 10_000);
      expect((await c.app.inject({ method: "GET", url: "/metrics" })).body).toMatch(/^vigil_console_retention_deleted_total\{table="events"\} 25$/m);
    });
  });
}
