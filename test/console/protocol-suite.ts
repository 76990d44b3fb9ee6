// The enforcer protocol (docs/console-protocol.md), as tests that run on any database.

import { createHash } from "node:crypto";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { TestConsole } from "./helpers.js";
import { createToken, execEvent, register, sendEvents, setupAdmin } from "./helpers.js";
import type { AdminSession } from "./helpers.js";

const POLICY = "apiVersion: vigil/v1\nkind: Policy\nmetadata: { name: web }\nspec:\n  mode: enforce\n  exec:\n    allow: [\"/usr/sbin/nginx\", \"/bin/*\"]\n";

export function defineProtocolTests(name: string, makeConsole: () => Promise<TestConsole>): void {
  describe(`enforcer protocol v1 (${name})`, () => {
    let c: TestConsole;
    let admin: AdminSession;
    beforeEach(async () => {
      c = await makeConsole();
      admin = await setupAdmin(c);
    });
    afterEach(async () => {
      await c.close();
    });

    it("registers with an enrollment token and is idempotent per instance", async () => {
      const { token } = await createToken(c, admin, "payments");
      const first = await register(c, token, { instance: "same-instance-0001" });
      expect(first).toMatchObject({ protocol: 1, group: "payments", nextSeq: 1, policy: { path: "/api/v1/enforcer/policy" } });
      expect(first.enforcerKey).toMatch(/^vek_/);
      const again = await register(c, token, { instance: "same-instance-0001" });
      expect(again.enforcerId).toBe(first.enforcerId);
      // The new key replaces the old one.
      const old = await c.app.inject({ method: "GET", url: "/api/v1/enforcer/policy", headers: { authorization: `Bearer ${first.enforcerKey}` } });
      expect(old.statusCode).toBe(401);
      const fleet = await c.app.inject({ method: "GET", url: "/api/admin/enforcers", headers: admin.headers });
      expect(fleet.json().enforcers).toHaveLength(1);
      expect(fleet.json().enforcers[0]).toMatchObject({ group: "payments", container: "web", image: "web:1.4.2", version: "0.1.0", protection: "protected" });
    });

    it("refuses wrong, malformed and revoked tokens, storing nothing", async () => {
      const { id, token } = await createToken(c, admin, "payments");
      for (const bad of ["", "Bearer", `Bearer ${token}x`, `Bearer ${token.replace(/.$/, (ch) => (ch === "A" ? "B" : "A"))}`, "Basic abc"]) {
        const res = await c.app.inject({ method: "POST", url: "/api/v1/enforcer/register", headers: bad === "" ? {} : { authorization: bad }, payload: { protocol: 1, instance: "instance-xxxxxxxxxxxx", version: "1", arch: "amd64" } });
        expect(res.statusCode, bad).toBe(401);
      }
      const enrolled = await register(c, token);
      const revoke = await c.app.inject({ method: "DELETE", url: `/api/admin/tokens/${id}`, headers: admin.headers });
      expect(revoke.statusCode).toBe(200);
      const res = await c.app.inject({ method: "POST", url: "/api/v1/enforcer/register", headers: { authorization: `Bearer ${token}` }, payload: { protocol: 1, instance: "instance-yyyyyyyyyyyy", version: "1", arch: "amd64" } });
      expect(res.statusCode).toBe(401);
      // Keys issued under a revoked token stop working too.
      const events = await sendEvents(c, enrolled.enforcerKey, 1, [execEvent()]);
      expect(events.statusCode).toBe(401);
      const list = await c.app.inject({ method: "GET", url: "/api/admin/events", headers: admin.headers });
      expect(list.json().total).toBe(0);
    });

    it("refuses an unsupported protocol version and bad registration fields", async () => {
      const { token } = await createToken(c, admin, "g");
      const h = { authorization: `Bearer ${token}` };
      const v2 = await c.app.inject({ method: "POST", url: "/api/v1/enforcer/register", headers: h, payload: { protocol: 2, instance: "instance-zzzzzzzzzzzz", version: "1", arch: "amd64" } });
      expect(v2.statusCode).toBe(409);
      expect(v2.json().supported).toEqual([1]);
      const bad = await c.app.inject({ method: "POST", url: "/api/v1/enforcer/register", headers: h, payload: { protocol: 1, instance: "x", version: "1", arch: "sparc" } });
      expect(bad.statusCode).toBe(400);
    });

    it("serves the group's policy with an ETag, 304 while unchanged, 204 when none is assigned", async () => {
      const { token } = await createToken(c, admin, "web");
      const e = await register(c, token);
      const h = { authorization: `Bearer ${e.enforcerKey}` };
      expect((await c.app.inject({ method: "GET", url: "/api/v1/enforcer/policy", headers: h })).statusCode).toBe(204);

      const created = await c.app.inject({ method: "POST", url: "/api/admin/policies", headers: admin.headers, payload: { name: "web", source: POLICY } });
      expect(created.statusCode, created.body).toBe(201);
      expect((await c.app.inject({ method: "PUT", url: "/api/admin/groups/web/policy", headers: admin.headers, payload: { policy: "web" } })).statusCode).toBe(200);

      const first = await c.app.inject({ method: "GET", url: "/api/v1/enforcer/policy", headers: h });
      expect(first.statusCode).toBe(200);
      expect(first.body).toMatch(/^vigil-policy /);
      const digest = createHash("sha256").update(first.body).digest("hex");
      expect(first.headers.etag).toBe(`"${digest}"`);
      expect(first.headers["x-vigil-poll-seconds"]).toBe("30");

      const same = await c.app.inject({ method: "GET", url: "/api/v1/enforcer/policy", headers: { ...h, "if-none-match": `"${digest}"` } });
      expect(same.statusCode).toBe(304);
      expect(same.body).toBe("");
      const fleet = await c.app.inject({ method: "GET", url: "/api/admin/enforcers", headers: admin.headers });
      expect(fleet.json().enforcers[0]).toMatchObject({ policyDigest: digest, policyName: "web", policyCurrent: true });

      // A new version changes the ETag; the old digest now gets the new body.
      const edited = POLICY.replace('"/bin/*"', '"/bin/*", "/usr/bin/env"');
      expect((await c.app.inject({ method: "PUT", url: "/api/admin/policies/web", headers: admin.headers, payload: { source: edited } })).statusCode).toBe(200);
      const changed = await c.app.inject({ method: "GET", url: "/api/v1/enforcer/policy", headers: { ...h, "if-none-match": `"${digest}"` } });
      expect(changed.statusCode).toBe(200);
      expect(changed.headers.etag).not.toBe(`"${digest}"`);
      expect(changed.body).toContain("/usr/bin/env");

      // Rollback to version 1 brings the first digest back.
      expect((await c.app.inject({ method: "POST", url: "/api/admin/policies/web/rollback", headers: admin.headers, payload: { version: 1 } })).statusCode).toBe(200);
      const back = await c.app.inject({ method: "GET", url: "/api/v1/enforcer/policy", headers: { ...h, "if-none-match": `"${digest}"` } });
      expect(back.statusCode).toBe(304);
    });

    it("stores each event exactly once by (enforcer, seq): a resent batch adds nothing", async () => {
      const { token } = await createToken(c, admin, "web");
      const e = await register(c, token);
      const batch = [execEvent({ pid: 10 }), execEvent({ pid: 11, verdict: "alert" }), execEvent({ pid: 12, verdict: "allowed" })];
      const first = await sendEvents(c, e.enforcerKey, 1, batch);
      expect(first.json()).toEqual({ accepted: 3, duplicates: 0, nextSeq: 4, gaps: 0 });
      const retry = await sendEvents(c, e.enforcerKey, 1, batch);
      expect(retry.json()).toEqual({ accepted: 0, duplicates: 3, nextSeq: 4, gaps: 0 });
      const overlap = await sendEvents(c, e.enforcerKey, 3, [execEvent({ pid: 12 }), execEvent({ pid: 13 })]);
      expect(overlap.json()).toEqual({ accepted: 1, duplicates: 1, nextSeq: 5, gaps: 0 });
      const list = await c.app.inject({ method: "GET", url: "/api/admin/events", headers: admin.headers });
      expect(list.json().total).toBe(4);
      // Re-registering tells the enforcer where the console stands.
      const again = await register(c, token, { instance: (await instanceOf(c, e.enforcerId)) });
      expect(again.nextSeq).toBe(5);
    });

    it("records gaps, and a late batch shrinks them", async () => {
      const { token } = await createToken(c, admin, "web");
      const e = await register(c, token);
      await sendEvents(c, e.enforcerKey, 1, [execEvent(), execEvent()]);
      const jump = await sendEvents(c, e.enforcerKey, 10, [execEvent()]);
      expect(jump.json()).toEqual({ accepted: 1, duplicates: 0, nextSeq: 11, gaps: 1 });
      const gaps = async () => (await c.app.inject({ method: "GET", url: `/api/admin/enforcers/${e.enforcerId}/gaps`, headers: admin.headers })).json().gaps.map((g: { from: number; to: number }) => [g.from, g.to]);
      expect(await gaps()).toEqual([[3, 9]]);
      const late = await sendEvents(c, e.enforcerKey, 5, [execEvent(), execEvent()]);
      expect(late.json()).toMatchObject({ accepted: 2, gaps: 2, nextSeq: 11 });
      expect(await gaps()).toEqual([[3, 4], [7, 9]]);
      await sendEvents(c, e.enforcerKey, 3, [execEvent(), execEvent()]);
      await sendEvents(c, e.enforcerKey, 7, [execEvent(), execEvent(), execEvent()]);
      expect(await gaps()).toEqual([]);
      const metrics = await c.app.inject({ method: "GET", url: "/metrics" });
      expect(metrics.body).toMatch(/^vigil_console_event_gaps 0$/m);
      expect(metrics.body).toMatch(/^vigil_console_events_stored 10$/m);
    });

    it("refuses a batch with one bad event whole, and oversized or malformed batches, storing nothing", async () => {
      const { token } = await createToken(c, admin, "web");
      const e = await register(c, token);
      const bad = await sendEvents(c, e.enforcerKey, 1, [execEvent(), { ...execEvent(), verdict: "maybe" }, { vigil: 1 }]);
      expect(bad.statusCode).toBe(400);
      expect(bad.json().details.map((d: { index: number }) => d.index)).toEqual([1, 2]);
      const tooMany = await sendEvents(c, e.enforcerKey, 1, Array.from({ length: 1001 }, () => execEvent()));
      expect(tooMany.statusCode).toBe(400);
      const huge = await c.app.inject({
        method: "POST",
        url: "/api/v1/enforcer/events",
        headers: { authorization: `Bearer ${e.enforcerKey}`, "content-type": "application/json" },
        payload: JSON.stringify({ seq: 1, events: [execEvent({ exe: "x".repeat(2 * 1024 * 1024) })] }),
      });
      expect(huge.statusCode).toBe(413);
      const notJson = await c.app.inject({ method: "POST", url: "/api/v1/enforcer/events", headers: { authorization: `Bearer ${e.enforcerKey}`, "content-type": "application/json" }, payload: "{\"seq\": 1, \"events\": [" });
      expect(notJson.statusCode).toBe(400);
      for (const seq of [0, -1, 1.5, "1"]) {
        const r = await c.app.inject({ method: "POST", url: "/api/v1/enforcer/events", headers: { authorization: `Bearer ${e.enforcerKey}` }, payload: { seq, events: [execEvent()] } });
        expect(r.statusCode, String(seq)).toBe(seq === "1" ? 200 : 400);
        if (seq === "1") await c.db.run("DELETE FROM events");
      }
      await c.db.run("UPDATE enforcers SET max_seq = 0");
      const list = await c.app.inject({ method: "GET", url: "/api/admin/events", headers: admin.headers });
      expect(list.json().total).toBe(0);
    });
  });
}

async function instanceOf(c: TestConsole, enforcerId: string): Promise<string> {
  const row = await c.db.get<{ instance: string }>("SELECT instance FROM enforcers WHERE id = ?", [enforcerId]);
  return row?.instance ?? "";
}
