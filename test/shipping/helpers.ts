// A real console on a loopback port (HTTPS with a throwaway CA, or plain HTTP) for the enforcer to
// ship to, with an admin session to look at what arrived and to assign policies.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { expect } from "vitest";
import type { BuildOptions } from "../../src/console/server.js";
import { makeThrowawayCa } from "../../src/demo/throwaway-ca.js";
import type { VigilEvent } from "../../src/events/schema.js";
import type { AdminSession, TestConsole } from "../console/helpers.js";
import { consoleOn, createToken, setupAdmin } from "../console/helpers.js";

export interface TestCa {
  dir: string;
  caPem: string;
  certPem: string;
  keyPem: string;
  remove(): void;
}

/** A CA and a server certificate for DNS name `localhost` (BearSSL checks DNS names only): the demo's. */
export async function makeTestCa(): Promise<TestCa> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-ca-"));
  const ca = await makeThrowawayCa(dir, process.env);
  if (ca === null) throw new Error("openssl is missing (scripts/setup.sh installs it)");
  return { dir, ...ca, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface ShippingConsole {
  console: TestConsole;
  admin: AdminSession;
  token: string;
  tokenId: string;
  /** Base URL for VIGIL_CONSOLE. */
  url: string;
  port: number;
  /** Stop listening (the database stays): the console is "down". */
  stop(): Promise<void>;
  /** Listen again on the same port over the same database. */
  restart(): Promise<void>;
  close(): Promise<void>;
}

export interface ShippingConsoleOptions {
  ca?: TestCa;
  group?: string;
  pollSeconds?: number;
  port?: number;
}

/** A console over a fresh SQLite file, listening on 127.0.0.1 (named `localhost` in the URL). */
export async function shippingConsole(opts: ShippingConsoleOptions = {}): Promise<ShippingConsole> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-shipping-"));
  const file = join(dir, "console.db");
  const build: BuildOptions = { pollSeconds: opts.pollSeconds ?? 1, https: opts.ca ? { cert: opts.ca.certPem, key: opts.ca.keyPem } : null };
  let c = await consoleOn({ dialect: "sqlite", target: file }, build);
  const admin = await setupAdmin(c);
  const { token, id } = await createToken(c, admin, opts.group ?? "web");
  await c.app.listen({ host: "127.0.0.1", port: opts.port ?? 0 });
  const port = (c.app.server.address() as AddressInfo).port;
  const scheme = opts.ca ? "https" : "http";
  let up = true;
  const shipping: ShippingConsole = {
    get console() {
      return c;
    },
    admin,
    token,
    tokenId: id,
    url: `${scheme}://localhost:${port}`,
    port,
    stop: async () => {
      if (!up) return;
      up = false;
      await c.close();
    },
    restart: async () => {
      if (up) return;
      c = await consoleOn({ dialect: "sqlite", target: file }, build);
      await c.app.listen({ host: "127.0.0.1", port });
      up = true;
    },
    close: async () => {
      if (up) await c.close();
      up = false;
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return shipping;
}

export interface StoredEvent {
  enforcerId: string;
  seq: number;
  event: VigilEvent;
}

/** Every event the console stored, oldest first (through the admin API, as the page sees them). */
export async function storedEvents(s: ShippingConsole): Promise<StoredEvent[]> {
  const all: StoredEvent[] = [];
  for (let offset = 0; ; offset += 500) {
    const res = await s.console.app.inject({ method: "GET", url: `/api/admin/events?limit=500&offset=${offset}`, headers: s.admin.headers });
    expect(res.statusCode, res.body).toBe(200);
    const page = (res.json() as { events: StoredEvent[] }).events;
    all.push(...page);
    if (page.length < 500) break;
  }
  return all.sort((a, b) => a.seq - b.seq);
}

export interface EnforcerRow {
  id: string;
  group: string;
  taskArn: string | null;
  policyDigest: string | null;
  version: string;
  [key: string]: unknown;
}

export async function enforcers(s: ShippingConsole): Promise<EnforcerRow[]> {
  const res = await s.console.app.inject({ method: "GET", url: "/api/admin/enforcers", headers: s.admin.headers });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { enforcers: EnforcerRow[] }).enforcers;
}

export async function gaps(s: ShippingConsole, enforcerId: string): Promise<{ from: number; to: number }[]> {
  const res = await s.console.app.inject({ method: "GET", url: `/api/admin/enforcers/${enforcerId}/gaps`, headers: s.admin.headers });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { gaps: { from: number; to: number }[] }).gaps;
}

/** Create a policy from source (the policy language) and assign it to the group. */
export async function assignPolicy(s: ShippingConsole, name: string, source: string, group = "web"): Promise<string> {
  let res = await s.console.app.inject({ method: "POST", url: "/api/admin/policies", headers: s.admin.headers, payload: { name, source } });
  if (res.statusCode === 409) res = await s.console.app.inject({ method: "PUT", url: `/api/admin/policies/${name}`, headers: s.admin.headers, payload: { source } });
  expect([200, 201], res.body).toContain(res.statusCode);
  const digest = (res.json() as { digest: string }).digest;
  const a = await s.console.app.inject({ method: "PUT", url: `/api/admin/groups/${group}/policy`, headers: s.admin.headers, payload: { policy: name } });
  expect(a.statusCode, a.body).toBe(200);
  return digest;
}

/** Poll until check() holds (bounded). */
export async function eventually<T>(what: string, fn: () => Promise<T>, check: (v: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const start = Date.now();
  for (;;) {
    const v = await fn();
    if (check(v)) return v;
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}: last value ${JSON.stringify(v).slice(0, 2000)}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}
