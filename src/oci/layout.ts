// An OCI image layout (image-spec image-layout.md) as one tar: `oci-layout`, `index.json` and
// `blobs/sha256/...`, plus Docker's `manifest.json` so that `docker load` of engines that predate
// OCI-layout loading (Docker < 25) accepts it too. Deterministic like every tar written here.

import { OCI_INDEX } from "../registry/media-types.js";
import type { BuiltImage, BuiltIndex } from "./image.js";
import { writeTar, type TarEntry } from "./tar.js";

export interface LayoutOptions {
  /** Full image name for index.json's io.containerd.image.name and manifest.json's RepoTags. */
  name: string;
  /** Tag for org.opencontainers.image.ref.name. */
  tag: string;
  /** The platform manifest.json describes (docker load of older engines loads one image per tag). */
  dockerImage: BuiltImage;
}

export function ociLayoutTar(built: BuiltIndex, options: LayoutOptions): Buffer {
  const blobs = new Map<string, Buffer>();
  const add = (b: { digest: string; bytes: Buffer }): void => {
    blobs.set(b.digest, b.bytes);
  };
  add(built.index);
  for (const image of built.images) {
    add(image.manifest);
    add(image.config);
    for (const layer of image.layers) add(layer);
  }
  const blobPath = (digest: string): string => `blobs/${digest.replace(":", "/")}`;
  const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));
  const entries: TarEntry[] = [
    { type: "file", path: "oci-layout", mode: 0o644, content: json({ imageLayoutVersion: "1.0.0" }) },
    {
      type: "file",
      path: "index.json",
      mode: 0o644,
      content: json({
        schemaVersion: 2,
        mediaType: OCI_INDEX,
        manifests: [
          {
            mediaType: built.index.mediaType,
            digest: built.index.digest,
            size: built.index.size,
            annotations: { "io.containerd.image.name": options.name, "org.opencontainers.image.ref.name": options.tag },
          },
        ],
      }),
    },
    {
      type: "file",
      path: "manifest.json",
      mode: 0o644,
      content: json([
        {
          Config: blobPath(options.dockerImage.config.digest),
          RepoTags: [options.name],
          Layers: options.dockerImage.layers.map((l) => blobPath(l.digest)),
        },
      ]),
    },
    { type: "dir", path: "blobs", mode: 0o755 },
    { type: "dir", path: "blobs/sha256", mode: 0o755 },
  ];
  for (const [digest, bytes] of blobs) entries.push({ type: "file", path: blobPath(digest), mode: 0o644, content: bytes });
  return writeTar(entries);
}
