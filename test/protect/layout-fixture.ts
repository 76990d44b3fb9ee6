// An OCI image layout folder holding a two-platform index (amd64, arm64), tagged v1.

import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { buildIndex } from "../../src/oci/image.js";
import { testImage } from "../registry/images.js";

/** Writes the layout into `dir`; returns the index's digest. */
export async function writeLayout(dir: string): Promise<string> {
  const built = buildIndex([
    testImage({ Entrypoint: ["/e"], Cmd: ["c"] }, { os: "linux", architecture: "amd64" }),
    testImage({ Entrypoint: ["/e"], Cmd: ["c"] }, { os: "linux", architecture: "arm64", variant: "v8" }),
  ]);
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  const put = async (b: { digest: string; bytes: Buffer }): Promise<void> => writeFile(join(dir, "blobs", "sha256", b.digest.slice(7)), b.bytes);
  await put(built.index);
  for (const img of built.images) {
    await put(img.manifest);
    await put(img.config);
    for (const l of img.layers) await put(l);
  }
  await writeFile(join(dir, "oci-layout"), '{"imageLayoutVersion":"1.0.0"}');
  await writeFile(join(dir, "index.json"), JSON.stringify({ schemaVersion: 2, manifests: [{ mediaType: built.index.mediaType, digest: built.index.digest, size: built.index.size, annotations: { "org.opencontainers.image.ref.name": "v1" } }] }));
  return built.index.digest;
}
