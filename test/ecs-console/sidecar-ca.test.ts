// vigil sidecar build --ca FILE: the console's CA bundle at /vigil/ca.pem in every platform's
// image, checked the way the enforcer will read it (enforcer/src/trust.c), with clear errors.

import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { readTar } from "../../src/oci/tar.js";
import type { ImageIndex, ImageManifest } from "../../src/registry/manifest.js";
import { checkCaBundle } from "../../src/sidecar/ca-bundle.js";
import { freshDir, run } from "../cli/helpers.js";
import { makeTestCa, type TestCa } from "../shipping/helpers.js";

let ca: TestCa;
beforeAll(async () => {
  // (await: the helper is synchronous or asynchronous depending on its version)
  ca = await makeTestCa();
});
afterAll(() => ca.remove());

function layerFilesOf(tarFile: string): Map<string, Map<string, Buffer>> {
  const files = new Map(readTar(readFileSync(tarFile)).map((e) => [e.path, e.content]));
  const blob = (digest: string): Buffer => {
    const b = files.get(`blobs/${digest.replace(":", "/")}`);
    if (b === undefined) throw new Error(`no blob ${digest}`);
    return b;
  };
  const index = JSON.parse((files.get("index.json") ?? Buffer.from("{}")).toString()) as ImageIndex;
  const top = index.manifests[0];
  if (top === undefined) throw new Error("empty index.json");
  const inner = JSON.parse(blob(top.digest).toString()) as ImageIndex;
  const out = new Map<string, Map<string, Buffer>>();
  for (const m of inner.manifests) {
    const manifest = JSON.parse(blob(m.digest).toString()) as ImageManifest;
    const entries = new Map<string, Buffer>();
    for (const layer of manifest.layers) for (const e of readTar(gunzipSync(blob(layer.digest)))) entries.set(e.path, e.content);
    out.set(m.platform?.architecture ?? "?", entries);
  }
  return out;
}

describe("vigil sidecar build --ca", () => {
  test("puts the bundle at /vigil/ca.pem for every platform; deterministic; without --ca there is none", async () => {
    const dir = freshDir();
    const a = await run(["sidecar", "build", "-o", "a.tar", "--ca", ca.caPem], { cwd: dir });
    expect(a).toMatchObject({ code: 0, stderr: "" });
    const b = await run(["sidecar", "build", "-o", "b.tar", `--ca=${ca.caPem}`], { cwd: dir });
    expect(b.stdout).toBe(a.stdout);
    const plain = await run(["sidecar", "build", "-o", "plain.tar"], { cwd: dir });
    expect(plain.stdout).not.toBe(a.stdout);
    const pem = readFileSync(ca.caPem);
    const layers = layerFilesOf(join(dir, "a.tar"));
    expect([...layers.keys()].sort()).toEqual(["amd64", "arm64"]);
    for (const files of layers.values()) {
      expect(files.get("vigil/ca.pem")?.equals(pem)).toBe(true);
      expect(files.has("vigil/enforcer")).toBe(true);
    }
    for (const files of layerFilesOf(join(dir, "plain.tar")).values()) expect(files.has("vigil/ca.pem")).toBe(false);
  });

  test("a file that is not a PEM CA bundle is refused, saying what is wrong", async () => {
    const dir = freshDir();
    const write = (name: string, text: string | Buffer): string => {
      writeFileSync(join(dir, name), text);
      return name;
    };
    const caText = readFileSync(ca.caPem, "utf8");
    const cases: [string, string][] = [
      [write("empty.pem", ""), "holds no PEM certificate (-----BEGIN CERTIFICATE-----)"],
      [write("der.crt", execFileSync("openssl", ["x509", "-in", ca.caPem, "-outform", "DER"])), "holds no PEM certificate"],
      [write("key.pem", readFileSync(ca.keyPem)), "PRIVATE KEY; a CA bundle holds certificates only"],
      [write("cut.pem", caText.slice(0, caText.indexOf("-----END"))), "line 1: BEGIN CERTIFICATE has no END line"],
      [write("junk.pem", "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n"), "line 1: this CERTIFICATE block is not a valid X.509 certificate"],
      [write("leaf.pem", readFileSync(ca.certPem)), "holds no CA certificate: the enforcer would trust nothing"],
      ["missing.pem", "cannot read --ca missing.pem (ENOENT)"],
    ];
    for (const [file, why] of cases) {
      const r = await run(["sidecar", "build", "-o", "s.tar", "--ca", file], { cwd: dir });
      expect(r.code, file).toBe(2);
      expect(r.stderr, file).toContain(why);
    }
    // Nothing was written.
    expect(() => readFileSync(join(dir, "s.tar"))).toThrow();
  });

  test("a leaf next to the CA is accepted with a warning (the enforcer ignores it)", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "chain.pem"), Buffer.concat([readFileSync(ca.certPem), readFileSync(ca.caPem)]));
    const r = await run(["sidecar", "build", "-o", "s.tar", "--ca", "chain.pem"], { cwd: dir });
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^vigil: warning: --ca chain\.pem: line 1 \(CN=localhost\): not a CA certificate \(no basicConstraints CA:TRUE\); the enforcer ignores it\n$/);
  });

  test("keys BearSSL cannot use, and the enforcer's limits", () => {
    const dir = freshDir();
    execFileSync("openssl", ["req", "-x509", "-newkey", "ed25519", "-nodes", "-keyout", join(dir, "k"), "-out", join(dir, "ed.pem"), "-days", "1", "-subj", "/CN=ed", "-addext", "basicConstraints=critical,CA:TRUE"], { stdio: "pipe" });
    expect(checkCaBundle(readFileSync(join(dir, "ed.pem"))).errors).toEqual([expect.stringContaining("a ed25519 key, which the enforcer's TLS library (BearSSL) cannot use")]);
    const pem = readFileSync(ca.caPem);
    expect(checkCaBundle(Buffer.concat(Array.from({ length: 257 }, () => pem))).errors).toEqual(["holds 257 certificates; the enforcer reads at most 256"]);
    expect(checkCaBundle(Buffer.alloc(1024 * 1024 + 1, 0x41)).errors).toEqual([expect.stringContaining("the enforcer reads at most 1048576 (1 MiB)")]);
    expect(checkCaBundle(pem)).toEqual({ anchors: 1, errors: [], warnings: [] });
  });
});
