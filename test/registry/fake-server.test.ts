// Behaviour a well-behaved registry never shows, proven with a tiny HTTP server on 127.0.0.1:
// corrupted blobs and manifests, 503/429 before success, the Docker Hub bearer-token flow, and
// ECR's GetAuthorizationToken call.

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { RegistryClient } from "../../src/registry/client.js";
import { sha256Digest } from "../../src/registry/digest.js";
import { ecrCredential, parseEcrHost } from "../../src/registry/ecr.js";
import { RegistryError } from "../../src/registry/errors.js";
import { resolveImageConfig } from "../../src/registry/image-config.js";
import { testImage } from "./images.js";

type Handler = (req: IncomingMessage, res: ServerResponse, body: Buffer) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function serve(handler: Handler): Promise<string> {
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => handler(req, res, Buffer.concat(chunks)));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return `127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const fast = { retry: { attempts: 4, baseDelayMs: 1, maxDelayMs: 5 } };
const amd64 = { os: "linux", architecture: "amd64" };
const noCreds = { HOME: "/nonexistent" };

/** Serves one image; `tamper` may change what a path returns. */
function imageServer(tamper: (path: string, body: Buffer) => Buffer = (_p, b) => b): Handler {
  const image = testImage({ Entrypoint: ["/srv"], Cmd: ["--x"] });
  const byPath = new Map<string, { type: string; body: Buffer }>([
    ["/v2/app/manifests/v1", { type: image.manifest.mediaType, body: image.manifest.bytes }],
    [`/v2/app/manifests/${image.manifest.digest}`, { type: image.manifest.mediaType, body: image.manifest.bytes }],
    [`/v2/app/blobs/${image.config.digest}`, { type: "application/octet-stream", body: image.config.bytes }],
  ]);
  return (req, res) => {
    const found = byPath.get(req.url ?? "");
    if (found === undefined) {
      res.writeHead(404, { "content-type": "application/json" }).end('{"errors":[{"code":"NOT_FOUND","message":"no"}]}');
      return;
    }
    res.writeHead(200, { "content-type": found.type }).end(tamper(req.url ?? "", found.body));
  };
}

describe("digest verification", () => {
  it("a corrupted config blob is detected", async () => {
    const host = await serve(imageServer((path, body) => (path.includes("/blobs/") ? Buffer.from(body.toString().replace("/srv", "/evil")) : body)));
    const error = await resolveImageConfig(`${host}/app:v1`, amd64, { insecure: true, env: noCreds, client: fast }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).kind).toBe("digest-mismatch");
    expect((error as Error).message).toMatch(/^blob 127\.0\.0\.1:\d+\/app@sha256:[0-9a-f]{64}: content does not match its digest \(expected sha256:[0-9a-f]{64}, received sha256:[0-9a-f]{64}, \d+ bytes\)/);
  });

  it("a manifest fetched by digest that does not hash to it is detected", async () => {
    const image = testImage({ Entrypoint: ["/srv"], Cmd: ["--x"] });
    const host = await serve(imageServer((path, body) => (path.includes("/manifests/sha256:") ? Buffer.concat([body, Buffer.from(" ")]) : body)));
    const error = await resolveImageConfig(`${host}/app@${image.manifest.digest}`, amd64, { insecure: true, env: noCreds, client: fast }).catch((e: unknown) => e);
    expect((error as RegistryError).kind).toBe("digest-mismatch");
  });

  it("a manifest that contradicts its Docker-Content-Digest header is detected", async () => {
    const host = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "application/vnd.oci.image.manifest.v1+json", "docker-content-digest": sha256Digest(Buffer.from("other")) });
      res.end('{"schemaVersion":2,"config":{"mediaType":"x","digest":"sha256:00","size":1},"layers":[]}');
    });
    const client = new RegistryClient(host, { insecure: true, env: noCreds, ...fast });
    await expect(client.getManifest("app", "v1")).rejects.toMatchObject({ kind: "digest-mismatch" });
  });

  it("the untampered server resolves", async () => {
    const host = await serve(imageServer());
    const r = await resolveImageConfig(`${host}/app:v1`, amd64, { insecure: true, env: noCreds, client: fast });
    expect(r).toMatchObject({ entrypoint: ["/srv"], cmd: ["--x"] });
  });
});

describe("retries", () => {
  it("503 twice, then success", async () => {
    const inner = imageServer();
    let failures = 0;
    const seen: string[] = [];
    const host = await serve((req, res, body) => {
      seen.push(req.url ?? "");
      if (req.url === "/v2/app/manifests/v1" && failures < 2) {
        failures++;
        res.writeHead(503).end("busy");
        return;
      }
      inner(req, res, body);
    });
    const r = await resolveImageConfig(`${host}/app:v1`, amd64, { insecure: true, env: noCreds, client: fast });
    expect(r.entrypoint).toEqual(["/srv"]);
    expect(seen.filter((u) => u === "/v2/app/manifests/v1")).toHaveLength(3);
  });

  it("429 with Retry-After: 0, then success", async () => {
    const inner = imageServer();
    let limited = false;
    const host = await serve((req, res, body) => {
      if (!limited) {
        limited = true;
        res.writeHead(429, { "retry-after": "0" }).end();
        return;
      }
      inner(req, res, body);
    });
    const r = await resolveImageConfig(`${host}/app:v1`, amd64, { insecure: true, env: noCreds, client: fast });
    expect(r.cmd).toEqual(["--x"]);
  });

  it("gives up after the bounded number of attempts", async () => {
    let count = 0;
    const host = await serve((_req, res) => {
      count++;
      res.writeHead(503).end();
    });
    const error = await resolveImageConfig(`${host}/app:v1`, amd64, { insecure: true, env: noCreds, client: fast }).catch((e: unknown) => e);
    expect((error as RegistryError).kind).toBe("http");
    expect((error as RegistryError).status).toBe(503);
    expect(count).toBe(4);
  });

  it("a 404 is not retried", async () => {
    let count = 0;
    const host = await serve((_req, res) => {
      count++;
      res.writeHead(404).end();
    });
    await expect(resolveImageConfig(`${host}/app:v1`, amd64, { insecure: true, env: noCreds, client: fast })).rejects.toMatchObject({ kind: "not-found" });
    expect(count).toBe(1);
  });
});

describe("bearer token flow (Docker Hub style)", () => {
  async function bearerRegistry(requireUser: { user: string; pass: string } | null) {
    const inner = imageServer();
    const tokenRequests: { scope: string[]; service: string | null; authorization: string | undefined }[] = [];
    let host = "";
    host = await serve((req, res, body) => {
      const url = new URL(req.url ?? "/", `http://${host}`);
      if (url.pathname === "/token") {
        tokenRequests.push({ scope: url.searchParams.getAll("scope"), service: url.searchParams.get("service"), authorization: req.headers.authorization });
        if (requireUser !== null) {
          const expected = `Basic ${Buffer.from(`${requireUser.user}:${requireUser.pass}`).toString("base64")}`;
          if (req.headers.authorization !== expected) {
            res.writeHead(401).end('{"details":"incorrect username or password"}');
            return;
          }
        }
        res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token: "T-" + url.searchParams.getAll("scope").join("+"), expires_in: 300 }));
        return;
      }
      if (!(req.headers.authorization ?? "").startsWith("Bearer T-repository:app:pull")) {
        res
          .writeHead(401, { "www-authenticate": `Bearer realm="http://${host}/token",service="fake.registry",scope="repository:app:pull"` })
          .end('{"errors":[{"code":"UNAUTHORIZED"}]}');
        return;
      }
      inner(req, res, body);
    });
    return { host, tokenRequests };
  }

  it("anonymous: gets a pull token for the repository and reuses it", async () => {
    const { host, tokenRequests } = await bearerRegistry(null);
    const r = await resolveImageConfig(`${host}/app:v1`, amd64, { insecure: true, env: noCreds, client: fast });
    expect(r.entrypoint).toEqual(["/srv"]);
    expect(tokenRequests).toEqual([{ scope: ["repository:app:pull"], service: "fake.registry", authorization: undefined }]);
  });

  it("with credentials: sends them to the token realm only", async () => {
    const { host, tokenRequests } = await bearerRegistry({ user: "u", pass: "p" });
    const r = await resolveImageConfig(`${host}/app:v1`, amd64, { insecure: true, auth: { username: "u", password: "p" }, client: fast });
    expect(r.cmd).toEqual(["--x"]);
    expect(tokenRequests.map((t) => t.authorization)).toEqual([`Basic ${Buffer.from("u:p").toString("base64")}`]);
  });

  it("a token service that refuses the password is a clear error", async () => {
    const { host } = await bearerRegistry({ user: "u", pass: "p" });
    const error = await resolveImageConfig(`${host}/app:v1`, amd64, { insecure: true, auth: { username: "u", password: "bad" }, client: fast }).catch((e: unknown) => e);
    expect((error as RegistryError).kind).toBe("unauthorized");
    expect((error as Error).message).toContain('rejected the username "u" and its password');
  });
});

describe("redirects", () => {
  it("a blob redirected to another origin is fetched without the Authorization header", async () => {
    const image = testImage({ Cmd: ["/redirected"] });
    const storageAuth: (string | undefined)[] = [];
    const storage = await serve((req, res) => {
      storageAuth.push(req.headers.authorization);
      res.writeHead(200).end(image.config.bytes);
    });
    const host = await serve((req, res) => {
      if (req.headers.authorization !== `Basic ${Buffer.from("u:p").toString("base64")}`) {
        res.writeHead(401, { "www-authenticate": 'Basic realm="x"' }).end();
        return;
      }
      if (req.url === "/v2/app/manifests/v1") res.writeHead(200, { "content-type": image.manifest.mediaType }).end(image.manifest.bytes);
      else if (req.url === `/v2/app/blobs/${image.config.digest}`) res.writeHead(307, { location: `http://${storage}/bucket/obj?sig=1` }).end();
      else res.writeHead(404).end();
    });
    const r = await resolveImageConfig(`${host}/app:v1`, amd64, { insecure: true, auth: { username: "u", password: "p" }, client: fast });
    expect(r.cmd).toEqual(["/redirected"]);
    expect(storageAuth).toEqual([undefined]);
  });
});

describe("ECR", () => {
  it("recognises ECR hosts", () => {
    expect(parseEcrHost("123456789012.dkr.ecr.eu-west-1.amazonaws.com")).toEqual({ account: "123456789012", region: "eu-west-1", fips: false });
    expect(parseEcrHost("123456789012.dkr-fips.ecr.us-gov-west-1.amazonaws.com")).toMatchObject({ fips: true });
    expect(parseEcrHost("123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn")).toMatchObject({ region: "cn-north-1" });
    expect(parseEcrHost("public.ecr.aws")).toBeNull();
    expect(parseEcrHost("docker.io")).toBeNull();
  });

  it("gets the password from GetAuthorizationToken, signed with SigV4 for the host's region", async () => {
    const calls: { target: string | undefined; authorization: string | undefined; body: string }[] = [];
    const endpoint = await serve((req, res, body) => {
      calls.push({ target: req.headers["x-amz-target"] as string | undefined, authorization: req.headers.authorization, body: body.toString() });
      res.writeHead(200, { "content-type": "application/x-amz-json-1.1" }).end(
        JSON.stringify({
          authorizationData: [{ authorizationToken: Buffer.from("AWS:ecr-secret-password").toString("base64"), expiresAt: 1_900_000_000, proxyEndpoint: "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com" }],
        }),
      );
    });
    const credential = await ecrCredential("123456789012.dkr.ecr.eu-west-1.amazonaws.com", {
      endpoint: `http://${endpoint}`,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    });
    expect(credential).toEqual({ kind: "basic", username: "AWS", password: "ecr-secret-password", source: "ECR GetAuthorizationToken" });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.target).toBe("AmazonEC2ContainerRegistry_V20150921.GetAuthorizationToken");
    expect(calls[0]?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/ecr\/aws4_request, SignedHeaders=.*, Signature=[0-9a-f]{64}$/);
  });

  it("an ECR refusal becomes an unauthorized error that says what the credentials need", async () => {
    const endpoint = await serve((_req, res) => {
      res.writeHead(400, { "content-type": "application/x-amz-json-1.1" }).end(JSON.stringify({ __type: "UnrecognizedClientException", message: "The security token included in the request is invalid." }));
    });
    const error = await ecrCredential("123456789012.dkr.ecr.eu-west-1.amazonaws.com", {
      endpoint: `http://${endpoint}`,
      credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "secret" },
    }).catch((e: unknown) => e);
    expect((error as RegistryError).kind).toBe("unauthorized");
    expect((error as Error).message).toContain("ecr:GetAuthorizationToken in eu-west-1");
    expect((error as Error).message).toContain("UnrecognizedClientException");
  });

  it("non-ECR hosts get no ECR credential and no SDK call", async () => {
    expect(await ecrCredential("registry.example.com")).toBeNull();
  });
});

describe("upload sessions opened ahead", () => {
  /** A registry that takes uploads and records every request as "METHOD path". */
  function uploadServer(log: string[]): Handler {
    let n = 0;
    return (req, res) => {
      const url = new URL(req.url ?? "", "http://x");
      log.push(`${req.method} ${url.pathname}`);
      if (req.method === "HEAD") return void res.writeHead(404).end();
      if (req.method === "POST") return void res.writeHead(202, { location: `/v2/app/blobs/uploads/s${++n}` }).end();
      if (req.method === "PUT") return void res.writeHead(201, { "docker-content-digest": url.searchParams.get("digest") ?? "" }).end();
      if (req.method === "DELETE") return void res.writeHead(204).end();
      res.writeHead(405).end();
    };
  }

  it("pushBlob takes an opened session (no POST, and with check: false no HEAD); the unused one is deleted", async () => {
    const log: string[] = [];
    const client = new RegistryClient(await serve(uploadServer(log)), { insecure: true, env: noCreds, ...fast });
    client.openUploads("app", 2);
    expect(await client.pushBlob("app", Buffer.from("config"), { check: false })).toMatchObject({ result: "uploaded" });
    await client.closeUnusedUploads();
    await client.closeUnusedUploads(); // nothing left: no second DELETE
    expect(log).toEqual(["POST /v2/app/blobs/uploads/", "POST /v2/app/blobs/uploads/", "PUT /v2/app/blobs/uploads/s1", "DELETE /v2/app/blobs/uploads/s2"]);
  });

  it("with the check, the HEAD goes alone and the upload uses the opened session; without sessions, POST as before", async () => {
    const log: string[] = [];
    const client = new RegistryClient(await serve(uploadServer(log)), { insecure: true, env: noCreds, ...fast });
    client.openUploads("app", 1);
    await client.pushBlob("app", Buffer.from("layer"));
    await client.pushBlob("app", Buffer.from("another"), { check: false });
    await client.closeUnusedUploads();
    const digest = sha256Digest(Buffer.from("layer"));
    expect(log.sort()).toEqual([`HEAD /v2/app/blobs/${digest}`, "POST /v2/app/blobs/uploads/", "POST /v2/app/blobs/uploads/", "PUT /v2/app/blobs/uploads/s1", "PUT /v2/app/blobs/uploads/s2"].sort());
  });
});

describe("streamed uploads (pushBlobStream)", () => {
  const data = Buffer.from("a streamed layer");
  const digest = sha256Digest(data);

  /** Answers the session POST only once the source has been opened (or after 2 s); records "METHOD path". */
  function streamServer(log: string[], sourceOpened: () => boolean, post: { status: number }): Handler {
    return (req, res) => {
      const url = new URL(req.url ?? "", "http://x");
      log.push(`${req.method} ${url.pathname}`);
      if (req.method === "HEAD") return void res.writeHead(404).end();
      if (req.method === "POST") {
        const started = Date.now();
        const answer = (): void => {
          if (!sourceOpened() && Date.now() - started < 2_000) return void setTimeout(answer, 5);
          log.push(`answered POST, source ${sourceOpened() ? "open" : "not open"}`);
          res.writeHead(post.status, { location: "/v2/app/blobs/uploads/s1" }).end();
        };
        return answer();
      }
      if (req.method === "PATCH") return void res.writeHead(202, { location: "/v2/app/blobs/uploads/s1" }).end();
      if (req.method === "PUT") return void res.writeHead(201, { "docker-content-digest": url.searchParams.get("digest") ?? "" }).end();
      if (req.method === "DELETE") return void res.writeHead(204).end();
      res.writeHead(405).end();
    };
  }

  it("the source is opened while the session's POST is on its way, not after its answer", async () => {
    const log: string[] = [];
    let opened = false;
    const client = new RegistryClient(await serve(streamServer(log, () => opened, { status: 202 })), { insecure: true, env: noCreds, ...fast });
    const open = async () => {
      opened = true;
      const { Readable } = await import("node:stream");
      return Readable.from([data]);
    };
    expect(await client.pushBlobStream("app", digest, data.length, open)).toBe("uploaded");
    expect(log).toEqual([`HEAD /v2/app/blobs/${digest}`, "POST /v2/app/blobs/uploads/", "answered POST, source open", "PATCH /v2/app/blobs/uploads/s1", "PUT /v2/app/blobs/uploads/s1"]);
  });

  it("a session that cannot be opened: the source is destroyed unread; a source that cannot be opened: the session is closed", async () => {
    const { Readable } = await import("node:stream");
    const log: string[] = [];
    let source: InstanceType<typeof Readable> | undefined;
    const refused = new RegistryClient(await serve(streamServer(log, () => source !== undefined, { status: 403 })), { insecure: true, env: noCreds, ...fast });
    await expect(refused.pushBlobStream("app", digest, data.length, () => (source = Readable.from([data])))).rejects.toThrow(/access denied/);
    expect(source?.destroyed).toBe(true);

    const log2: string[] = [];
    let tried = false;
    const client = new RegistryClient(await serve(streamServer(log2, () => tried, { status: 202 })), { insecure: true, env: noCreds, ...fast });
    const missing = () => {
      tried = true;
      return Promise.reject(new RegistryError("not-found", "source blob: not found", 404));
    };
    await expect(client.pushBlobStream("app", digest, data.length, missing)).rejects.toThrow(/source blob: not found/);
    expect(log2).toEqual([`HEAD /v2/app/blobs/${digest}`, "POST /v2/app/blobs/uploads/", "answered POST, source open", "DELETE /v2/app/blobs/uploads/s1"]);
  });
});
