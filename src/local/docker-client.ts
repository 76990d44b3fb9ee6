// A small Docker Engine API client over node:http: the unix socket (or DOCKER_HOST), JSON in and
// out, streams for logs and exec. Only what `vigil local run` needs; no dependency.

import http from "node:http";
import type { IncomingMessage } from "node:http";
import type { DockerEndpoint } from "./docker-host.js";
import { StreamDemuxer, type StreamFrame } from "./docker-stream.js";

/** The API version every request names (Docker Engine 20.10, Debian 12's docker.io, speaks it). */
export const DOCKER_API_VERSION = "1.41";

export class DockerApiError extends Error {
  override readonly name = "DockerApiError";
  constructor(
    readonly status: number,
    readonly method: string,
    readonly path: string,
    readonly detail: string,
  ) {
    super(`Docker Engine: ${method} ${path}: ${status === 0 ? "" : `${status} `}${detail}`);
  }
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** A raw body (e.g. a tar for image import) instead of JSON. */
  raw?: { data: Buffer; contentType: string };
  signal?: AbortSignal;
  timeoutMs?: number;
  /** Extra request headers (e.g. X-Registry-Auth). */
  headers?: Record<string, string>;
}

export interface ImageInspect {
  Id: string;
  RepoTags?: string[] | null;
  Architecture?: string;
  Os?: string;
  Config?: {
    Entrypoint?: string[] | null;
    Cmd?: string[] | null;
    Env?: string[] | null;
    WorkingDir?: string;
    User?: string;
    Volumes?: Record<string, object> | null;
    StopSignal?: string;
  } | null;
}

export interface ContainerInspect {
  Id: string;
  Name: string;
  State: {
    Status: string;
    Running: boolean;
    ExitCode: number;
    OOMKilled: boolean;
    Error: string;
    StartedAt: string;
    FinishedAt: string;
  };
  Mounts?: { Type: string; Name?: string; Source: string; Destination: string; RW: boolean }[];
  Config?: { Labels?: Record<string, string> | null };
}

export interface ContainerSummary {
  Id: string;
  Names: string[];
  State: string;
  Labels: Record<string, string>;
  Mounts?: { Type: string; Name?: string }[];
}

export interface VolumeSummary {
  Name: string;
  Labels: Record<string, string> | null;
}

export class DockerClient {
  constructor(readonly endpoint: DockerEndpoint) {}

  /** Sends a request; resolves with the raw response once the whole body is read. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<{ status: number; body: Buffer }> {
    const res = await this.open(method, path, options);
    const chunks: Buffer[] = [];
    for await (const chunk of res) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks);
    const status = res.statusCode ?? 0;
    if (status >= 400) throw new DockerApiError(status, method, path, errorMessage(body));
    return { status, body };
  }

  async json<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const { body } = await this.request(method, path, options);
    return (body.length === 0 ? null : JSON.parse(body.toString("utf8"))) as T;
  }

  /** Opens a request and resolves with the response as soon as its headers arrive (for streams). */
  open(method: string, path: string, options: RequestOptions = {}): Promise<IncomingMessage> {
    const fullPath = `/v${DOCKER_API_VERSION}${path}${queryString(options.query)}`;
    const headers: Record<string, string> = { ...options.headers, Host: "docker" };
    let payload: Buffer | undefined;
    if (options.raw !== undefined) {
      payload = options.raw.data;
      headers["Content-Type"] = options.raw.contentType;
    } else if (options.body !== undefined) {
      payload = Buffer.from(JSON.stringify(options.body), "utf8");
      headers["Content-Type"] = "application/json";
    }
    if (payload !== undefined) headers["Content-Length"] = String(payload.length);
    const target =
      this.endpoint.kind === "unix"
        ? { socketPath: this.endpoint.socketPath }
        : { host: this.endpoint.host, port: this.endpoint.port };
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = http.request({ ...target, method, path: fullPath, headers, signal: options.signal }, (res) => {
        if (timer !== undefined) clearTimeout(timer);
        resolve(res);
      });
      const timer =
        options.timeoutMs === undefined
          ? undefined
          : setTimeout(() => req.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (timer !== undefined) clearTimeout(timer);
        reject(new DockerApiError(0, method, path, connectionHint(error, this.endpoint)));
      });
      req.end(payload);
    });
  }

  // --- system ---------------------------------------------------------------------------------
  async ping(timeoutMs = 10_000): Promise<void> {
    await this.request("GET", "/_ping", { timeoutMs });
  }

  // --- images ---------------------------------------------------------------------------------
  /** The image's config, or null when the engine does not have it. */
  async imageInspect(ref: string): Promise<ImageInspect | null> {
    try {
      return await this.json<ImageInspect>("GET", `/images/${encodeURIComponent(ref)}/json`);
    } catch (error) {
      if (error instanceof DockerApiError && error.status === 404) return null;
      throw error;
    }
  }

  /**
   * Pulls an image; the engine reports failures inside its JSON progress stream. `registryAuth`
   * is the X-Registry-Auth value (see `registryAuthHeader`): the engine does not read the
   * client's credentials itself.
   */
  async imagePull(ref: string, signal?: AbortSignal, registryAuth?: string): Promise<void> {
    const { name, tag, digest } = splitReference(ref);
    const query = { fromImage: name, tag: digest ?? tag ?? "latest" };
    const headers = registryAuth === undefined ? undefined : { "X-Registry-Auth": registryAuth };
    const res = await this.open("POST", "/images/create", { query, signal, ...(headers === undefined ? {} : { headers }) });
    let text = "";
    for await (const chunk of res) text += (chunk as Buffer).toString("utf8");
    if ((res.statusCode ?? 0) >= 400) throw new DockerApiError(res.statusCode ?? 0, "POST", "/images/create", errorMessage(Buffer.from(text)));
    for (const line of text.split("\n")) {
      if (line.trim() === "") continue;
      const msg = JSON.parse(line) as { error?: string; errorDetail?: { message?: string } };
      if (msg.error !== undefined) throw new DockerApiError(0, "POST", `/images/create?fromImage=${ref}`, msg.errorDetail?.message ?? msg.error);
    }
  }

  /** `docker import`: a root file system tar becomes the image `repo:tag`, with Dockerfile `changes`. */
  async imageImport(tar: Buffer, repo: string, tag: string, changes: readonly string[]): Promise<void> {
    const query: Record<string, string> = { fromSrc: "-", repo, tag };
    // `changes` is a repeated query parameter; build it by hand.
    const extra = changes.map((c) => `&changes=${encodeURIComponent(c)}`).join("");
    const res = await this.open("POST", `/images/create?${new URLSearchParams(query).toString()}${extra}`, {
      raw: { data: tar, contentType: "application/x-tar" },
    });
    let text = "";
    for await (const chunk of res) text += (chunk as Buffer).toString("utf8");
    if ((res.statusCode ?? 0) >= 400) throw new DockerApiError(res.statusCode ?? 0, "POST", "/images/create", errorMessage(Buffer.from(text)));
    if (text.includes('"error"')) throw new DockerApiError(0, "POST", "/images/create (import)", text.trim());
  }

  // --- containers -----------------------------------------------------------------------------
  async containerCreate(name: string, body: object): Promise<string> {
    const r = await this.json<{ Id: string }>("POST", "/containers/create", { query: { name }, body });
    return r.Id;
  }

  async containerStart(id: string): Promise<void> {
    await this.request("POST", `/containers/${id}/start`);
  }

  /** Waits until the container is not running; resolves with its exit code. */
  async containerWait(id: string, signal?: AbortSignal): Promise<number> {
    const r = await this.json<{ StatusCode: number; Error?: { Message?: string } | null }>("POST", `/containers/${id}/wait`, {
      query: { condition: "not-running" },
      signal,
    });
    return r.StatusCode;
  }

  /** `docker stop`: the container's stop signal, then SIGKILL after `timeoutSeconds`. */
  async containerStop(id: string, timeoutSeconds: number): Promise<void> {
    try {
      await this.request("POST", `/containers/${id}/stop`, { query: { t: timeoutSeconds } });
    } catch (error) {
      // 304: already stopped; 404: already gone.
      if (error instanceof DockerApiError && (error.status === 304 || error.status === 404)) return;
      throw error;
    }
  }

  async containerKill(id: string, signal: string): Promise<void> {
    try {
      await this.request("POST", `/containers/${id}/kill`, { query: { signal } });
    } catch (error) {
      if (error instanceof DockerApiError && (error.status === 404 || error.status === 409)) return;
      throw error;
    }
  }

  /** Removes a container (forced) and its anonymous volumes; a container already gone is fine. */
  async containerRemove(id: string): Promise<void> {
    try {
      await this.request("DELETE", `/containers/${id}`, { query: { force: true, v: true } });
    } catch (error) {
      if (error instanceof DockerApiError && error.status === 404) return;
      throw error;
    }
  }

  async containerInspect(id: string): Promise<ContainerInspect> {
    return this.json<ContainerInspect>("GET", `/containers/${id}/json`);
  }

  async containerList(labelFilter: string): Promise<ContainerSummary[]> {
    return this.json<ContainerSummary[]>("GET", "/containers/json", {
      query: { all: true, filters: JSON.stringify({ label: [labelFilter] }) },
    });
  }

  /** Follows a container's stdout and stderr from its start; `onFrame` gets every frame. Resolves at the end. */
  async containerLogs(id: string, onFrame: (frame: StreamFrame) => void, signal?: AbortSignal): Promise<void> {
    const res = await this.open("GET", `/containers/${id}/logs`, {
      query: { follow: true, stdout: true, stderr: true },
      signal,
    });
    if ((res.statusCode ?? 0) >= 400) {
      let text = "";
      for await (const chunk of res) text += (chunk as Buffer).toString("utf8");
      throw new DockerApiError(res.statusCode ?? 0, "GET", `/containers/${id}/logs`, errorMessage(Buffer.from(text)));
    }
    const demux = new StreamDemuxer();
    for await (const chunk of res) for (const frame of demux.push(chunk as Buffer)) onFrame(frame);
  }

  // --- exec -----------------------------------------------------------------------------------
  /** Runs a command in a running container; resolves with its exit code and output. */
  async exec(id: string, cmd: readonly string[], options: { user?: string; timeoutMs: number }): Promise<{ exitCode: number | null; stdout: string; stderr: string; timedOut: boolean }> {
    const created = await this.json<{ Id: string }>("POST", `/containers/${id}/exec`, {
      body: { Cmd: cmd, AttachStdout: true, AttachStderr: true, ...(options.user === undefined ? {} : { User: options.user }) },
    });
    const controller = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, options.timeoutMs);
    let stdout = "";
    let stderr = "";
    try {
      const res = await this.open("POST", `/exec/${created.Id}/start`, { body: { Detach: false, Tty: false }, signal: controller.signal });
      const demux = new StreamDemuxer();
      for await (const chunk of res) {
        for (const f of demux.push(chunk as Buffer)) {
          if (f.stream === "stderr") stderr += f.data.toString("utf8");
          else stdout += f.data.toString("utf8");
        }
      }
    } catch (error) {
      if (!timedOut) throw error;
    } finally {
      clearTimeout(timer);
    }
    if (timedOut) return { exitCode: null, stdout, stderr, timedOut };
    const inspected = await this.json<{ ExitCode: number | null; Running: boolean }>("GET", `/exec/${created.Id}/json`);
    return { exitCode: inspected.ExitCode, stdout, stderr, timedOut };
  }

  // --- volumes --------------------------------------------------------------------------------
  async volumeCreate(name: string, labels: Record<string, string>): Promise<void> {
    await this.request("POST", "/volumes/create", { body: { Name: name, Labels: labels } });
  }

  async volumeRemove(name: string): Promise<void> {
    try {
      await this.request("DELETE", `/volumes/${encodeURIComponent(name)}`, { query: { force: true } });
    } catch (error) {
      if (error instanceof DockerApiError && error.status === 404) return;
      throw error;
    }
  }

  async volumeList(labelFilter: string): Promise<VolumeSummary[]> {
    const r = await this.json<{ Volumes: VolumeSummary[] | null }>("GET", "/volumes", {
      query: { filters: JSON.stringify({ label: [labelFilter] }) },
    });
    return r.Volumes ?? [];
  }
}

/**
 * The X-Registry-Auth header for a pull: base64 (URL alphabet, padded, as the engine decodes it)
 * of the JSON auth config.
 */
export function registryAuthHeader(auth: { username: string; password: string } | { identitytoken: string } | { registrytoken: string }, serveraddress: string): string {
  const json = JSON.stringify("registrytoken" in auth ? auth : { ...auth, serveraddress });
  return Buffer.from(json, "utf8").toString("base64").replace(/\+/g, "-").replace(/\//g, "_");
}

/** `name[:tag][@digest]`, where a registry host may carry a port. */
export function splitReference(ref: string): { name: string; tag: string | null; digest: string | null } {
  let rest = ref;
  let digest: string | null = null;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  const slash = rest.lastIndexOf("/");
  const colon = rest.lastIndexOf(":");
  if (colon > slash) return { name: rest.slice(0, colon), tag: rest.slice(colon + 1), digest };
  return { name: rest, tag: null, digest };
}

function queryString(query: RequestOptions["query"]): string {
  if (query === undefined) return "";
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
  const s = params.toString();
  return s === "" ? "" : `?${s}`;
}

function errorMessage(body: Buffer): string {
  const text = body.toString("utf8").trim();
  try {
    const parsed = JSON.parse(text) as { message?: unknown };
    if (typeof parsed.message === "string") return parsed.message;
  } catch {
    // not JSON: the text itself
  }
  return text === "" ? "(no message)" : text;
}

function connectionHint(error: NodeJS.ErrnoException, endpoint: DockerEndpoint): string {
  const where = endpoint.kind === "unix" ? endpoint.socketPath : `${endpoint.host}:${endpoint.port}`;
  if (error.code === "ENOENT" || error.code === "ECONNREFUSED") {
    return `cannot reach the Docker Engine at ${where} (${error.code}): is dockerd running? (scripts/docker-engine.sh starts one; DOCKER_HOST names another)`;
  }
  if (error.code === "EACCES") return `permission denied on ${where}: run as root or as a member of the docker group`;
  if (error.name === "AbortError") return "aborted";
  return `${where}: ${error.message}`;
}
