// The console on a real PostgreSQL (Debian's, started by scripts/test-postgres.sh): migrations on a
// fresh database, the protocol suite, and two replicas sharing all state.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { MIGRATIONS, migrate } from "../../src/console/db/migrations.js";
import { openPostgres } from "../../src/console/db/postgres.js";
import type { TestPostgres } from "../helpers/postgres.js";
import { postgresAvailable, startPostgres } from "../helpers/postgres.js";
import { ADMIN, consoleOn, createToken, execEvent, register, sendEvents, sessionFrom, setupAdmin } from "./helpers.js";
import { defineAutomationTests } from "./automation-suite.js";
import { FAST, addWebhook, defineAlertTests, settled } from "./alerts-suite.js";
import { defineProtocolTests } from "./protocol-suite.js";
import { sleep, startReceiver, until } from "./webhook-receiver.js";

const available = postgresAvailable();
let server: TestPostgres | null = null;

beforeAll(() => {
  if (available) server = startPostgres();
}, 120_000);
afterAll(() => server?.stop());

function pgServer(): TestPostgres {
  if (server === null) throw new Error("PostgreSQL is not running");
  return server;
}

describe.skipIf(!available)("PostgreSQL", () => {
  it("runs every migration on a fresh database, once", async () => {
    const db = openPostgres(await pgServer().freshDatabase());
    try {
      expect(await migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(db)).toEqual([]);
      const tables = await db.all<{ table_name: string }>("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name");
      expect(tables.map((t) => t.table_name)).toEqual([
        "admins", "alert_events", "alert_windows", "api_tokens", "enforcers", "enrollment_tokens", "event_gaps", "events", "group_policies", "login_failures", "policies", "policy_versions",
        "schema_migrations", "sessions", "settings", "webhook_outbox", "webhooks",
      ]);
    } finally {
      await db.close();
    }
  });

  it("migrates once when two replicas start together", async () => {
    const url = await pgServer().freshDatabase();
    const a = openPostgres(url);
    const b = openPostgres(url);
    try {
      const [ra, rb] = await Promise.all([migrate(a), migrate(b)]);
      expect([...ra, ...rb].sort()).toEqual(MIGRATIONS.map((m) => m.version));
    } finally {
      await a.close();
      await b.close();
    }
  });

  it("two replicas on one database share admins, sessions, tokens, policies and events", async () => {
    const url = await pgServer().freshDatabase();
    const one = await consoleOn({ dialect: "postgres", target: url });
    const two = await consoleOn({ dialect: "postgres", target: url });
    try {
      const admin = await setupAdmin(one);
      // The session made on replica one works on replica two.
      const session = await two.app.inject({ method: "GET", url: "/api/admin/session", headers: admin.headers });
      expect(session.statusCode).toBe(200);
      expect((await two.app.inject({ method: "POST", url: "/api/admin/setup", payload: { ...ADMIN, setupCode: "x" } })).statusCode).toBe(409);
      const login = await two.app.inject({ method: "POST", url: "/api/admin/login", payload: ADMIN });
      expect(login.statusCode).toBe(200);
      const admin2 = sessionFrom(login);

      const { token } = await createToken(two, admin2, "web");
      const e = await register(one, token);
      // Batches alternate between replicas (a load balancer); a retry lands on the other one.
      await sendEvents(one, e.enforcerKey, 1, [execEvent(), execEvent()]);
      const retry = await sendEvents(two, e.enforcerKey, 1, [execEvent(), execEvent()]);
      expect(retry.json()).toMatchObject({ accepted: 0, duplicates: 2 });
      // Concurrent batches of one enforcer on both replicas: each stored once, no false gap.
      const [x, y] = await Promise.all([sendEvents(one, e.enforcerKey, 3, [execEvent()]), sendEvents(two, e.enforcerKey, 4, [execEvent()])]);
      expect(x.statusCode + y.statusCode).toBe(400);
      for (const c of [one, two]) {
        const list = await c.app.inject({ method: "GET", url: "/api/admin/events", headers: admin.headers });
        expect(list.json().total).toBe(4);
      }
      const created = await one.app.inject({ method: "POST", url: "/api/admin/policies", headers: admin.headers, payload: { name: "web", source: "apiVersion: vigil/v1\nkind: Policy\nspec:\n  exec:\n    allow: [\"/bin/*\"]\n" } });
      expect(created.statusCode, created.body).toBe(201);
      // Concurrent saves on two replicas get distinct version numbers.
      const src = (n: number) => `apiVersion: vigil/v1\nkind: Policy\nspec:\n  exec:\n    allow: ["/bin/*", "/opt/${n}"]\n`;
      const saves = await Promise.all([
        one.app.inject({ method: "PUT", url: "/api/admin/policies/web", headers: admin.headers, payload: { source: src(1) } }),
        two.app.inject({ method: "PUT", url: "/api/admin/policies/web", headers: admin.headers, payload: { source: src(2) } }),
      ]);
      expect(saves.map((s) => s.json().version).sort()).toEqual([2, 3]);
      const history = await two.app.inject({ method: "GET", url: "/api/admin/policies/web", headers: admin.headers });
      expect(history.json().history).toHaveLength(3);
    } finally {
      await one.close();
      await two.close();
    }
  });
});

describe.skipIf(!available)("alerts from two replicas on PostgreSQL", () => {
  it("delivers each message once, whichever replica ingested or posts it", async () => {
    // A receiver that takes 30 ms a post, so both replicas' claims overlap.
    const receiver = await startReceiver(() => ({ status: 200, delayMs: 30 }));
    const url = await pgServer().freshDatabase();
    const one = await consoleOn({ dialect: "postgres", target: url }, { alerts: { ...FAST, tickMs: 20, parallel: 3 } });
    const two = await consoleOn({ dialect: "postgres", target: url }, { alerts: { ...FAST, tickMs: 20, parallel: 3 } });
    try {
      const admin = await setupAdmin(one);
      await addWebhook(two, admin, receiver.url);
      const { token } = await createToken(one, admin, "web");
      const e = await register(one, token);
      // 40 distinct alerts (one executable each), in batches alternating between the replicas.
      for (let b = 0; b < 8; b++) {
        const events = Array.from({ length: 5 }, (_, i) => execEvent({ exe: `/usr/bin/t${b * 5 + i}`, argv: [`t${b * 5 + i}`] }));
        const res = await sendEvents(b % 2 === 0 ? one : two, e.enforcerKey, 1 + b * 5, events);
        expect(res.json()).toMatchObject({ accepted: 5 });
      }
      await until("all delivered", () => settled(one), 20_000);
      await sleep(300);
      const texts = receiver.delivered.map((d) => d.body.text);
      expect(texts).toHaveLength(40);
      expect(new Set(texts).size).toBe(40);
      // Both replicas took part in posting (the metrics are per replica).
      const ok = async (c: typeof one) => Number(/^vigil_console_webhook_deliveries_total\{result="ok"\} (\d+)$/m.exec((await c.app.inject({ method: "GET", url: "/metrics" })).body)?.[1]);
      expect((await ok(one)) + (await ok(two))).toBe(40);
    } finally {
      await one.close();
      await two.close();
      await receiver.close();
    }
  }, 60_000);
});

describe.skipIf(!available)("on PostgreSQL", () => {
  const fresh = async (options = {}) => consoleOn({ dialect: "postgres", target: await pgServer().freshDatabase() }, options);
  defineProtocolTests("PostgreSQL", () => fresh());
  defineAlertTests("PostgreSQL", fresh);
  defineAutomationTests("PostgreSQL", fresh);
});
