// HTTP/2 to TLS registries (src/registry/http2.ts): against the real registry (Debian's
// docker-registry offers h2 over TLS, as distribution, ECR, Docker Hub and GHCR do), every request
// of a client, concurrent ones included, goes over one connection, counted by a TCP relay in front
// of the registry; large blobs stream both ways over it; the CLI exits as soon as it is done.
// Against an HTTP/1.1-only TLS server, the socket that offered h2 serves the first request (one
// connection, not two). A stream the server refuses is retried.

import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { constants as h2, createSecureServer, type Http2SecureServer, type ServerHttp2Session } from "node:http2";
import { createServer as createHttpsServer, type Server as HttpsServer } from "node:https";
import { connect, createServer, type AddressInfo, type Server, type Socket } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushImage } from "../../src/oci/push.js";
import { RegistryClient } from "../../src/registry/client.js";
import { sha256Digest } from "../../src/registry/digest.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { testImage } from "./images.js";

const CLI = join(import.meta.dirname, "../../dist/cli/vigil.cjs");

/** A TCP relay on 127.0.0.1 to `port` that counts the connections made to it. */
interface Relay {
  host: string;
  connections: number;
  close(): Promise<void>;
}

async function startRelay(port: number): Promise<Relay> {
  const sockets = new Set<Socket>();
  const relay = { host: "", connections: 0, close: async () => undefined };
  const server: Server = createServer((inbound) => {
    relay.connections++;
    const outbound = connect(port, "127.0.0.1");
    for (const s of [inbound, outbound]) {
      sockets.add(s);
      s.on("close", () => sockets.delete(s));
      s.on("error", () => undefined);
    }
    inbound.pipe(outbound).pipe(inbound);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  relay.host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  relay.close = async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  return relay;
}

let reg: TestRegistry;
let tlsFiles: { cert: Buffer; key: Buffer };
const relays: Relay[] = [];

async function relayed(): Promise<{ relay: Relay; client: RegistryClient }> {
  const relay = await startRelay(Number(reg.host.split(":")[1]));
  relays.push(relay);
  const client = new RegistryClient(relay.host, { caFile: reg.caFile, auth: { username: reg.username ?? "", password: reg.password ?? "" }, env: {} });
  return { relay, client };
}

beforeAll(async () => {
  reg = await startRegistry();
  tlsFiles = { cert: readFileSync(join(reg.dir, "tls", "server.crt")), key: readFileSync(join(reg.dir, "tls", "server.key")) };
}, 120_000);

afterAll(async () => {
  for (const r of relays) await r.close();
  await reg?.stop();
});

describe("HTTP/2 to a registry that offers it", () => {
  it("an image pushed, then eight requests at once: one connection for all", async () => {
    const { relay, client } = await relayed();
    const image = testImage({ Cmd: ["/app"] });
    await pushImage(client, "h2/app", image, "v1");
    const digests = [image.config.digest, ...image.layers.map((l) => l.digest)];
    const answers = await Promise.all(Array.from({ length: 8 }, (_, i) => client.hasBlob("h2/app", digests[i % digests.length] ?? "")));
    expect(answers).toEqual(Array.from({ length: 8 }, () => true));
    expect(relay.connections).toBe(1);
  });

  it("a 6 MB blob up and back over HTTP/2; streamed from one repository to another, each stream on a connection of its own", async () => {
    const { relay, client } = await relayed();
    const data = randomBytes(6 * 1024 * 1024);
    const { digest } = await client.pushBlob("h2/big", data);
    expect(sha256Digest(await client.getBlob("h2/big", digest, 8 * 1024 * 1024))).toBe(digest);
    expect(relay.connections).toBe(1);
    // The download and the upload run at once: two HTTP/1.1 connections beside the HTTP/2 one
    // (several large streams sharing one HTTP/2 flow-control window would be capped by it).
    const copied = await client.pushBlobStream("h2/copy", digest, data.length, () => client.openBlob("h2/big", digest));
    expect(copied).toBe("uploaded");
    expect(sha256Digest(await client.getBlob("h2/copy", digest, 8 * 1024 * 1024))).toBe(digest);
    expect(relay.connections).toBe(3);
  });

  it("vigil protect image and unprotect image over it: one connection each, the original digest back, and the process ends at once", async () => {
    const { relay, client } = await relayed();
    const image = testImage({ Entrypoint: ["/docker-entrypoint.sh"], Cmd: ["nginx"] });
    const original = (await pushImage(client, "h2/web", image, "v1")).digest;
    const env = { PATH: process.env["PATH"] ?? "", SSL_CERT_FILE: reg.caFile ?? "", VIGIL_REGISTRY_USERNAME: reg.username ?? "", VIGIL_REGISTRY_PASSWORD: reg.password ?? "" };
    const vigil = (args: string[]) =>
      new Promise<{ stdout: string; ms: number }>((resolve, reject) => {
        const start = Date.now();
        execFile(process.execPath, [CLI, ...args], { env, timeout: 20_000 }, (error, stdout, stderr) => (error ? reject(new Error(`${error.message}\n${stderr}`)) : resolve({ stdout, ms: Date.now() - start })));
      });
    const before = relay.connections; // the test's own client: one
    const protectedRun = await vigil(["protect", "image", `${relay.host}/h2/web:v1`, `${relay.host}/h2/web:protected`]);
    expect(protectedRun.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(relay.connections - before).toBe(1);
    const back = await vigil(["unprotect", "image", `${relay.host}/h2/web:protected`, `${relay.host}/h2/web:back`]);
    expect(back.stdout.trim()).toBe(original);
    expect(relay.connections - before).toBe(2);
    // Nothing left waiting on the connection (an HTTP/2 session holding the loop would add seconds).
    expect(protectedRun.ms).toBeLessThan(5_000);
    expect(back.ms).toBeLessThan(5_000);
  });
});

describe("a TLS server without HTTP/2", () => {
  let server: HttpsServer;
  let connections = 0;
  let requests = 0;

  beforeAll(async () => {
    server = createHttpsServer(tlsFiles, (req, res) => {
      requests++;
      req.resume();
      res.writeHead(200, { "content-type": "application/json", "content-length": "0" });
      res.end();
    });
    server.on("connection", () => connections++); // TCP: a TLS handshake cut short by the client is not a "secureConnection"
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("the connection that offered h2 serves the first request, and stays for the next (one connection, not two)", async () => {
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new RegistryClient(host, { caFile: reg.caFile, auth: { username: "u", password: "p" }, env: {} });
    expect(await client.hasBlob("h1/app", `sha256:${"a".repeat(64)}`)).toBe(true);
    expect(await client.hasBlob("h1/app", `sha256:${"b".repeat(64)}`)).toBe(true);
    expect(requests).toBe(2);
    expect(connections).toBe(1);
  });
});

describe("an HTTP/2 server that refuses a stream", () => {
  let server: Http2SecureServer;
  let streams = 0;
  const sessions: ServerHttp2Session[] = [];

  beforeAll(async () => {
    server = createSecureServer(tlsFiles, () => undefined);
    server.on("session", (session) => sessions.push(session));
    server.on("stream", (stream) => {
      streams++;
      if (streams === 1) stream.close(h2.NGHTTP2_REFUSED_STREAM);
      else stream.respond({ ":status": 200, "content-length": "0" }, { endStream: true });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    for (const session of sessions) session.destroy(); // the client keeps its idle session open
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("sends the request again (REFUSED_STREAM: nothing was processed)", async () => {
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new RegistryClient(host, { caFile: reg.caFile, auth: { username: "u", password: "p" }, env: {}, retry: { attempts: 3, baseDelayMs: 1, maxDelayMs: 5 } });
    expect(await client.hasBlob("h2/app", `sha256:${"c".repeat(64)}`)).toBe(true);
    expect(streams).toBe(2);
  });
});

describe("an HTTP/2 server that goes away", () => {
  let server: Http2SecureServer;
  const sessions: ServerHttp2Session[] = [];

  beforeAll(async () => {
    server = createSecureServer(tlsFiles, () => undefined);
    server.on("session", (session) => sessions.push(session));
    server.on("stream", (stream, headers) => {
      if (headers[":path"]?.includes("slow") === true) {
        // GOAWAY at once (no new stream on this session), this stream answered later.
        stream.session?.goaway();
        setTimeout(() => stream.respond({ ":status": 200, "content-length": "0" }, { endStream: true }), 150);
        return;
      }
      stream.respond({ ":status": 200, "content-length": "0" }, { endStream: true });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  });
  afterAll(async () => {
    for (const session of sessions) session.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("the next request opens a new session, and the old one ending later does not make a third", async () => {
    const host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    const client = new RegistryClient(host, { caFile: reg.caFile, auth: { username: "u", password: "p" }, env: {} });
    const slow = client.hasBlob("slow", `sha256:${"d".repeat(64)}`);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the GOAWAY has arrived
    expect(await client.hasBlob("h2/app", `sha256:${"e".repeat(64)}`)).toBe(true);
    expect(await slow).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 50)); // the first session has closed
    expect(await client.hasBlob("h2/app", `sha256:${"f".repeat(64)}`)).toBe(true);
    expect(sessions.length).toBe(2);
  });
});
