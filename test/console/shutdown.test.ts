// Graceful shutdown of the real `vigil console` process: SIGTERM while an enforcer's batch is still arriving stops
// new connections at once, finishes that request (closing its connection), stores every event of it, closes the
// database and exits 0.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { execEvent } from "./helpers.js";

const CLI = join(import.meta.dirname, "../../dist/cli/vigil.cjs");
const ADMIN = { username: "admin", password: "correct horse battery staple" };

interface Started {
  child: ReturnType<typeof spawn>;
  url: string;
  setupCode: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startConsole(dbFile: string): Promise<Started> {
  const child = spawn(process.execPath, [CLI, "console", "--db", `sqlite:${dbFile}`, "--listen", "127.0.0.1:0"], {
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: process.env.HOME ?? "/root" },
    stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`console did not start within 15 s:\n${err}`)), 15_000);
    child.stderr?.on("data", (chunk: Buffer) => {
      err += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(err)?.[1];
      const code = /setup code (\S+)/.exec(err)?.[1];
      if (url !== undefined && code !== undefined) {
        clearTimeout(timer);
        resolve({ child, url, setupCode: code, stderr: () => err, exited });
      }
    });
    child.on("exit", () => {
      clearTimeout(timer);
      reject(new Error(`console exited before listening:\n${err}`));
    });
  });
}

async function json(res: Response): Promise<Record<string, unknown>> {
  const body = (await res.json()) as Record<string, unknown>;
  expect(res.ok, JSON.stringify(body)).toBe(true);
  return body;
}

/** An admin, an enrollment token and a registered enforcer over real HTTP; returns the enforcer's key. */
async function enrolledEnforcer(s: Started): Promise<string> {
  const setup = await fetch(`${s.url}/api/admin/setup`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...ADMIN, setupCode: s.setupCode }) });
  const csrf = String((await json(setup)).csrfToken);
  const cookie = (setup.headers.get("set-cookie") ?? "").split(";")[0] ?? "";
  const admin = { "content-type": "application/json", cookie, "x-csrf-token": csrf };
  const token = String((await json(await fetch(`${s.url}/api/admin/tokens`, { method: "POST", headers: admin, body: JSON.stringify({ name: "shutdown", group: "shutdown" }) }))).token);
  const registered = await fetch(`${s.url}/api/v1/enforcer/register`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: JSON.stringify({ protocol: 1, instance: "instance-shutdown-0001", container: "web", image: "web:1", version: "0.1.0", arch: "amd64", mode: "enforce", policyDigest: null }),
  });
  return String((await json(registered)).enforcerKey);
}

/** Posts `body` in two halves once the server has taken the request; `between` runs after the first half. */
function postInTwoHalves(url: string, key: string, body: string, between: () => Promise<void>): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = request(`${url}/api/v1/enforcer/events`, {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${key}`, "content-length": Buffer.byteLength(body), expect: "100-continue" },
    });
    req.setTimeout(20_000, () => req.destroy(new Error("no answer within 20 s")));
    req.on("error", reject);
    req.on("response", (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, connection: res.headers.connection }));
    });
    // "100 Continue" comes once the server has read the headers and routed the request: from then on it is in
    // flight. (A SIGTERM before that may rightly be answered 503, which an enforcer retries.)
    req.on("continue", () => {
      const half = Math.floor(body.length / 2);
      req.write(body.slice(0, half), () => {
        between().then(
          () => req.end(body.slice(half)),
          (error: unknown) => req.destroy(error instanceof Error ? error : new Error(String(error))),
        );
      });
    });
    req.flushHeaders();
  });
}

describe("vigil console: graceful shutdown", () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });

  it("SIGTERM during a batch: no new connection, the batch answered and stored whole, exit 0", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-console-shutdown-"));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const dbFile = join(dir, "console.db");
    const s = await startConsole(dbFile);
    cleanups.push(() => s.child.kill("SIGKILL"));
    const key = await enrolledEnforcer(s);

    const events = Array.from({ length: 1000 }, (_, i) => execEvent({ pid: 1000 + i, argv: ["sh", "-c", `step ${i}`] }));
    const body = JSON.stringify({ seq: 1, events });
    let refusedWhileStopping: unknown = null;
    const answer = await postInTwoHalves(s.url, key, body, async () => {
      s.child.kill("SIGTERM");
      // The listener closes at once: a new connection is refused while the batch in flight is still being read.
      const deadline = Date.now() + 5_000;
      while (refusedWhileStopping === null && Date.now() < deadline) {
        try {
          await fetch(`${s.url}/healthz`, { signal: AbortSignal.timeout(1_000) });
          await new Promise((r) => setTimeout(r, 20));
        } catch (error) {
          refusedWhileStopping = error;
        }
      }
    });

    expect(refusedWhileStopping, `a new connection was still accepted 5 s after SIGTERM (answer ${answer.status} ${answer.body.slice(0, 300)})`).not.toBeNull();
    expect(answer.status, answer.body).toBe(200);
    expect(JSON.parse(answer.body)).toMatchObject({ accepted: 1000 });
    // A keep-alive connection would hold the exit until the server's idle timeout.
    expect(answer.connection).toBe("close");
    expect(await s.exited).toBe(0);
    expect(s.stderr()).toContain("vigil console: stopped");

    const db = new Database(dbFile, { readonly: true });
    try {
      const row = db.prepare("SELECT count(*) AS n, count(DISTINCT pid) AS pids FROM events").get() as { n: number; pids: number };
      expect(row).toEqual({ n: 1000, pids: 1000 });
    } finally {
      db.close();
    }
  }, 60_000);
});
