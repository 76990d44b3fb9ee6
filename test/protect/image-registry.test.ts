// vigil protect image / unprotect image against real registries (Debian's docker-registry, TLS +
// basic auth): the rewritten config, a no-op second protection, exact undo, per-platform indexes,
// no existing layer read within one registry (counted by a proxy), streamed copies between two.

import { mkdtempSync, rmSync, writeFileSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildImage, buildIndex, type BuiltImage } from "../../src/oci/image.js";
import { layerFromEntries } from "../../src/oci/layer.js";
import { pushImage, pushIndex } from "../../src/oci/push.js";
import { RegistryClient } from "../../src/registry/client.js";
import { parseManifest, type ImageIndex, type ImageManifest } from "../../src/registry/manifest.js";
import { run } from "../cli/helpers.js";
import { startCountingProxy, type CountingProxy } from "../helpers/counting-proxy.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";

let a: TestRegistry;
let b: TestRegistry;
let proxy: CountingProxy;
let client: RegistryClient;
let clientB: RegistryClient;
let caDir: string;
let env: Record<string, string>;
let REG: string;

const amd64 = { os: "linux", architecture: "amd64" };

/** An image with a few layers of some size, so a layer read would show in the proxy's counts. */
function appImage(config: Record<string, unknown>, platform: { os: string; architecture: string; variant?: string } = amd64, family: "oci" | "docker" = "oci"): BuiltImage {
  const layers = [1, 2, 3].map((n) =>
    layerFromEntries([{ type: "file", path: `app/part${n}-${platform.architecture}`, mode: 0o644, content: Buffer.alloc(50_000 * n, n) }]),
  );
  return buildImage({ platform, config, layers, family, created: "2024-01-02T03:04:05Z", history: layers.map((_, i) => ({ created_by: `layer ${i}` })) });
}

const cli = (argv: string[]) => run(argv, { env });

async function config(c: RegistryClient, ref: string): Promise<{ manifest: ImageManifest; config: Record<string, unknown>; configDigest: string }> {
  const [repo, tag] = ref.split(/[:@](?=[^/]*$)/) as [string, string];
  const m = await c.getManifest(repo, ref.includes("@") ? ref.slice(ref.indexOf("@") + 1) : tag);
  const parsed = parseManifest(m.bytes, m.mediaType, ref);
  if (parsed.kind !== "image") throw new Error("not an image");
  const blob = await c.getBlob(repo, parsed.manifest.config.digest);
  return { manifest: parsed.manifest, config: JSON.parse(blob.toString()) as Record<string, unknown>, configDigest: parsed.manifest.config.digest };
}

beforeAll(async () => {
  a = await startRegistry();
  b = await startRegistry();
  proxy = await startCountingProxy(a);
  REG = proxy.host;
  caDir = mkdtempSync(join(tmpdir(), "vigil-cas-"));
  writeFileSync(join(caDir, "cas.pem"), `${readFileSync(a.caFile ?? "")}${readFileSync(b.caFile ?? "")}`);
  env = { VIGIL_REGISTRY_USERNAME: a.username ?? "", VIGIL_REGISTRY_PASSWORD: a.password ?? "", DOCKER_CONFIG: caDir };
  const auth = { username: a.username ?? "", password: a.password ?? "" };
  client = new RegistryClient(REG, { caFile: a.caFile, auth });
  clientB = new RegistryClient(b.host, { caFile: b.caFile, auth });
  await pushImage(client, "app/web", appImage({ Entrypoint: ["/docker-entrypoint.sh"], Cmd: ["nginx", "-g", "daemon off;"], Env: ["PATH=/bin"] }), "v1");
  await pushImage(client, "app/docker", appImage({ Entrypoint: null, Cmd: ["/bin/sh", "-c", "a && b > /tmp/x"], Labels: null }, amd64, "docker"), "v1");
  const multi = buildIndex([
    appImage({ Cmd: ["/app/run"] }, amd64),
    appImage({ Cmd: ["/app/run"] }, { os: "linux", architecture: "arm64", variant: "v8" }),
    appImage({ Cmd: ["/app/run"] }, { os: "linux", architecture: "s390x" }),
  ]);
  await pushIndex(client, "app/multi", multi, "v1");
}, 120_000);

afterAll(async () => {
  await proxy?.close();
  await a?.stop();
  await b?.stop();
  if (caDir !== undefined) rmSync(caDir, { recursive: true, force: true });
});

const flags = () => ["--registry-ca", join(caDir, "cas.pem")];

describe("vigil protect image, registry to registry", () => {
  it("wraps the entry point, keeps Cmd, adds one layer; again: the same digest; unprotect: the original digests", async () => {
    const original = await config(client, "app/web:v1");
    const first = await cli(["protect", "image", `${REG}/app/web:v1`, `${REG}/app/web:protected`, ...flags()]);
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    const digest = first.stdout.trim();
    const p = await config(client, `app/web@${digest}`);
    const c = p.config["config"] as Record<string, unknown>;
    expect(c["Entrypoint"]).toEqual(["/vigil/enforcer", "--", "/docker-entrypoint.sh"]);
    expect(c["Cmd"]).toEqual(["nginx", "-g", "daemon off;"]);
    expect((c["Labels"] as Record<string, string>)["dev.vigil.original-entrypoint"]).toBe('["/docker-entrypoint.sh"]');
    expect(p.manifest.layers.slice(0, -1)).toEqual(original.manifest.layers);
    expect(p.manifest.layers).toHaveLength(4);
    expect(p.config["created"]).toBe("2024-01-02T03:04:05Z");

    const again = await cli(["protect", "image", `${REG}/app/web:protected`, `${REG}/app/web:protected-again`, ...flags()]);
    expect(again.stdout.trim()).toBe(digest);
    expect(again.stderr).toMatch(/already-protected/);

    const back = await cli(["unprotect", "image", `${REG}/app/web:protected`, `${REG}/app/web:restored`, ...flags()]);
    expect(back.code, back.stderr).toBe(0);
    const restored = await client.headManifest("app/web", "restored");
    const originalHead = await client.headManifest("app/web", "v1");
    expect(back.stdout.trim()).toBe(originalHead?.digest);
    expect(restored?.digest).toBe(originalHead?.digest);
    expect((await config(client, "app/web:restored")).configDigest).toBe(original.configDigest);
  });

  it("within one registry, no existing layer is read: same repository, or another (mounted)", async () => {
    const layers = (await config(client, "app/web:v1")).manifest.layers.map((l) => l.digest);
    proxy.log.length = 0;
    const r = await cli(["protect", "image", `${REG}/app/web:v1`, `${REG}/other/web:protected`, ...flags()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/3 mounted/);
    const gets = proxy.blobGets();
    expect(gets.filter((d) => layers.includes(d))).toEqual([]);
    expect(gets).toHaveLength(1); // the config
    const m = await config(client, "other/web:protected");
    expect(m.manifest.layers.slice(0, 3).map((l) => l.digest)).toEqual(layers);
  });

  it("a Docker v2 image keeps its media types and comes back byte for byte", async () => {
    const r = await cli(["protect", "image", `${REG}/app/docker:v1`, `${REG}/app/docker:p`, ...flags()]);
    expect(r.code, r.stderr).toBe(0);
    const p = await config(client, "app/docker:p");
    expect(p.manifest.mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    expect(p.manifest.layers.at(-1)?.mediaType).toBe("application/vnd.docker.image.rootfs.diff.tar.gzip");
    expect((p.config["config"] as Record<string, unknown>)["Entrypoint"]).toEqual(["/vigil/enforcer", "--"]);
    const back = await cli(["unprotect", "image", `${REG}/app/docker:p`, `${REG}/app/docker:back`, ...flags()]);
    expect(back.stdout.trim()).toBe((await client.headManifest("app/docker", "v1"))?.digest);
  });

  it("an index is protected per platform; a platform without an enforcer is kept, with a warning (refused with --strict)", async () => {
    const r = await cli(["protect", "image", `${REG}/app/multi:v1`, `${REG}/app/multi:p`, ...flags()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/linux\/amd64: protected/);
    expect(r.stderr).toMatch(/linux\/arm64\/v8: protected/);
    expect(r.stderr).toMatch(/linux\/s390x: unsupported-platform/);
    expect(r.stderr).toMatch(/warning: .*no enforcer for linux\/s390x.*kept unprotected/);
    const before = JSON.parse((await client.getManifest("app/multi", "v1")).bytes.toString()) as ImageIndex;
    const after = JSON.parse((await client.getManifest("app/multi", r.stdout.trim())).bytes.toString()) as ImageIndex;
    expect(after.manifests.map((m) => m.platform)).toEqual(before.manifests.map((m) => m.platform));
    expect(after.manifests[2]?.digest).toBe(before.manifests[2]?.digest);
    for (const [i, arch] of ["amd64", "arm64"].entries()) {
      const p = await config(client, `app/multi@${after.manifests[i]?.digest}`);
      expect(p.config["architecture"]).toBe(arch);
      expect((p.config["config"] as Record<string, unknown>)["Entrypoint"]).toEqual(["/vigil/enforcer", "--"]);
      const layer = await client.getBlob("app/multi", p.manifest.layers.at(-1)?.digest ?? "");
      const { gunzipSync } = await import("node:zlib");
      const { readTar } = await import("../../src/oci/tar.js");
      const enforcer = readTar(gunzipSync(layer)).find((e) => e.path === "vigil/enforcer");
      expect(enforcer?.content.readUInt16LE(18)).toBe(arch === "amd64" ? 62 : 183);
    }
    const strict = await cli(["protect", "image", `${REG}/app/multi:v1`, `${REG}/app/multi:strict`, "--strict", ...flags()]);
    expect(strict.code).toBe(2);
    expect(strict.stderr).toMatch(/no enforcer for linux\/s390x/);
    const back = await cli(["unprotect", "image", `${REG}/app/multi:p`, `${REG}/app/multi:back`, ...flags()]);
    expect(back.stdout.trim()).toBe((await client.headManifest("app/multi", "v1"))?.digest);
  });

  it("to another registry, every layer is streamed once and arrives intact", async () => {
    const layers = (await config(client, "app/web:v1")).manifest.layers.map((l) => l.digest);
    proxy.log.length = 0;
    const r = await cli(["protect", "image", `${REG}/app/web:v1`, `${b.host}/mirror/web:p`, ...flags()]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/3 copied/);
    expect(proxy.blobGets().filter((d) => layers.includes(d)).sort()).toEqual([...layers].sort());
    for (const d of layers) expect(await clientB.hasBlob("mirror/web", d)).toBe(true);
    const same = await cli(["protect", "image", `${REG}/app/web:v1`, `${REG}/app/web:protected`, ...flags()]);
    expect(r.stdout).toBe(same.stdout);
  });
});
