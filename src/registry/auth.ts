// Answers a registry's 401 challenge: Basic (send the credentials) or Bearer (get a token for the
// needed scopes from the challenge's realm, anonymously or with the credentials — the Docker
// Hub flow — then send the token). Tokens are cached per scope set until they expire.

import { parseChallenges, type Challenge } from "./challenge.js";
import type { Credential } from "./credentials.js";
import { RegistryError } from "./errors.js";
import { type Transport } from "./http.js";

interface CachedToken {
  header: string;
  expiresAt: number;
}

export class Authorizer {
  private credential: Promise<Credential | null> | undefined;
  private challenge: Challenge | null = null;
  private readonly tokens = new Map<string, CachedToken>();
  private readonly pending = new Map<string, Promise<{ token: string; expiresIn: number }>>();

  constructor(
    private readonly registry: string,
    private readonly transport: Transport,
    private readonly lookup: () => Promise<Credential | null>,
    private readonly now: () => number = Date.now,
  ) {}

  /** What to send before any challenge has been seen for these scopes (undefined: nothing yet). */
  cachedHeader(scopes: readonly string[]): string | undefined {
    if (this.challenge === null) return undefined;
    if (this.challenge.scheme === "bearer") {
      const cached = this.tokens.get(scopeKey(scopes));
      return cached !== undefined && cached.expiresAt > this.now() ? cached.header : undefined;
    }
    return this.basicHeaderSync;
  }

  private basicHeaderSync: string | undefined;
  private preemptive: Promise<string | undefined> | undefined;

  /**
   * Before the registry has said how it authenticates: the Basic header of a username and password
   * found for this registry, sent with the first requests (over TLS only; the caller checks) instead
   * of waiting for each to come back 401 (one round trip less, as a Basic registry answers every
   * request without credentials with 401). A registry that wants a Bearer token answers 401 with
   * its challenge and is then served as usual; tokens (identity, bearer) are never sent ahead.
   */
  async preemptiveHeader(): Promise<string | undefined> {
    if (this.challenge !== null) return undefined;
    this.preemptive ??= this.getCredential().then(
      (credential) => (credential?.kind === "basic" ? basicHeader(credential) : undefined),
      () => undefined, // the lookup's error is reported at the first 401, as without this
    );
    const header = await this.preemptive;
    return this.challenge === null ? header : undefined;
  }

  /** Called on a 401: returns the Authorization header to retry with, or throws. */
  async authorize(wwwAuthenticate: string | undefined, scopes: readonly string[], alreadySent: string | undefined): Promise<string> {
    const challenges = wwwAuthenticate === undefined ? [] : parseChallenges(wwwAuthenticate);
    const challenge = challenges.find((c) => c.scheme === "bearer") ?? challenges.find((c) => c.scheme === "basic");
    if (challenge === undefined) {
      throw new RegistryError("unauthorized", `${this.registry} answered 401 without a Basic or Bearer challenge (WWW-Authenticate: ${wwwAuthenticate ?? "missing"})`, 401);
    }
    this.challenge = challenge;
    const credential = await this.getCredential();

    if (challenge.scheme === "basic") {
      if (credential === null) throw this.needsCredentials();
      if (credential.kind !== "basic") {
        throw new RegistryError("unauthorized", `${this.registry} asks for a username and password, but ${credential.source} holds a token`, 401);
      }
      const header = basicHeader(credential);
      if (alreadySent === header) throw this.rejected(credential);
      this.basicHeaderSync = header;
      return header;
    }

    if (credential?.kind === "bearer") {
      const header = `Bearer ${credential.token}`;
      if (alreadySent === header) throw this.rejected(credential);
      this.tokens.set(scopeKey(scopes), { header, expiresAt: Number.POSITIVE_INFINITY });
      return header;
    }
    const key = scopeKey(scopes);
    const cached = this.tokens.get(key);
    if (cached !== undefined && cached.expiresAt > this.now() && cached.header !== alreadySent) return cached.header;
    // Requests sent in parallel meet the same challenge at once: one token fetch answers them all.
    let pending = this.pending.get(key);
    if (pending === undefined) {
      pending = this.fetchToken(challenge, scopes, credential).finally(() => this.pending.delete(key));
      this.pending.set(key, pending);
    }
    const token = await pending;
    const header = `Bearer ${token.token}`;
    if (alreadySent === header) throw credential === null ? this.needsCredentials() : this.rejected(credential);
    // Renew a little early; registries commonly issue 60 s tokens (the spec's minimum).
    this.tokens.set(key, { header, expiresAt: this.now() + Math.max(0, token.expiresIn - 10) * 1000 });
    return header;
  }

  /** The final answer after a retried request is still 401. */
  stillUnauthorized(): Promise<RegistryError> {
    return this.getCredential().then((c) => (c === null ? this.needsCredentials() : this.rejected(c)));
  }

  private getCredential(): Promise<Credential | null> {
    this.credential ??= this.lookup();
    return this.credential;
  }

  private async fetchToken(challenge: Challenge, scopes: readonly string[], credential: Credential | null): Promise<{ token: string; expiresIn: number }> {
    const realm = challenge.params["realm"];
    if (realm === undefined || realm === "") {
      throw new RegistryError("unauthorized", `${this.registry} sent a Bearer challenge without a realm`, 401);
    }
    let url: URL;
    try {
      url = new URL(realm);
    } catch {
      throw new RegistryError("unauthorized", `${this.registry} sent a Bearer challenge with an invalid realm "${realm}"`, 401);
    }
    const service = challenge.params["service"];
    const asked = challenge.params["scope"];
    const wanted = mergeScopes([...scopes, ...(asked === undefined ? [] : asked.split(" "))]);

    let response;
    if (credential?.kind === "identity-token") {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: credential.token, client_id: "vigil" });
      if (service !== undefined) form.set("service", service);
      if (wanted.length > 0) form.set("scope", wanted.join(" "));
      response = await this.transport.request({
        method: "POST",
        url: url.toString(),
        headers: { "content-type": "application/x-www-form-urlencoded" },
        body: Buffer.from(form.toString()),
        maxBodyBytes: 1024 * 1024,
      });
    } else {
      if (service !== undefined) url.searchParams.set("service", service);
      for (const s of wanted) url.searchParams.append("scope", s);
      const headers: Record<string, string> = {};
      if (credential?.kind === "basic") {
        headers["authorization"] = `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
      }
      response = await this.transport.request({ method: "GET", url: url.toString(), headers, maxBodyBytes: 1024 * 1024 });
    }
    if (response.status === 401 || response.status === 403) {
      throw credential === null ? this.needsCredentials() : this.rejected(credential);
    }
    if (response.status !== 200) {
      throw new RegistryError("unauthorized", `token service ${url.origin}${url.pathname} for ${this.registry} answered ${response.status}: ${response.body.toString("utf8").slice(0, 300)}`, response.status);
    }
    let parsed: { token?: string; access_token?: string; expires_in?: number };
    try {
      parsed = JSON.parse(response.body.toString("utf8")) as typeof parsed;
    } catch {
      throw new RegistryError("bad-response", `token service for ${this.registry} did not answer JSON`);
    }
    const token = parsed.token ?? parsed.access_token;
    if (typeof token !== "string" || token === "") {
      throw new RegistryError("bad-response", `token service for ${this.registry} answered without a token`);
    }
    const expiresIn = typeof parsed.expires_in === "number" && parsed.expires_in > 0 ? parsed.expires_in : 60;
    return { token, expiresIn };
  }

  private needsCredentials(): RegistryError {
    return new RegistryError(
      "unauthorized",
      `${this.registry} requires authentication and no credentials were found; run \`docker login ${this.registry}\` or set VIGIL_REGISTRY_USERNAME and VIGIL_REGISTRY_PASSWORD`,
      401,
    );
  }

  private rejected(credential: Credential): RegistryError {
    const who = credential.kind === "basic" ? `the username "${credential.username}" and its password` : "the token";
    return new RegistryError("unauthorized", `${this.registry} rejected ${who} from ${credential.source}: wrong username or password, or no access`, 401);
  }
}

/**
 * Merges scopes per resource: the registry's challenge may repeat ours with the actions in
 * another order ("push,pull"), which must not become a second scope.
 */
export function mergeScopes(scopes: readonly string[]): string[] {
  const byResource = new Map<string, string[]>();
  for (const scope of scopes) {
    if (scope === "") continue;
    const cut = scope.lastIndexOf(":");
    if (cut <= 0) {
      if (!byResource.has(scope)) byResource.set(scope, []);
      continue;
    }
    const resource = scope.slice(0, cut);
    const actions = byResource.get(resource) ?? [];
    for (const action of scope.slice(cut + 1).split(",")) if (action !== "" && !actions.includes(action)) actions.push(action);
    byResource.set(resource, actions);
  }
  const order = (a: string): number => (a === "pull" ? 0 : a === "push" ? 1 : 2);
  return [...byResource].map(([resource, actions]) =>
    actions.length === 0 ? resource : `${resource}:${[...actions].sort((a, b) => order(a) - order(b) || a.localeCompare(b)).join(",")}`,
  );
}

function scopeKey(scopes: readonly string[]): string {
  return [...scopes].sort().join(" ");
}

function basicHeader(credential: { username: string; password: string }): string {
  return `Basic ${Buffer.from(`${credential.username}:${credential.password}`).toString("base64")}`;
}
