// The bearer-token flow against the real registry: docker-registry configured with `auth: token`
// trusts RS256 JWTs from a token service — here a small one in the test, on 127.0.0.1, that
// checks the username and password like Docker Hub's auth.docker.io and grants the asked scopes.

import { createPrivateKey, randomBytes, sign } from "node:crypto";
import { readFileSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pushImage } from "../../src/oci/push.js";
import { RegistryClient } from "../../src/registry/client.js";
import { RegistryError } from "../../src/registry/errors.js";
import { resolveImageConfig } from "../../src/registry/image-config.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { testImage } from "./images.js";

let reg: TestRegistry;
let tokenServer: Server;
const tokenRequests: { scopes: string[]; user: string | null }[] = [];
const USER = "tokenuser";
const PASS = "token-pass";

const b64url = (b: Buffer | string): string => Buffer.from(b).toString("base64url");

function issue(scopes: string[], user: string): string {
  const certPem = readFileSync(reg.tokenCert ?? "", "utf8");
  const der = certPem.replace(/-----[^-]+-----/g, "").replace(/\s+/g, "");
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: "JWT", alg: "RS256", x5c: [der] };
  const claims = {
    iss: "vigil-test-issuer",
    sub: user,
    aud: "vigil-test-registry",
    exp: now + 300,
    nbf: now - 10,
    iat: now - 10,
    jti: randomBytes(8).toString("hex"),
    access: scopes.map((s) => {
      const [type, name, actions] = s.split(":");
      return { type, name, actions: (actions ?? "").split(",") };
    }),
  };
  const signing = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
  const signature = sign("sha256", Buffer.from(signing), createPrivateKey(readFileSync(reg.tokenKey ?? "")));
  return `${signing}.${b64url(signature)}`;
}

beforeAll(async () => {
  tokenServer = createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const scopes = url.searchParams.getAll("scope");
    const auth = req.headers.authorization ?? "";
    const [user, pass] = auth.startsWith("Basic ") ? Buffer.from(auth.slice(6), "base64").toString().split(":") : [null, null];
    tokenRequests.push({ scopes, user: user ?? null });
    if (user !== null && (user !== USER || pass !== PASS)) {
      res.writeHead(401, { "content-type": "application/json" }).end('{"details":"incorrect username or password"}');
      return;
    }
    // Anonymous callers get a token that grants nothing, as Docker Hub does for private repositories.
    const token = issue(user === null ? [] : scopes, user ?? "");
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token, access_token: token, expires_in: 300 }));
  });
  await new Promise<void>((r) => tokenServer.listen(0, "127.0.0.1", r));
  const port = (tokenServer.address() as AddressInfo).port;
  reg = await startRegistry({ tokenRealm: `http://127.0.0.1:${port}/token` });
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  await new Promise((r) => tokenServer?.close(r));
});

describe("bearer tokens with the real registry", () => {
  it("pushes (pull,push token), mounts (two scopes in one token) and resolves (pull token)", async () => {
    const client = new RegistryClient(reg.host, { caFile: reg.caFile, auth: { username: USER, password: PASS } });
    const image = testImage({ Entrypoint: ["/token"], Cmd: ["ok"] });
    await pushImage(client, "tok/app", image, "v1");
    expect(await client.pushBlob("tok/other", image.layers[0]?.bytes ?? Buffer.alloc(0), { mountFrom: "tok/app" })).toMatchObject({ result: "mounted" });
    const r = await resolveImageConfig(`${reg.host}/tok/app:v1`, { os: "linux", architecture: "amd64" }, { caFile: reg.caFile, auth: { username: USER, password: PASS } });
    expect(r).toMatchObject({ entrypoint: ["/token"], cmd: ["ok"], digest: image.manifest.digest });
    const asked = tokenRequests.map((t) => t.scopes.join(" "));
    expect(asked).toContain("repository:tok/app:pull,push");
    expect(asked).toContain("repository:tok/other:pull,push repository:tok/app:pull");
    expect(asked).toContain("repository:tok/app:pull");
  });

  it("requests sent at once that meet the same challenge share one token fetch", async () => {
    const client = new RegistryClient(reg.host, { caFile: reg.caFile, auth: { username: USER, password: PASS } });
    const image = testImage({ Entrypoint: ["/token"], Cmd: ["par"] }, { os: "linux", architecture: "amd64" }, "oci", "parallel");
    await pushImage(client, "tok/par", image, "v1");
    const fresh = new RegistryClient(reg.host, { caFile: reg.caFile, auth: { username: USER, password: PASS } });
    tokenRequests.length = 0;
    const found = await Promise.all(Array.from({ length: 6 }, () => fresh.hasBlob("tok/par", image.layers[0]?.digest ?? "")));
    expect(found).toEqual([true, true, true, true, true, true]);
    expect(tokenRequests.map((t) => t.scopes.join(" "))).toEqual(["repository:tok/par:pull"]);
  });

  it("a wrong password at the token service is a clear error", async () => {
    const error = await resolveImageConfig(`${reg.host}/tok/app:v1`, { os: "linux", architecture: "amd64" }, { caFile: reg.caFile, auth: { username: USER, password: "nope" } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toContain(`rejected the username "${USER}" and its password`);
  });

  it("an anonymous token that grants nothing ends in 'requires authentication'", async () => {
    const error = await resolveImageConfig(`${reg.host}/tok/app:v1`, { os: "linux", architecture: "amd64" }, { caFile: reg.caFile, env: { HOME: "/nonexistent" } }).catch((e: unknown) => e);
    expect((error as RegistryError).kind).toBe("unauthorized");
    expect((error as Error).message).toContain("requires authentication and no credentials were found");
  });
});
