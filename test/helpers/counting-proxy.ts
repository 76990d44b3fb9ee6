// An HTTPS proxy on 127.0.0.1 in front of a test registry (same certificate, so the same CA
// trusts it), recording every request: method, path, status and response bytes. Tests use it to
// prove which blobs a command read.

import { readFileSync } from "node:fs";
import { createServer, request, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import path from "node:path";
import type { TestRegistry } from "./registry.js";

export interface ProxiedRequest {
  method: string;
  path: string;
  status: number;
  bytes: number;
}

export interface CountingProxy {
  host: string;
  log: ProxiedRequest[];
  /** GETs of /v2/.../blobs/DIGEST that were answered with content. */
  blobGets(): string[];
  close(): Promise<void>;
}

export async function startCountingProxy(reg: TestRegistry): Promise<CountingProxy> {
  const tls = path.join(reg.dir, "tls");
  const ca = readFileSync(reg.caFile ?? path.join(tls, "ca.crt"));
  const [, port] = reg.host.split(":");
  const log: ProxiedRequest[] = [];
  const server: Server = createServer({ cert: readFileSync(path.join(tls, "server.crt")), key: readFileSync(path.join(tls, "server.key")) }, (req, res) => {
    const upstream = request(
      { host: "127.0.0.1", port: Number(port), method: req.method, path: req.url, headers: req.headers, ca },
      (up) => {
        const entry: ProxiedRequest = { method: req.method ?? "", path: req.url ?? "", status: up.statusCode ?? 0, bytes: 0 };
        log.push(entry);
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.on("data", (c: Buffer) => {
          entry.bytes += c.length;
        });
        up.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    host,
    log,
    blobGets: () => log.filter((r) => r.method === "GET" && r.status === 200 && /\/blobs\/sha256:/.test(r.path)).map((r) => r.path.slice(r.path.lastIndexOf("/") + 1)),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
