// An OCI distribution client for one registry: manifests, blobs (every read checked against its
// digest), uploads (monolithic or chunked), cross-repository blob mounts. Authentication is
// answered on demand (see auth.ts); transport-level retries are in http.ts.

import type { Readable } from "node:stream";
import { Authorizer } from "./auth.js";
import { findCredential, type Credential, type ExplicitAuth } from "./credentials.js";
import { sha256Digest, verifyDigest, verifyingStream } from "./digest.js";
import { ecrCredential, type EcrOptions } from "./ecr.js";
import { RegistryError } from "./errors.js";
import { header, readPemFile, Transport, type HttpRequest, type HttpResponse, type RetryPolicy } from "./http.js";
import { MANIFEST_ACCEPT } from "./media-types.js";
import { apiHost, DOCKER_HUB } from "./reference.js";

export interface RegistryClientOptions {
  /** Credentials to use instead of looking them up. */
  auth?: ExplicitAuth;
  /** Plain HTTP instead of HTTPS. */
  insecure?: boolean;
  /** A PEM file of CA certificates to trust in addition to the roots. */
  caFile?: string;
  /** The same, as PEM text. */
  ca?: string;
  /**
   * Environment for credential lookup (DOCKER_CONFIG, HOME, VIGIL_REGISTRY_*) and for the roots
   * (SSL_CERT_FILE, NODE_EXTRA_CA_CERTS; see trustedRoots). Default: process.env.
   */
  env?: Readonly<Record<string, string | undefined>>;
  retry?: RetryPolicy;
  timeoutMs?: number;
  ecr?: EcrOptions;
  /** Replace the credential lookup entirely (tests). */
  credential?: () => Promise<Credential | null>;
}

export interface FetchedManifest {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface UploadOptions {
  /** Upload in PATCH chunks of this many bytes; without it, one monolithic PUT. */
  chunkSize?: number;
  /** Try a cross-repository mount from this repository first. */
  mountFrom?: string;
  /**
   * false: upload without asking first whether the blob is there (no HEAD): for a blob the caller
   * knows is missing, or one small enough that sending it again costs less than the question.
   */
  check?: boolean;
}

export type UploadResult = "exists" | "mounted" | "uploaded";

const MANIFEST_LIMIT = 4 * 1024 * 1024;

export class RegistryClient {
  readonly registry: string;
  private readonly base: string;
  private readonly transport: Transport;
  private readonly authorizer: Authorizer;
  /** Basic credentials go with the first requests (over TLS, not to Docker Hub, which wants tokens). */
  private readonly preemptiveAuth: boolean;
  /** Upload sessions opened ahead of need (openUploads), per repository; null when the POST failed. */
  private readonly openedUploads = new Map<string, Promise<string | null>[]>();

  constructor(registry: string, options: RegistryClientOptions = {}) {
    this.registry = registry;
    this.base = `${options.insecure === true ? "http" : "https"}://${apiHost(registry)}`;
    this.preemptiveAuth = options.insecure !== true && registry !== DOCKER_HUB;
    const ca = options.caFile !== undefined ? readPemFile(options.caFile) : options.ca;
    const env = options.env ?? process.env;
    const rootFiles = trustedRoots(env);
    this.transport = new Transport({
      ...(ca !== undefined ? { ca } : {}),
      ...(rootFiles !== undefined ? { rootFiles } : {}),
      ...(options.retry !== undefined ? { retry: options.retry } : {}),
      ...(options.timeoutMs !== undefined ? { timeoutMs: options.timeoutMs } : {}),
    });
    const lookup =
      options.credential ??
      (() =>
        findCredential(registry, {
          env,
          ...(options.auth !== undefined ? { explicit: options.auth } : {}),
          ecr: (host) => ecrCredential(host, options.ecr),
        }));
    this.authorizer = new Authorizer(registry, this.transport, lookup);
  }

  /** GET a manifest by tag or digest. Checked against the digest when asked by digest, and against Docker-Content-Digest. */
  async getManifest(repository: string, reference: string, accept: string = MANIFEST_ACCEPT): Promise<FetchedManifest> {
    const res = await this.call(
      { method: "GET", url: this.url(repository, "manifests", reference), headers: { accept }, maxBodyBytes: MANIFEST_LIMIT },
      [pullScope(repository)],
    );
    this.expect(res, [200], `manifest ${repository}:${reference}`);
    const bytes = res.body;
    const what = `manifest ${this.registry}/${repository}@${reference}`;
    if (reference.includes(":")) verifyDigest(bytes, reference, what);
    const claimed = header(res.headers, "docker-content-digest");
    if (claimed !== undefined && claimed !== "" && !reference.includes(":")) verifyDigest(bytes, claimed, what);
    const contentType = (header(res.headers, "content-type") ?? "").split(";")[0]?.trim() ?? "";
    return { bytes, mediaType: contentType, digest: reference.includes(":") ? reference : sha256Digest(bytes) };
  }

  /** HEAD a manifest: its digest, or null when it does not exist. */
  async headManifest(repository: string, reference: string, accept: string = MANIFEST_ACCEPT): Promise<{ digest: string; mediaType: string; size: number } | null> {
    const res = await this.call({ method: "HEAD", url: this.url(repository, "manifests", reference), headers: { accept } }, [pullScope(repository)]);
    if (res.status === 404) return null;
    this.expect(res, [200], `manifest ${repository}:${reference}`);
    return {
      digest: header(res.headers, "docker-content-digest") ?? (reference.includes(":") ? reference : ""),
      mediaType: (header(res.headers, "content-type") ?? "").split(";")[0]?.trim() ?? "",
      size: Number(header(res.headers, "content-length") ?? "0"),
    };
  }

  /** GET a blob; the bytes are checked against `digest` before they are returned. */
  async getBlob(repository: string, digest: string, maxBytes?: number): Promise<Buffer> {
    const res = await this.call(
      { method: "GET", url: this.url(repository, "blobs", digest), ...(maxBytes !== undefined ? { maxBodyBytes: maxBytes } : {}) },
      [pullScope(repository)],
    );
    this.expect(res, [200], `blob ${repository}@${digest}`);
    verifyDigest(res.body, digest, `blob ${this.registry}/${repository}@${digest}`);
    return res.body;
  }

  /**
   * A blob as a stream, for blobs too large to hold in memory (layers). The stream fails with a
   * digest-mismatch error at its end when the bytes do not hash to `digest`.
   */
  async openBlob(repository: string, digest: string): Promise<Readable> {
    const res = await this.call({ method: "GET", url: this.url(repository, "blobs", digest), streamResponse: true }, [pullScope(repository)]);
    this.expect(res, [200], `blob ${repository}@${digest}`);
    if (res.stream === undefined) throw new RegistryError("bad-response", `${this.registry}: blob ${repository}@${digest}: no body`);
    return verifyingStream(res.stream, digest, `blob ${this.registry}/${repository}@${digest}`);
  }

  /**
   * Uploads a blob read from a stream (opened again for each attempt) unless it is already
   * there: POST, one streamed PATCH, PUT ?digest= (the sequence every registry accepts, ECR's
   * included). The registry checks the digest; so does the caller's verifying source. The source
   * is opened while the POST is on its way (one round trip less per blob on a real network); a
   * source whose session could not be opened is destroyed unread, and a session without a source
   * is closed.
   */
  async pushBlobStream(repository: string, digest: string, length: number, open: () => Readable | Promise<Readable>): Promise<UploadResult> {
    if (await this.hasBlob(repository, digest)) return "exists";
    const scopes = [pushScope(repository)];
    for (let attempt = 1; ; attempt++) {
      try {
        const [session, opening] = await Promise.allSettled([this.startUpload(repository), Promise.resolve().then(open)]);
        if (session.status === "rejected") {
          if (opening.status === "fulfilled") opening.value.destroy();
          throw session.reason;
        }
        let location = session.value;
        if (opening.status === "rejected") {
          await this.cancelUpload(repository, location);
          throw opening.reason;
        }
        const source = opening.value;
        const res = await this.call(
          { method: "PATCH", url: location, headers: { "content-type": "application/octet-stream" }, bodyStream: { open: () => source, length }, retry: false },
          scopes,
        );
        this.expect(res, [202], `uploading ${digest} (${length} bytes) to ${repository}`);
        location = this.location(res, location);
        const done = await this.call({ method: "PUT", url: withQuery(location, "digest", digest), retry: false }, scopes);
        this.expect(done, [201], `finishing the upload of ${digest} to ${repository}`);
        return "uploaded";
      } catch (error) {
        const retryable = error instanceof RegistryError && (error.kind === "network" || (error.status !== undefined && error.status >= 500) || error.status === 429);
        if (!retryable || attempt >= 3) throw error;
      }
    }
  }

  async hasBlob(repository: string, digest: string): Promise<boolean> {
    const res = await this.call({ method: "HEAD", url: this.url(repository, "blobs", digest) }, [pullScope(repository)]);
    if (res.status === 404) return false;
    this.expect(res, [200], `blob ${repository}@${digest}`);
    return true;
  }

  /**
   * Cross-repository mount: the registry links an existing blob into `repository` without any
   * upload. Returns false when the registry cannot (the source is missing or not readable).
   */
  async mountBlob(repository: string, digest: string, from: string): Promise<boolean> {
    const url = `${this.base}/v2/${repository}/blobs/uploads/?mount=${encodeURIComponent(digest)}&from=${encodeURIComponent(from)}`;
    const res = await this.call({ method: "POST", url }, [pushScope(repository), pullScope(from)]);
    if (res.status === 201) return true;
    this.expect(res, [202], `mount of ${digest} from ${from} into ${repository}`);
    // 202: the registry opened an ordinary upload session instead; close it.
    const location = header(res.headers, "location");
    if (location !== undefined) {
      await this.call({ method: "DELETE", url: new URL(location, url).toString() }, [pushScope(repository)]).catch(() => undefined);
    }
    return false;
  }

  /**
   * Opens `count` upload sessions in `repository` now (POST …/blobs/uploads/), for blobs that are
   * not made yet: a later pushBlob takes one instead of waiting a round trip for its own POST.
   * Sessions no blob takes are closed by closeUnusedUploads.
   */
  openUploads(repository: string, count: number): void {
    const opened = this.openedUploads.get(repository) ?? [];
    for (let i = 0; i < count; i++) opened.push(this.startUpload(repository).catch(() => null));
    this.openedUploads.set(repository, opened);
  }

  /** Closes (DELETE) the sessions of openUploads that no blob took; errors are ignored (they expire). */
  async closeUnusedUploads(): Promise<void> {
    const unused = [...this.openedUploads].flatMap(([repository, opened]) => opened.map((session) => ({ repository, session })));
    this.openedUploads.clear();
    await Promise.all(
      unused.map(async ({ repository, session }) => {
        const location = await session;
        if (location !== null) await this.cancelUpload(repository, location);
      }),
    );
  }

  /** An upload session opened ahead (openUploads), or a new one; null when the early POST failed. */
  private uploadSession(repository: string): Promise<string | null> {
    return this.openedUploads.get(repository)?.shift() ?? this.startUpload(repository).catch(() => null);
  }

  /** Uploads a blob unless it is already there (or can be mounted). The digest is computed here. */
  async pushBlob(repository: string, data: Uint8Array, options: UploadOptions = {}): Promise<{ digest: string; result: UploadResult }> {
    const digest = sha256Digest(data);
    let session: string | null = null;
    if (options.mountFrom !== undefined && options.mountFrom !== repository) {
      if (await this.hasBlob(repository, digest)) return { digest, result: "exists" };
      if (await this.mountBlob(repository, digest, options.mountFrom)) return { digest, result: "mounted" };
    } else if (options.check === false) {
      session = await this.uploadSession(repository);
    } else {
      // The check and the upload's POST at once (or a session opened earlier): a new blob (the
      // usual case) waits one round trip less; a blob that is there after all only costs an
      // upload session, closed again.
      const [there, opened] = await Promise.all([this.hasBlob(repository, digest), this.uploadSession(repository)]);
      if (there) {
        if (opened !== null) await this.cancelUpload(repository, opened);
        return { digest, result: "exists" };
      }
      session = opened;
    }
    // An upload that failed half-way is started again from scratch, a bounded number of times.
    for (let attempt = 1; ; attempt++) {
      try {
        const location = session ?? (await this.startUpload(repository));
        session = null;
        await this.upload(repository, location, data, digest, options.chunkSize);
        return { digest, result: "uploaded" };
      } catch (error) {
        const retryable = error instanceof RegistryError && (error.kind === "network" || (error.status !== undefined && error.status >= 500) || error.status === 429 || error.status === 416);
        if (!retryable || attempt >= 3) throw error;
      }
    }
  }

  /** POST …/blobs/uploads/: a new upload session; returns its Location. */
  private async startUpload(repository: string): Promise<string> {
    const start = `${this.base}/v2/${repository}/blobs/uploads/`;
    const opened = await this.call({ method: "POST", url: start }, [pushScope(repository)]);
    this.expect(opened, [202], `starting an upload to ${repository}`);
    return this.location(opened, start);
  }

  /** Closes an upload session that is not needed; a registry that refuses just lets it expire. */
  private async cancelUpload(repository: string, location: string): Promise<void> {
    await this.call({ method: "DELETE", url: location }, [pushScope(repository)]).catch(() => undefined);
  }

  private async upload(repository: string, start: string, data: Uint8Array, digest: string, chunkSize: number | undefined): Promise<void> {
    const scopes = [pushScope(repository)];
    let location = start;

    if (chunkSize !== undefined && chunkSize > 0) {
      for (let offset = 0; offset < data.length; offset += chunkSize) {
        const chunk = data.subarray(offset, Math.min(data.length, offset + chunkSize));
        const res = await this.call(
          {
            method: "PATCH",
            url: location,
            headers: {
              "content-type": "application/octet-stream",
              "content-range": `${offset}-${offset + chunk.length - 1}`,
            },
            body: chunk,
            retry: false,
          },
          scopes,
        );
        this.expect(res, [202], `uploading bytes ${offset}-${offset + chunk.length - 1} to ${repository}`);
        location = this.location(res, location);
      }
      const done = await this.call({ method: "PUT", url: withQuery(location, "digest", digest), retry: false }, scopes);
      this.expect(done, [201], `finishing the upload of ${digest} to ${repository}`);
      return;
    }
    const done = await this.call(
      { method: "PUT", url: withQuery(location, "digest", digest), headers: { "content-type": "application/octet-stream" }, body: data, retry: false },
      scopes,
    );
    this.expect(done, [201], `uploading ${digest} to ${repository}`);
  }

  /** PUT a manifest under a tag or its digest; returns its digest. */
  async putManifest(repository: string, reference: string, bytes: Uint8Array, mediaType: string): Promise<string> {
    const digest = sha256Digest(bytes);
    if (reference.includes(":") && reference !== digest) {
      throw new RegistryError("digest-mismatch", `manifest for ${repository}@${reference} hashes to ${digest}`);
    }
    const res = await this.call(
      { method: "PUT", url: this.url(repository, "manifests", reference), headers: { "content-type": mediaType }, body: bytes },
      [pushScope(repository)],
    );
    this.expect(res, [201], `manifest ${repository}:${reference}`);
    const claimed = header(res.headers, "docker-content-digest");
    if (claimed !== undefined && claimed !== "" && claimed !== digest) {
      throw new RegistryError("digest-mismatch", `${this.registry} stored manifest ${repository}:${reference} as ${claimed}, but its bytes hash to ${digest}`);
    }
    return digest;
  }

  /** One request with authentication: on 401 answer the challenge and send it once more. */
  private async call(req: HttpRequest, scopes: readonly string[]): Promise<HttpResponse> {
    const cached = this.authorizer.cachedHeader(scopes) ?? (this.preemptiveAuth ? await this.authorizer.preemptiveHeader() : undefined);
    const first = await this.transport.request(withAuth(req, cached));
    if (first.status !== 401) return first;
    const auth = await this.authorizer.authorize(header(first.headers, "www-authenticate"), scopes, cached);
    const second = await this.transport.request(withAuth(req, auth));
    if (second.status === 401) throw await this.authorizer.stillUnauthorized();
    return second;
  }

  private expect(res: HttpResponse, ok: readonly number[], what: string): void {
    if (ok.includes(res.status)) return;
    const detail = registryErrorText(res.body);
    const where = `${this.registry}: ${what}`;
    if (res.status === 404) throw new RegistryError("not-found", `${where}: not found${detail}`, 404);
    if (res.status === 403) throw new RegistryError("denied", `${where}: access denied${detail}`, 403);
    if (res.status === 415 || res.status === 406) {
      throw new RegistryError("unsupported-media-type", `${where}: the registry does not accept this media type (${res.status})${detail}`, res.status);
    }
    throw new RegistryError("http", `${where}: unexpected HTTP ${res.status}${detail}`, res.status);
  }

  private url(repository: string, kind: "manifests" | "blobs", reference: string): string {
    return `${this.base}/v2/${repository}/${kind}/${reference}`;
  }

  private location(res: HttpResponse, base: string): string {
    const location = header(res.headers, "location");
    if (location === undefined || location === "") {
      throw new RegistryError("bad-response", `${this.registry}: upload response without a Location header`);
    }
    return new URL(location, base).toString();
  }
}

export function pullScope(repository: string): string {
  return `repository:${repository}:pull`;
}

export function pushScope(repository: string): string {
  return `repository:${repository}:pull,push`;
}

function withAuth(req: HttpRequest, authorization: string | undefined): HttpRequest {
  if (authorization === undefined) return req;
  return { ...req, headers: { ...(req.headers ?? {}), authorization } };
}

function withQuery(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.set(key, value);
  return u.toString();
}

/** The registry's own error text ({"errors":[{"code","message","detail"}]}), for messages. */
function registryErrorText(body: Buffer): string {
  if (body.length === 0) return "";
  try {
    const parsed = JSON.parse(body.toString("utf8")) as { errors?: { code?: string; message?: string }[] };
    const errors = parsed.errors ?? [];
    if (errors.length === 0) return "";
    return ` (${errors.map((e) => [e.code, e.message].filter(Boolean).join(": ")).join("; ")})`;
  } catch {
    return ` (${body.toString("utf8").slice(0, 200).trim()})`;
  }
}

/**
 * The roots registry TLS is verified against, when not Node's bundled ones: SSL_CERT_FILE, as
 * OpenSSL and Go (crane, docker, containerd) read it, replaces them; NODE_EXTRA_CA_CERTS is
 * still added then (Node adds it to its own roots; it keeps working either way). The files are
 * read at the first https request, so a plain-HTTP registry never reads them. Trusting an
 * explicit bundle this way, without NODE_EXTRA_CA_CERTS, spares every start of Node the parsing
 * of its whole root store (bench/RESULTS-protect-image.md).
 */
export function trustedRoots(env: Readonly<Record<string, string | undefined>>): string[] | undefined {
  const certFile = env["SSL_CERT_FILE"];
  if (certFile === undefined || certFile === "") return undefined;
  const extra = env["NODE_EXTRA_CA_CERTS"];
  return extra === undefined || extra === "" || extra === certFile ? [certFile] : [certFile, extra];
}
