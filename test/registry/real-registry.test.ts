// The registry client against a real registry: Debian's docker-registry on 127.0.0.1 with TLS
// from a test CA and htpasswd basic auth (plus a plain-HTTP anonymous instance).

import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { rootCertificates } from "node:tls";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildIndex, type BuiltImage } from "../../src/oci/image.js";
import { pushImage, pushIndex } from "../../src/oci/push.js";
import { RegistryClient } from "../../src/registry/client.js";
import { sha256Digest } from "../../src/registry/digest.js";
import { RegistryError } from "../../src/registry/errors.js";
import { resolveImageConfig } from "../../src/registry/image-config.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { testImage } from "./images.js";

let reg: TestRegistry;
let plain: TestRegistry;
let client: RegistryClient;
let dockerConfigDir: string;
/** Environment whose only credentials are in a docker config.json `auths` entry. */
let env: Record<string, string>;

const amd64 = { os: "linux", architecture: "amd64" };
const arm64 = { os: "linux", architecture: "arm64" };

const cases: Record<string, BuiltImage> = {
  "entrypoint-only": testImage({ Entrypoint: ["/app/server", "--port", "80"] }),
  "cmd-only": testImage({ Cmd: ["nginx", "-g", "daemon off;"] }),
  both: testImage({ Entrypoint: ["/docker-entrypoint.sh"], Cmd: ["nginx", "-g", "daemon off;"], WorkingDir: "/srv", User: "101:101", Env: ["PATH=/usr/bin:/bin", "A=b c"] }),
  neither: testImage({ Env: ["PATH=/bin"] }),
  "shell-cmd": testImage({ Cmd: ["/bin/sh", "-c", "echo \"$HOME\" && exec app --flag='x y'"] }),
  "docker-v2": testImage({ Entrypoint: ["/e"], Cmd: ["c"] }, amd64, "docker"),
};

beforeAll(async () => {
  reg = await startRegistry();
  plain = await startRegistry({ http: true });
  client = new RegistryClient(reg.host, { caFile: reg.caFile, auth: { username: reg.username ?? "", password: reg.password ?? "" } });
  dockerConfigDir = await mkdtemp(path.join(tmpdir(), "vigil-docker-config-"));
  const auth = Buffer.from(`${reg.username}:${reg.password}`).toString("base64");
  await writeFile(path.join(dockerConfigDir, "config.json"), JSON.stringify({ auths: { [reg.host]: { auth } } }));
  env = { DOCKER_CONFIG: dockerConfigDir, HOME: dockerConfigDir };

  for (const [name, image] of Object.entries(cases)) await pushImage(client, `test/${name}`, image, "v1");
  const multi = buildIndex([
    testImage({ Cmd: ["/app/amd64"] }, amd64),
    testImage({ Entrypoint: ["/app/arm64"], Cmd: ["--arm"] }, { os: "linux", architecture: "arm64", variant: "v8" }),
  ]);
  await pushIndex(client, "test/multi", multi, "v1", { chunkSize: 100 });
  const list = buildIndex([testImage({ Cmd: ["/list/amd64"] }, amd64, "docker"), testImage({ Cmd: ["/list/arm64"] }, arm64, "docker")], "docker");
  await pushIndex(client, "test/multi-docker", list, "v1");
}, 120_000);

afterAll(async () => {
  await reg?.stop();
  await plain?.stop();
  if (dockerConfigDir !== undefined) await rm(dockerConfigDir, { recursive: true, force: true });
});

describe("resolveImageConfig against docker-registry (TLS + basic auth, credentials from docker config.json)", () => {
  const resolve = (ref: string, platform: { os: string; architecture: string; variant?: string } = amd64) => resolveImageConfig(`${reg.host}/${ref}`, platform, { caFile: reg.caFile, env });

  it("ENTRYPOINT only", async () => {
    const r = await resolve("test/entrypoint-only:v1");
    expect(r).toEqual({ entrypoint: ["/app/server", "--port", "80"], cmd: null, digest: cases["entrypoint-only"]?.manifest.digest, os: "linux", architecture: "amd64" });
  });

  it("CMD only, with an argument holding a space and a semicolon", async () => {
    const r = await resolve("test/cmd-only:v1");
    expect(r.entrypoint).toBeNull();
    expect(r.cmd).toEqual(["nginx", "-g", "daemon off;"]);
  });

  it("both, with WorkingDir, User and Env", async () => {
    const r = await resolve("test/both:v1");
    expect(r).toEqual({
      entrypoint: ["/docker-entrypoint.sh"],
      cmd: ["nginx", "-g", "daemon off;"],
      workingDir: "/srv",
      user: "101:101",
      env: ["PATH=/usr/bin:/bin", "A=b c"],
      digest: cases["both"]?.manifest.digest,
      os: "linux",
      architecture: "amd64",
    });
  });

  it("neither", async () => {
    const r = await resolve("test/neither:v1");
    expect(r.entrypoint).toBeNull();
    expect(r.cmd).toBeNull();
    expect(r.env).toEqual(["PATH=/bin"]);
  });

  it("shell-form CMD comes back as the /bin/sh -c argv Docker stored", async () => {
    const r = await resolve("test/shell-cmd:v1");
    expect(r.cmd).toEqual(["/bin/sh", "-c", "echo \"$HOME\" && exec app --flag='x y'"]);
  });

  it("Docker v2 schema 2 manifest", async () => {
    const r = await resolve("test/docker-v2:v1");
    expect(r.entrypoint).toEqual(["/e"]);
    expect(r.cmd).toEqual(["c"]);
  });

  it("by digest", async () => {
    const digest = cases["both"]?.manifest.digest ?? "";
    const r = await resolve(`test/both@${digest}`);
    expect(r.digest).toBe(digest);
    expect(r.entrypoint).toEqual(["/docker-entrypoint.sh"]);
  });

  it("an OCI index gives each platform its own config and manifest digest", async () => {
    const a = await resolve("test/multi:v1", amd64);
    const b = await resolve("test/multi:v1", arm64);
    const bv8 = await resolve("test/multi:v1", { os: "linux", architecture: "aarch64", variant: "v8" });
    const bEcs = await resolve("test/multi:v1", { os: "LINUX", architecture: "ARM64" });
    expect(a).toMatchObject({ entrypoint: null, cmd: ["/app/amd64"] });
    expect(b).toMatchObject({ entrypoint: ["/app/arm64"], cmd: ["--arm"] });
    expect(bv8).toEqual(b);
    expect(bEcs).toEqual(b);
    expect(a.digest).not.toBe(b.digest);
  });

  it("a Docker manifest list too", async () => {
    expect((await resolve("test/multi-docker:v1", amd64)).cmd).toEqual(["/list/amd64"]);
    expect((await resolve("test/multi-docker:v1", arm64)).cmd).toEqual(["/list/arm64"]);
  });

  it("a platform the index lacks is an error that lists what it offers", async () => {
    const error = await resolve("test/multi:v1", { os: "linux", architecture: "s390x" }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).kind).toBe("no-matching-platform");
    expect((error as Error).message).toContain("the index offers linux/amd64, linux/arm64/v8");
  });

  it("a single-platform image of another architecture is an error", async () => {
    const error = await resolve("test/both:v1", arm64).catch((e: unknown) => e);
    expect((error as RegistryError).kind).toBe("no-matching-platform");
    expect((error as Error).message).toMatch(/single-platform image for linux\/amd64, not linux\/arm64/);
  });

  it("a missing tag is not-found", async () => {
    const error = await resolve("test/both:nope").catch((e: unknown) => e);
    expect((error as RegistryError).kind).toBe("not-found");
    expect((error as Error).message).toContain("MANIFEST_UNKNOWN");
  });

  it("a wrong password is a clear error", async () => {
    const error = await resolveImageConfig(`${reg.host}/test/both:v1`, amd64, {
      caFile: reg.caFile,
      auth: { username: "vigil", password: "wrong" },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as RegistryError).kind).toBe("unauthorized");
    expect((error as Error).message).toBe(
      `${reg.host} rejected the username "vigil" and its password from the given username and password: wrong username or password, or no access`,
    );
  });

  it("a wrong password from the environment names where it came from", async () => {
    const error = await resolveImageConfig(`${reg.host}/test/both:v1`, amd64, {
      caFile: reg.caFile,
      env: { VIGIL_REGISTRY_USERNAME: "vigil", VIGIL_REGISTRY_PASSWORD: "nope", HOME: dockerConfigDir },
    }).catch((e: unknown) => e);
    expect((error as Error).message).toContain("from VIGIL_REGISTRY_USERNAME/VIGIL_REGISTRY_PASSWORD");
  });

  it("no credentials at all says how to give some", async () => {
    const error = await resolveImageConfig(`${reg.host}/test/both:v1`, amd64, { caFile: reg.caFile, env: { HOME: "/nonexistent" } }).catch((e: unknown) => e);
    expect((error as RegistryError).kind).toBe("unauthorized");
    expect((error as Error).message).toContain("requires authentication and no credentials were found");
  });

  it("without the test CA the TLS error says to pass --ca-file", async () => {
    const error = await resolveImageConfig(`${reg.host}/test/both:v1`, amd64, { env }).catch((e: unknown) => e);
    expect((error as RegistryError).kind).toBe("tls");
    expect((error as Error).message).toContain("--ca-file");
  });

  it("SSL_CERT_FILE replaces the bundled roots: the test CA alone is enough, no --ca-file", async () => {
    const result = await resolveImageConfig(`${reg.host}/test/both:v1`, amd64, { env: { ...env, SSL_CERT_FILE: reg.caFile ?? "" } });
    expect(result.cmd).toEqual(["nginx", "-g", "daemon off;"]);
  });

  it("SSL_CERT_FILE without the registry's CA is a TLS error (Node's roots are not added)", async () => {
    const other = path.join(dockerConfigDir, "other-ca.pem");
    await writeFile(other, rootCertificates[0] ?? "");
    const error = await resolveImageConfig(`${reg.host}/test/both:v1`, amd64, { env: { ...env, SSL_CERT_FILE: other } }).catch((e: unknown) => e);
    expect((error as RegistryError).kind).toBe("tls");
  });

  it("SSL_CERT_FILE plus --ca-file trusts both; NODE_EXTRA_CA_CERTS is added to SSL_CERT_FILE", async () => {
    const other = path.join(dockerConfigDir, "other-ca.pem");
    await writeFile(other, rootCertificates[0] ?? "");
    await expect(resolveImageConfig(`${reg.host}/test/both:v1`, amd64, { caFile: reg.caFile, env: { ...env, SSL_CERT_FILE: other } })).resolves.toBeDefined();
    await expect(resolveImageConfig(`${reg.host}/test/both:v1`, amd64, { env: { ...env, SSL_CERT_FILE: other, NODE_EXTRA_CA_CERTS: reg.caFile ?? "" } })).resolves.toBeDefined();
  });

  it("an unreadable SSL_CERT_FILE is a clear error", async () => {
    const error = await resolveImageConfig(`${reg.host}/test/both:v1`, amd64, { env: { ...env, SSL_CERT_FILE: "/nonexistent/ca.pem" } }).catch((e: unknown) => e);
    expect((error as RegistryError).kind).toBe("config");
    expect((error as Error).message).toContain("cannot read the CA file /nonexistent/ca.pem");
  });
});

describe("uploads and mounts against docker-registry", () => {
  it("chunked upload, then a cross-repository mount, then reads back verified", async () => {
    const data = Buffer.alloc(300_001, 7);
    data.write("vigil chunked upload", 0);
    const up = await client.pushBlob("test/chunks", data, { chunkSize: 64 * 1024 });
    expect(up).toEqual({ digest: sha256Digest(data), result: "uploaded" });
    expect(await client.pushBlob("test/chunks", data)).toEqual({ digest: up.digest, result: "exists" });
    expect(await client.pushBlob("test/mounted", data, { mountFrom: "test/chunks" })).toEqual({ digest: up.digest, result: "mounted" });
    expect((await client.getBlob("test/mounted", up.digest)).equals(data)).toBe(true);
  });

  it("a mount from a repository without the blob falls back to an upload", async () => {
    const data = Buffer.from("not anywhere yet");
    expect(await client.pushBlob("test/fallback", data, { mountFrom: "test/empty-repo" })).toMatchObject({ result: "uploaded" });
    expect(await client.hasBlob("test/fallback", sha256Digest(data))).toBe(true);
  });

  it("a manifest whose blobs are missing is refused by the registry", async () => {
    const image = testImage({ Cmd: ["x"] }, amd64, "oci", "never-pushed-layer");
    const error = await client.putManifest("test/orphan", "v1", image.manifest.bytes, image.manifest.mediaType).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RegistryError);
    expect((error as Error).message).toContain("MANIFEST_BLOB_UNKNOWN");
  });
});

describe("plain-HTTP anonymous registry", () => {
  it("pushes and resolves without credentials", async () => {
    const anon = new RegistryClient(plain.host, { insecure: true, env: { HOME: "/nonexistent" } });
    await pushImage(anon, "anon/app", testImage({ Entrypoint: ["/a"], Cmd: ["b"] }), "latest");
    const r = await resolveImageConfig(`${plain.host}/anon/app`, amd64, { insecure: true, env: { HOME: "/nonexistent" } });
    expect(r.entrypoint).toEqual(["/a"]);
    expect(r.cmd).toEqual(["b"]);
  });

  it("talking TLS to it says it is plain HTTP", async () => {
    const error = await resolveImageConfig(`${plain.host}/anon/app`, amd64, { env: { HOME: "/nonexistent" } }).catch((e: unknown) => e);
    expect((error as RegistryError).kind).toBe("tls");
    expect((error as Error).message).toContain("--insecure");
  });
});
