// The HTTP layer under the registry client: node:http/https (so a custom CA can be trusted),
// redirects (Authorization is dropped when the origin changes, as blob downloads are usually
// redirected to object storage), and bounded retries with exponential backoff on 429, 5xx and
// connection failures, honouring Retry-After.

import { readFileSync } from "node:fs";
import { Agent as HttpAgent, request as httpRequest, type ClientRequest, type IncomingHttpHeaders, type IncomingMessage, type RequestOptions } from "node:http";
import type { Agent as HttpsAgent } from "node:https";
import type { Readable } from "node:stream";
import { RegistryError } from "./errors.js";
import { attemptTimeout, settleResponse } from "./response.js";
import type { OriginLinks } from "./http2.js";

export interface RetryPolicy {
  /** Total attempts, including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 5, baseDelayMs: 250, maxDelayMs: 8_000 };

export interface TransportOptions {
  /** Extra trusted CA certificates (PEM), added to the roots. */
  ca?: string;
  /**
   * The roots, as files of PEM certificates read at the first https request: they replace Node's
   * bundled roots (SSL_CERT_FILE, see RegistryClient). Without them, Node's roots (with
   * NODE_EXTRA_CA_CERTS, which Node itself adds).
   */
  rootFiles?: readonly string[];
  retry?: RetryPolicy;
  /** Per attempt: no byte for this long ends the attempt. */
  timeoutMs?: number;
  /** Largest response body accepted. */
  maxBodyBytes?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface HttpRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  url: string;
  headers?: Record<string, string>;
  body?: Uint8Array;
  /** false: never repeat this request (a PATCH of an upload chunk). */
  retry?: boolean;
  maxBodyBytes?: number;
  /** A body sent as a stream (large blobs); `open` is called once per attempt. */
  bodyStream?: { open: () => Readable; length: number };
  /** Hand a 2xx response's body over unread, as `stream` (large blobs). */
  streamResponse?: boolean;
}

export interface HttpResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The URL that answered, after redirects. */
  url: string;
  /** With `streamResponse`: the unread body of a 2xx response (`body` is then empty). */
  stream?: Readable;
}

/** How requests of one scheme are sent. */
interface Sender {
  request: (url: URL, options: RequestOptions, callback: (res: IncomingMessage) => void) => ClientRequest;
  agent: HttpAgent | HttpsAgent;
}

const RETRY_STATUS = new Set([429, 500, 502, 503, 504]);
const RETRY_ERRNO = new Set([
  ...["ECONNRESET", "ECONNREFUSED", "EPIPE", "ETIMEDOUT", "EAI_AGAIN", "ECONNABORTED", "ENETUNREACH", "EHOSTUNREACH", "ERR_ATTEMPT_TIMEOUT"],
  // HTTP/2: a refused or reset stream, a session gone away or broken.
  ...["ERR_HTTP2_STREAM_ERROR", "ERR_HTTP2_GOAWAY_SESSION", "ERR_HTTP2_SESSION_ERROR", "ERR_HTTP2_INVALID_SESSION", "ERR_HTTP2_STREAM_CANCEL", "ERR_HTTP2_ERROR"],
]);
const TLS_ERRNO = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS/;

export class Transport {
  /**
   * One keep-alive agent per scheme for every request of this transport: a protect run makes 20–70
   * small requests, and each new connection would cost a TCP (and TLS) handshake. With a custom
   * CA the TLS context (Node's ~140 roots plus it) is built once, not once per connection. Idle
   * sockets are unref'ed by the agent, so they never keep the process alive. node:https,
   * node:tls and node:http2 are loaded with the first https request: a plain-HTTP registry never
   * needs them. Over TLS, an origin that offers HTTP/2 gets one connection for all (http2.ts).
   */
  private readonly httpAgent = new HttpAgent({ keepAlive: true });
  private https: Promise<{ sender: Sender; links: OriginLinks }> | undefined;
  private readonly ca: string | undefined;
  private readonly rootFiles: readonly string[] | undefined;
  private readonly retryPolicy: RetryPolicy;
  private readonly timeoutMs: number;
  private readonly maxBodyBytes: number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: TransportOptions = {}) {
    this.ca = options.ca;
    this.rootFiles = options.rootFiles;
    this.retryPolicy = options.retry ?? DEFAULT_RETRY;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxBodyBytes = options.maxBodyBytes ?? 1024 * 1024 * 1024;
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  /** Sends the request, following redirects and retrying what is worth retrying. */
  async request(req: HttpRequest): Promise<HttpResponse> {
    const attempts = req.retry === false ? 1 : Math.max(1, this.retryPolicy.attempts);
    for (let attempt = 1; ; attempt++) {
      let response: HttpResponse;
      try {
        response = await this.followRedirects(req);
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code ?? "";
        if (attempt < attempts && RETRY_ERRNO.has(code)) {
          await this.sleep(this.backoff(attempt, undefined));
          continue;
        }
        throw toRegistryError(error, req.url);
      }
      if (attempt < attempts && RETRY_STATUS.has(response.status)) {
        await this.sleep(this.backoff(attempt, header(response.headers, "retry-after")));
        continue;
      }
      return response;
    }
  }

  private backoff(attempt: number, retryAfter: string | undefined): number {
    const { baseDelayMs, maxDelayMs } = this.retryPolicy;
    if (retryAfter !== undefined) {
      const seconds = Number(retryAfter);
      const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(retryAfter) - Date.now();
      if (Number.isFinite(ms) && ms >= 0) return Math.min(ms, maxDelayMs);
    }
    const exp = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
    // Full jitter on the upper half, so concurrent clients spread out.
    return Math.round(exp / 2 + Math.random() * (exp / 2));
  }

  private async followRedirects(req: HttpRequest): Promise<HttpResponse> {
    let url = req.url;
    let headers = { ...(req.headers ?? {}) };
    let method = req.method;
    let body = req.body;
    for (let hop = 0; hop <= 5; hop++) {
      const response = await this.once({ ...req, method, url, headers, body });
      const location = header(response.headers, "location");
      const redirect = [301, 302, 303, 307, 308].includes(response.status) && (method === "GET" || method === "HEAD");
      if (!redirect || location === undefined) return response;
      const next = new URL(location, url);
      if (next.origin !== new URL(url).origin) {
        headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== "authorization"));
      }
      if (response.status === 303) {
        method = "GET";
        body = undefined;
      }
      url = next.toString();
    }
    throw new RegistryError("http", `${req.method} ${req.url}: more than 5 redirects`);
  }

  private httpsLinks(): Promise<{ sender: Sender; links: OriginLinks }> {
    this.https ??= Promise.all([import("node:https"), import("node:tls"), import("./http2.js")]).then(([https, tls, http2]) => {
      // Given roots (SSL_CERT_FILE): only they are parsed, not Node's ~140 bundled ones (~20 ms).
      const roots = this.rootFiles?.map(readPemFile);
      const ca = roots !== undefined ? [...roots, ...(this.ca === undefined ? [] : [this.ca])] : this.ca === undefined ? undefined : [...tls.rootCertificates, this.ca];
      const secureContext = ca === undefined ? undefined : tls.createSecureContext({ ca });
      const agent = new https.Agent({ keepAlive: true, ...(secureContext === undefined ? {} : { secureContext }) });
      return { sender: { request: https.request, agent }, links: new http2.OriginLinks(agent, secureContext) };
    });
    return this.https;
  }

  private async once(req: HttpRequest): Promise<HttpResponse> {
    const url = new URL(req.url);
    const limit = req.maxBodyBytes ?? this.maxBodyBytes;
    const headers: Record<string, string> = { "user-agent": "vigil-registry-client", ...req.headers };
    if (req.body !== undefined) headers["content-length"] = String(req.body.length);
    else if (req.bodyStream !== undefined) headers["content-length"] = String(req.bodyStream.length);
    else if (req.method === "PUT" || req.method === "POST" || req.method === "PATCH") headers["content-length"] = "0";
    let sender: Sender;
    if (url.protocol === "https:") {
      const https = await this.httpsLinks();
      // Whole-blob streams keep a connection each (HTTP/1.1): on one HTTP/2 connection they would
      // share its flow-control window (distribution's Go server grants 1 MB per connection for
      // uploads), capping several large uploads at window ÷ round trip together on a real network.
      const large = req.bodyStream !== undefined || req.streamResponse === true;
      const link = await https.links.link(url);
      if (link.kind === "h2" && !large) return https.links.send(link.session, url, req, headers, this.timeoutMs, limit);
      sender = https.sender;
    } else if (url.protocol === "http:") {
      sender = { request: httpRequest, agent: this.httpAgent };
    } else {
      throw new RegistryError("network", `unsupported URL scheme in ${req.url}`);
    }
    const send = sender.request;
    return new Promise<HttpResponse>((resolve, reject) => {
      const r = send(
        url,
        { method: req.method, headers, agent: sender.agent },
        (res) => {
          res.on("error", reject);
          settleResponse(res, res.statusCode ?? 0, res.headers, req, limit, resolve);
        },
      );
      r.setTimeout(this.timeoutMs, () => r.destroy(attemptTimeout(this.timeoutMs)));
      r.on("error", reject);
      if (req.bodyStream !== undefined && req.body === undefined) {
        const source = req.bodyStream.open();
        source.on("error", (error) => r.destroy(error));
        source.pipe(r);
        return;
      }
      r.end(req.body === undefined ? undefined : Buffer.from(req.body.buffer, req.body.byteOffset, req.body.length));
    });
  }
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function toRegistryError(error: unknown, url: string): Error {
  if (error instanceof RegistryError) return error;
  const e = error as NodeJS.ErrnoException;
  const code = e.code ?? "";
  const host = safeHost(url);
  if (TLS_ERRNO.test(code)) {
    return new RegistryError(
      "tls",
      `TLS connection to ${host} failed: ${e.message} (${code}); if the registry uses a private CA, pass its certificate with --ca-file (or --insecure for a plain-HTTP registry)`,
    );
  }
  if (code === "EPROTO" || /wrong version number|packet length too long/i.test(e.message)) {
    return new RegistryError("tls", `${host} did not speak TLS (${e.message}); for a plain-HTTP registry pass --insecure`);
  }
  return new RegistryError("network", `cannot reach ${host}: ${e.message}${code === "" ? "" : ` (${code})`}`);
}

function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** The text of a file of PEM certificates (a CA bundle), or a config error saying what is wrong with it. */
export function readPemFile(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, "utf8");
  } catch (error) {
    throw new RegistryError("config", `cannot read the CA file ${file}: ${(error as Error).message}`);
  }
  if (!pem.includes("-----BEGIN CERTIFICATE-----")) throw new RegistryError("config", `${file} holds no PEM certificate`);
  return pem;
}
