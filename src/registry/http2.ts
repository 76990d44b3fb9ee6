// HTTP/2 to registries that offer it over TLS (ALPN "h2": distribution, ECR, Docker Hub, GHCR…):
// one connection per origin carries every request of a run as concurrent streams, so a protect
// run makes one TLS handshake instead of one per concurrent request (10 mounts at once used to
// open ~10 connections). The first https request to an origin opens a TLS connection offering
// h2 and http/1.1; when the server picks http/1.1 (or no ALPN), that socket is handed to the
// https agent for the first HTTP/1.1 request, so a server without h2 costs nothing more.
//
// Loaded with the first https request only (a plain-HTTP registry never loads node:http2).

import { connect as http2Connect, type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders as Http2Headers } from "node:http2";
import type { IncomingHttpHeaders } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import { isIP } from "node:net";
import type { Duplex } from "node:stream";
import { connect as tlsConnect, type SecureContext, type TLSSocket } from "node:tls";
import type { HttpRequest, HttpResponse } from "./http.js";
import { attemptTimeout, settleResponse } from "./response.js";

/** How an origin is spoken to: a live HTTP/2 session, or HTTP/1.1 through the https agent. */
export type OriginLink = { kind: "h2"; session: ClientHttp2Session } | { kind: "h1" };

/** Our receive windows: large blobs stream without waiting for WINDOW_UPDATEs every 64 kB. */
const STREAM_WINDOW = 4 * 1024 * 1024;
const SESSION_WINDOW = 32 * 1024 * 1024;
/** A session without any frame for this long is closed (a long-lived process keeps none open). */
const IDLE_MS = 30_000;

/**
 * The link to each https origin, made once (and again after a session ends). `agent` is the
 * https agent HTTP/1.1 requests go through; a socket that negotiated http/1.1 is given to it.
 */
export class OriginLinks {
  private readonly links = new Map<string, Promise<OriginLink>>();
  /** Sockets negotiated as http/1.1, waiting for the agent's next connection to their origin. */
  private readonly spare = new Map<string, TLSSocket[]>();
  /** Streams open per session: a session keeps the process alive only while it has some. */
  private readonly active = new WeakMap<ClientHttp2Session, number>();

  constructor(
    private readonly agent: HttpsAgent,
    private readonly secureContext: SecureContext | undefined,
  ) {
    const create = agent.createConnection.bind(agent) as (options: { host?: string; port?: number | string }, callback: (error: Error | null, socket: Duplex) => void) => Duplex;
    // The agent's new connections take a spare socket of their origin first.
    (agent as unknown as { createConnection: typeof create }).createConnection = (options, callback) => {
      const key = `${options.host ?? ""}:${String(options.port ?? 443)}`;
      const socket = this.spare.get(key)?.shift();
      if (socket !== undefined && !socket.destroyed) return socket.ref();
      return create(options, callback);
    };
  }

  link(url: URL): Promise<OriginLink> {
    const origin = url.origin;
    let link = this.links.get(origin);
    if (link === undefined) {
      link = this.open(url).catch((error: unknown) => {
        this.links.delete(origin);
        throw error;
      });
      this.links.set(origin, link);
    }
    return link;
  }

  private async open(url: URL): Promise<OriginLink> {
    const host = url.hostname.replace(/^\[(.*)\]$/, "$1");
    const port = Number(url.port === "" ? 443 : url.port);
    const socket = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({
        host,
        port,
        ...(isIP(host) === 0 ? { servername: host } : {}),
        ALPNProtocols: ["h2", "http/1.1"],
        ...(this.secureContext !== undefined ? { secureContext: this.secureContext } : {}),
      });
      s.once("secureConnect", () => resolve(s));
      s.once("error", reject);
    });
    if (socket.alpnProtocol !== "h2") {
      const key = `${host}:${port}`;
      this.spare.set(key, [...(this.spare.get(key) ?? []), socket]);
      // Never taken (all requests done first): closed, and it holds nothing open meanwhile.
      socket.unref();
      socket.on("error", () => undefined);
      return { kind: "h1" };
    }
    const session = http2Connect(url.origin, {
      createConnection: () => socket,
      settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
    });
    session.on("error", () => undefined); // each stream reports its own failure
    // The next request opens a new session; a later session of the origin is not forgotten when
    // this one ends after it.
    const forget = (): void => {
      const link = this.links.get(url.origin);
      link
        ?.then((l) => {
          if (l.kind === "h2" && l.session === session && this.links.get(url.origin) === link) this.links.delete(url.origin);
        })
        .catch(() => undefined);
    };
    session.once("close", forget);
    session.once("goaway", forget);
    session.once("connect", () => session.setLocalWindowSize(SESSION_WINDOW));
    session.setTimeout(IDLE_MS, () => session.close());
    session.unref();
    return { kind: "h2", session };
  }

  /** One request as a stream of `session` (the same contract as Transport's HTTP/1.1 path). */
  send(session: ClientHttp2Session, url: URL, req: HttpRequest, headers: Record<string, string>, timeoutMs: number, limit: number): Promise<HttpResponse> {
    return new Promise<HttpResponse>((resolve, reject) => {
      const hasBody = req.body !== undefined || req.bodyStream !== undefined;
      let stream: ClientHttp2Stream;
      try {
        stream = session.request({ ...headers, ":method": req.method, ":path": `${url.pathname}${url.search}` }, { endStream: !hasBody });
      } catch (error) {
        // The session ended between lookup and use: a connection failure, retried as one.
        const e = error as NodeJS.ErrnoException;
        reject(Object.assign(new Error(`HTTP/2 session to ${url.host} ended: ${e.message}`), { code: "ECONNRESET" }));
        return;
      }
      this.track(session, +1);
      stream.once("close", () => this.track(session, -1));
      stream.setTimeout(timeoutMs, () => stream.destroy(attemptTimeout(timeoutMs)));
      stream.on("error", reject);
      stream.once("response", (h: Http2Headers) => settleResponse(stream, Number(h[":status"] ?? 0), plainHeaders(h), req, limit, resolve));
      if (req.body !== undefined) {
        stream.end(Buffer.from(req.body.buffer, req.body.byteOffset, req.body.length));
      } else if (req.bodyStream !== undefined) {
        const source = req.bodyStream.open();
        source.on("error", (error) => stream.destroy(error));
        source.pipe(stream);
      }
    });
  }

  private track(session: ClientHttp2Session, delta: number): void {
    const open = (this.active.get(session) ?? 0) + delta;
    this.active.set(session, open);
    if (session.destroyed) return;
    if (open > 0) session.ref();
    else session.unref();
  }
}

/** HTTP/2 response headers as HTTP/1.1's (pseudo-headers dropped). */
function plainHeaders(h: Http2Headers): IncomingHttpHeaders {
  const out: IncomingHttpHeaders = {};
  for (const [k, v] of Object.entries(h)) if (!k.startsWith(":")) out[k] = v as string | string[];
  return out;
}
