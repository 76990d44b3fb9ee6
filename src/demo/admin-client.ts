// The demo's own client of the console's admin API, over the network like the page: HTTPS that
// trusts only the demo's throwaway CA (or plain HTTP), always to 127.0.0.1, every request bounded
// in time. Holds the admin session (cookie + CSRF token) after setup.

import { readFile } from "node:fs/promises";
import http from "node:http";
import https from "node:https";
import type { StoredEvent } from "../console/repositories/events.js";

export interface ConsoleAddress {
  /** What a person opens: https://localhost:PORT or http://127.0.0.1:PORT. */
  url: string;
  port: number;
  /** The CA file to trust, for HTTPS. */
  caPem: string | null;
}

export interface ApiAnswer {
  status: number;
  body: unknown;
  setCookie: string | undefined;
}

const TIMEOUT_MS = 10_000;

export class AdminClient {
  private session: { cookie: string; csrf: string } | null = null;

  private constructor(
    private readonly address: ConsoleAddress,
    private readonly ca: Buffer | null,
  ) {}

  static async connect(address: ConsoleAddress): Promise<AdminClient> {
    return new AdminClient(address, address.caPem === null ? null : await readFile(address.caPem));
  }

  request(method: "GET" | "POST", path: string, body?: unknown): Promise<ApiAnswer> {
    const text = body === undefined ? undefined : JSON.stringify(body);
    const url = new URL(this.address.url);
    const headers: Record<string, string> = { host: url.host, accept: "application/json" };
    if (text !== undefined) headers["content-type"] = "application/json";
    if (this.session !== null) {
      headers["cookie"] = this.session.cookie;
      if (method !== "GET") headers["x-csrf-token"] = this.session.csrf;
    }
    // Always loopback: the name in the URL is for the certificate (and the person reading it). One
    // connection per request (agent: false): nothing stays open to hold the console's shutdown.
    const options = { host: "127.0.0.1", port: this.address.port, method, path, headers, timeout: TIMEOUT_MS, agent: false as const };
    return new Promise((resolve, reject) => {
      const onResponse = (res: http.IncomingMessage): void => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", reject);
        res.on("end", () => {
          const raw = Buffer.concat(chunks).toString("utf8");
          let parsed: unknown = raw;
          try {
            parsed = raw === "" ? null : JSON.parse(raw);
          } catch {
            // not JSON: keep the text for the error message
          }
          const cookie = res.headers["set-cookie"]?.[0];
          resolve({ status: res.statusCode ?? 0, body: parsed, setCookie: cookie });
        });
      };
      const req =
        this.ca === null ? http.request(options, onResponse) : https.request({ ...options, ca: this.ca, servername: url.hostname }, onResponse);
      req.on("timeout", () => req.destroy(new Error(`${method} ${path}: the console did not answer within ${TIMEOUT_MS / 1000} s`)));
      req.on("error", reject);
      req.end(text);
    });
  }

  private async ok(method: "GET" | "POST", path: string, body: unknown, expected: number): Promise<ApiAnswer> {
    const answer = await this.request(method, path, body);
    if (answer.status !== expected) {
      throw new Error(`bug: the demo's console answered ${method} ${path} with HTTP ${answer.status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
    }
    return answer;
  }

  /** First-run setup with the code the console made; keeps the session it opens. */
  async setup(username: string, password: string, setupCode: string): Promise<void> {
    const answer = await this.ok("POST", "/api/admin/setup", { username, password, setupCode }, 201);
    const cookie = answer.setCookie?.split(";")[0];
    const csrf = (answer.body as { csrfToken?: unknown }).csrfToken;
    if (cookie === undefined || typeof csrf !== "string") throw new Error("bug: console setup answered without a session cookie or CSRF token");
    this.session = { cookie, csrf };
  }

  /** An enrollment token for `group`, in clear (the only time it is seen). */
  async createToken(name: string, group: string): Promise<string> {
    const answer = await this.ok("POST", "/api/admin/tokens", { name, group }, 201);
    const token = (answer.body as { token?: unknown }).token;
    if (typeof token !== "string") throw new Error("bug: the console created a token without returning it");
    return token;
  }

  /** Events matching the filter, newest first, and how many match in all. */
  async events(filter: Record<string, string>, limit = 100): Promise<{ events: StoredEvent[]; total: number }> {
    const query = new URLSearchParams({ ...filter, limit: String(limit) });
    return (await this.ok("GET", `/api/admin/events?${query.toString()}`, undefined, 200)).body as { events: StoredEvent[]; total: number };
  }

  async enforcers(): Promise<{ id: string; group: string; protection: string; version: string }[]> {
    return ((await this.ok("GET", "/api/admin/enforcers", undefined, 200)).body as { enforcers: { id: string; group: string; protection: string; version: string }[] })
      .enforcers;
  }
}
