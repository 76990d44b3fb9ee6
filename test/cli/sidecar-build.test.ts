// vigil sidecar build: the OCI layout tar (deterministic, every blob checked, docker load-able and
// runnable on the real Docker Engine) and --push to a real registry, pulled back and compared.

import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTar, writeTar, type ReadEntry } from "../../src/oci/tar.js";
import { RegistryClient } from "../../src/registry/client.js";
import { sha256Digest } from "../../src/registry/digest.js";
import { resolveImageConfig } from "../../src/registry/image-config.js";
import type { ImageIndex, ImageManifest } from "../../src/registry/manifest.js";
import { PACKAGE_ROOT } from "../../src/runner/locate-enforcer.js";
import { Docker, ensureDockerEngine } from "../helpers/docker.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { freshDir, run } from "./helpers.js";

const ENFORCERS = join(PACKAGE_ROOT, "dist", "enforcer");
const binary = (arch: string): Buffer => readFileSync(join(ENFORCERS, `linux-${arch}`, "vigil-enforcer"));

interface Layout {
  files: Map<string, ReadEntry>;
  blob(digest: string): Buffer;
  json<T>(digest: string): T;
}

function openLayout(tar: Buffer): Layout {
  const files = new Map(readTar(tar).map((e) => [e.path, e]));
  const blob = (digest: string): Buffer => {
    const entry = files.get(`blobs/${digest.replace(":", "/")}`);
    if (entry === undefined) throw new Error(`blob ${digest} missing from the layout`);
    return entry.content;
  };
  return { files, blob, json: <T>(digest: string) => JSON.parse(blob(digest).toString()) as T };
}

function layerFiles(gz: Buffer): ReadEntry[] {
  return readTar(gunzipSync(gz));
}

describe("vigil sidecar build -o", () => {
  it("writes the same bytes every time, and says its index digest", async () => {
    const dir = freshDir();
    const a = await run(["sidecar", "build", "-o", "a.tar"], { cwd: dir });
    const b = await run(["sidecar", "build", "--output=b.tar"], { cwd: dir });
    expect(a).toMatchObject({ code: 0, stderr: "" });
    expect(a.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(b.stdout).toBe(a.stdout);
    expect(readFileSync(join(dir, "a.tar")).equals(readFileSync(join(dir, "b.tar")))).toBe(true);
  });

  it("holds an OCI index for linux/amd64 and linux/arm64 with the real enforcers, VOLUME /vigil and a --noop command", async () => {
    const dir = freshDir();
    const result = await run(["sidecar", "build", "-o", "s.tar"], { cwd: dir });
    const layout = openLayout(readFileSync(join(dir, "s.tar")));

    // Every blob hashes to its name.
    for (const [path, entry] of layout.files) {
      if (path.startsWith("blobs/sha256/")) expect(sha256Digest(entry.content)).toBe(`sha256:${path.slice("blobs/sha256/".length)}`);
    }
    expect(JSON.parse(layout.files.get("oci-layout")?.content.toString() ?? "")).toEqual({ imageLayoutVersion: "1.0.0" });
    const top = JSON.parse(layout.files.get("index.json")?.content.toString() ?? "") as ImageIndex;
    expect(top.manifests).toHaveLength(1);
    expect(top.manifests[0]?.digest).toBe(result.stdout.trim());
    expect(top.manifests[0]?.annotations?.["org.opencontainers.image.ref.name"]).toBe("0.1.0");

    const index = layout.json<ImageIndex>(top.manifests[0]?.digest ?? "");
    expect(index.mediaType).toBe("application/vnd.oci.image.index.v1+json");
    expect(index.manifests.map((m) => m.platform)).toEqual([
      { os: "linux", architecture: "amd64" },
      { os: "linux", architecture: "arm64", variant: "v8" },
    ]);
    for (const [i, arch] of ["amd64", "arm64"].entries()) {
      const manifest = layout.json<ImageManifest>(index.manifests[i]?.digest ?? "");
      const config = layout.json<{ architecture: string; os: string; config: Record<string, unknown>; rootfs: { diff_ids: string[] } }>(manifest.config.digest);
      expect(config.architecture).toBe(arch);
      expect(config.os).toBe("linux");
      expect(config.config["Cmd"]).toEqual(["/vigil/enforcer", "--noop"]);
      expect(config.config["Entrypoint"]).toBeUndefined();
      expect(config.config["Volumes"]).toEqual({ "/vigil": {} });
      expect(manifest.layers).toHaveLength(1);
      const layer = layout.blob(manifest.layers[0]?.digest ?? "");
      expect(config.rootfs.diff_ids).toEqual([sha256Digest(gunzipSync(layer))]);
      const files = layerFiles(layer);
      expect(files.map((f) => [f.path, f.type, f.mode, f.uid, f.gid, f.mtime])).toEqual([
        ["vigil", "dir", 0o755, 0, 0, 0],
        ["vigil/enforcer", "file", 0o755, 0, 0, 0],
      ]);
      expect(files[1]?.content.equals(binary(arch))).toBe(true);
    }

    // docker load (Docker < 25) reads manifest.json: the amd64 image by default.
    const dockerManifest = JSON.parse(layout.files.get("manifest.json")?.content.toString() ?? "") as { Config: string; RepoTags: string[]; Layers: string[] }[];
    const amd64 = layout.json<ImageManifest>(index.manifests[0]?.digest ?? "");
    expect(dockerManifest).toEqual([
      { Config: `blobs/${amd64.config.digest.replace(":", "/")}`, RepoTags: ["vigil-sidecar:0.1.0"], Layers: [`blobs/${amd64.layers[0]?.digest.replace(":", "/")}`] },
    ]);
  });

  it("the digest follows the binaries: same binaries, same digest; another binary, another digest", async () => {
    const dir = freshDir();
    const copy = (to: string, amd64From = join(ENFORCERS, "linux-amd64", "vigil-enforcer")): string => {
      for (const arch of ["amd64", "arm64"]) mkdirSync(join(dir, to, `linux-${arch}`), { recursive: true });
      copyFileSync(amd64From, join(dir, to, "linux-amd64", "vigil-enforcer"));
      copyFileSync(join(ENFORCERS, "linux-arm64", "vigil-enforcer"), join(dir, to, "linux-arm64", "vigil-enforcer"));
      return join(dir, to);
    };
    const bundled = await run(["sidecar", "build", "-o", "x.tar"], { cwd: dir });
    const same = await run(["sidecar", "build", "-o", "y.tar", "--enforcer-dir", copy("same")], { cwd: dir });
    expect(same.stdout).toBe(bundled.stdout);
    const changed = Buffer.from(binary("amd64"));
    changed[changed.length - 1] = (changed[changed.length - 1] ?? 0) ^ 1;
    writeFileSync(join(dir, "changed"), changed);
    const other = await run(["sidecar", "build", "-o", "z.tar", "--enforcer-dir", copy("other", join(dir, "changed"))], { cwd: dir });
    expect(other.code).toBe(0);
    expect(other.stdout).not.toBe(bundled.stdout);
  });

  it("refuses a dynamically linked or wrong-architecture enforcer", async () => {
    const dir = freshDir();
    for (const arch of ["amd64", "arm64"]) mkdirSync(join(dir, "e", `linux-${arch}`), { recursive: true });
    copyFileSync("/bin/ls", join(dir, "e", "linux-amd64", "vigil-enforcer"));
    copyFileSync(join(ENFORCERS, "linux-arm64", "vigil-enforcer"), join(dir, "e", "linux-arm64", "vigil-enforcer"));
    const dynamic = await run(["sidecar", "build", "-o", "x.tar", "--enforcer-dir", "e"], { cwd: dir });
    expect(dynamic.code).toBe(2);
    expect(dynamic.stderr).toContain("linux-amd64/vigil-enforcer: dynamically linked (has a program interpreter); the sidecar needs a static binary");

    copyFileSync(join(ENFORCERS, "linux-arm64", "vigil-enforcer"), join(dir, "e", "linux-amd64", "vigil-enforcer"));
    const wrong = await run(["sidecar", "build", "-o", "x.tar", "--enforcer-dir", "e"], { cwd: dir });
    expect(wrong.stderr).toContain("built for ELF machine 183, not amd64 (62)");

    const missing = await run(["sidecar", "build", "-o", "x.tar", "--enforcer-dir", "nope"], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("the amd64 enforcer is missing: cannot read");
  });

  it("usage errors", async () => {
    expect(await run(["sidecar", "build"])).toMatchObject({ code: 2, stderr: expect.stringContaining("say where the image goes: -o FILE or --push REF") });
    expect(await run(["sidecar", "build", "-o", "-"])).toMatchObject({ code: 2, stderr: expect.stringContaining("give -o a file name, not -") });
    expect(await run(["sidecar", "build", "--push", "Bad/Name"])).toMatchObject({ code: 2, stderr: expect.stringContaining("must be lowercase") });
    expect(await run(["sidecar", "build", "--frob"])).toMatchObject({ code: 2, stderr: expect.stringContaining("unexpected argument --frob") });
    expect(await run(["sidecar"])).toMatchObject({ code: 2, stderr: expect.stringContaining("which sidecar command?") });
    expect((await run(["sidecar", "build", "--help"])).stdout).toContain("--push REF");
  });
});

describe("vigil sidecar build --push (real registry: TLS + basic auth)", () => {
  let reg: TestRegistry;
  let env: Record<string, string>;
  beforeAll(async () => {
    reg = await startRegistry();
    env = { VIGIL_REGISTRY_USERNAME: reg.username ?? "", VIGIL_REGISTRY_PASSWORD: reg.password ?? "", HOME: "/nonexistent", DOCKER_CONFIG: "/nonexistent" };
  }, 120_000);
  afterAll(async () => {
    await reg?.stop();
  });

  it("pushes the index; pulled back, each platform has the enforcer, the command and the volume", async () => {
    const dir = freshDir();
    const local = await run(["sidecar", "build", "-o", "s.tar"], { cwd: dir });
    const ref = `${reg.host}/vigil/sidecar:test`;
    const pushed = await run(["sidecar", "build", "--push", ref, "--ca-file", reg.caFile ?? ""], { env });
    expect(pushed.stderr).toBe("");
    expect(pushed.code).toBe(0);
    expect(pushed.stdout).toBe(`${ref}@${local.stdout}`);

    const client = new RegistryClient(reg.host, { caFile: reg.caFile, env });
    const top = await client.getManifest("vigil/sidecar", "test");
    expect(top.digest).toBe(local.stdout.trim());
    const index = JSON.parse(top.bytes.toString()) as ImageIndex;
    for (const [i, arch] of ["amd64", "arm64"].entries()) {
      const m = await client.getManifest("vigil/sidecar", index.manifests[i]?.digest ?? "");
      const manifest = JSON.parse(m.bytes.toString()) as ImageManifest;
      const files = layerFiles(await client.getBlob("vigil/sidecar", manifest.layers[0]?.digest ?? ""));
      expect(files.find((f) => f.path === "vigil/enforcer")?.content.equals(binary(arch))).toBe(true);
      const resolved = await resolveImageConfig(ref, { os: "linux", architecture: arch }, { caFile: reg.caFile, env });
      expect(resolved).toEqual({ entrypoint: null, cmd: ["/vigil/enforcer", "--noop"], digest: index.manifests[i]?.digest, os: "linux", architecture: arch });
    }

    // Pushing again uploads nothing new and gives the same digest.
    const again = await run(["sidecar", "build", "--push", ref, "--ca-file", reg.caFile ?? ""], { env });
    expect(again.stdout).toBe(pushed.stdout);
  });

  it("a wrong password is a user error naming the registry", async () => {
    const r = await run(["sidecar", "build", "--push", `${reg.host}/vigil/sidecar:x`, "--ca-file", reg.caFile ?? ""], {
      env: { ...env, VIGIL_REGISTRY_PASSWORD: "wrong" },
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`push to ${reg.host}/vigil/sidecar:x failed: ${reg.host} rejected the username "vigil"`);
  });

  it("without the CA the error says --ca-file", async () => {
    const r = await run(["sidecar", "build", "--push", `${reg.host}/vigil/sidecar:x`], { env });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--ca-file");
  });
});

describe("vigil sidecar build -o on the real Docker Engine", () => {
  let docker: Docker;
  const tag = `vigil-sidecar-test:${process.pid}`;
  const empty = `vigil-empty-test:${process.pid}`;
  beforeAll(async () => {
    docker = new Docker(await ensureDockerEngine());
  }, 300_000);
  afterAll(async () => {
    await docker?.removeAll();
    await docker?.run(["rmi", "-f", tag, empty]);
  });

  it("docker load accepts the tar; the image runs its --noop command and exits 0; /vigil is a volume others can mount", async () => {
    const dir = freshDir();
    expect((await run(["sidecar", "build", "-o", "s.tar", "--tag", tag], { cwd: dir })).code).toBe(0);
    const load = await docker.run(["load", "-i", join(dir, "s.tar")]);
    expect(load.stdout).toContain(`Loaded image: ${tag}`);
    const inspect = await docker.run(["image", "inspect", tag, "--format", "{{json .Config.Cmd}} {{json .Config.Volumes}} {{.Os}}/{{.Architecture}}"]);
    expect(inspect.stdout.trim()).toBe('["/vigil/enforcer","--noop"] {"/vigil":{}} linux/amd64');

    const sidecar = docker.uniqueName("sidecar");
    const started = await docker.run(["run", "--name", sidecar, "--network", "none", tag]);
    expect(started).toMatchObject({ code: 0, stdout: "", stderr: "" });
    // What an app container sees through volumesFrom (read-only), with the sidecar exited: an
    // image with nothing in it gets /vigil/enforcer from the sidecar's volume.
    writeFileSync(join(dir, "empty.tar"), writeTar([{ type: "dir", path: "tmp", mode: 0o1777 }]));
    expect((await docker.run(["import", join(dir, "empty.tar"), empty])).code).toBe(0);
    const app = docker.uniqueName("app");
    const consumer = await docker.run(["run", "--rm", "--name", app, "--network", "none", "--volumes-from", `${sidecar}:ro`, "--entrypoint", "/vigil/enforcer", empty, "--version"]);
    expect(consumer.code).toBe(0);
    expect(consumer.stdout + consumer.stderr).toMatch(/\d+\.\d+\.\d+/);
  });
});
