// A real webhook receiver for tests: an HTTP server on 127.0.0.1 that records every POST and
// answers as the test says (status, delay). It stops by itself after `lifetimeMs`.

import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  body: { text: string; blocks: unknown[] };
  raw: string;
  at: number;
}

/** How to answer the nth request (1-based): a status, after a delay. */
export type Behavior = (n: number) => { status: number; delayMs?: number };

export interface Receiver {
  url: string;
  /** Requests answered 2xx, in order. */
  delivered: Received[];
  /** Every request, whatever the answer. */
  requests: number;
  close(): Promise<void>;
}

export async function startReceiver(behavior: Behavior = () => ({ status: 200 }), lifetimeMs = 60_000): Promise<Receiver> {
  const timers = new Set<NodeJS.Timeout>();
  const r: Receiver = { url: "", delivered: [], requests: 0, close: async () => undefined };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const n = ++r.requests;
      const { status, delayMs = 0 } = behavior(n);
      const answer = (): void => {
        const raw = Buffer.concat(chunks).toString("utf8");
        if (status >= 200 && status < 300) r.delivered.push({ body: JSON.parse(raw) as Received["body"], raw, at: Date.now() });
        res.writeHead(status, { "content-type": "text/plain" }).end(status < 300 ? "ok" : "no_service");
      };
      if (delayMs === 0) return answer();
      const t = setTimeout(() => {
        timers.delete(t);
        if (!res.destroyed) answer();
      }, delayMs);
      timers.add(t);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  r.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/T000/B000/secretpart`;
  let closed: Promise<void> | null = null;
  r.close = () => {
    closed ??= new Promise<void>((resolve) => {
      clearTimeout(lifetime);
      for (const t of timers) clearTimeout(t);
      server.closeAllConnections();
      server.close(() => resolve());
    });
    return closed;
  };
  const lifetime = setTimeout(() => void r.close(), lifetimeMs);
  lifetime.unref();
  return r;
}

/** Polls `check` every 20 ms until it is true; fails after `timeoutMs`. */
export async function until(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
