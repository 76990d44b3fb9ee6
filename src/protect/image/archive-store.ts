// A `docker load`-able archive as a destination: an OCI image layout in a tar (Docker >= 25 loads
// it) plus Docker's manifest.json for one platform (older engines load that). Blobs are streamed
// from the source into the tar when it is written; nothing is held whole in memory but configs,
// manifests and the enforcer layer. Deterministic: same blobs, same bytes.

import { randomBytes } from "node:crypto";
import { rename, rm } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { Readable } from "node:stream";
import { writeTarFile, type StreamedTarEntry } from "../../oci/tar-file.js";
import { parseManifest, selectPlatform, type Descriptor } from "../../registry/manifest.js";
import { OCI_INDEX } from "../../registry/media-types.js";
import { REF_NAME } from "./layout-store.js";
import type { BlobCopy, ImageDestination, ImageSource, ManifestBytes } from "./store.js";

type Pending = { size: number; open: () => Readable | Promise<Readable> };

export class DockerArchiveDestination implements ImageDestination {
  readonly name: string;
  private readonly blobs = new Map<string, Pending>();
  private readonly manifests = new Map<string, ManifestBytes>();

  constructor(
    private readonly file: string,
    /** NAME:TAG for manifest.json's RepoTags and the index annotation, when known. */
    private readonly imageName: string | null,
    private readonly loadArchitecture: string = "amd64",
  ) {
    this.name = `docker-archive:${file}`;
  }

  async copyBlob(source: ImageSource, desc: Descriptor): Promise<BlobCopy> {
    if (this.blobs.has(desc.digest)) return "exists";
    this.blobs.set(desc.digest, { size: desc.size, open: () => source.openBlob(desc) });
    return "copied";
  }

  async putBlob(bytes: Buffer, desc: Descriptor): Promise<BlobCopy> {
    this.blobs.set(desc.digest, { size: bytes.length, open: () => Readable.from([bytes]) });
    return "written";
  }

  async putManifest(m: ManifestBytes): Promise<void> {
    this.manifests.set(m.digest, m);
    await this.putBlob(m.bytes, { mediaType: m.mediaType, digest: m.digest, size: m.bytes.length });
  }

  async finish(root: ManifestBytes): Promise<string> {
    await this.putManifest(root);
    const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));
    const annotations = this.imageName === null ? undefined : { "io.containerd.image.name": this.imageName, [REF_NAME]: this.imageName.slice(this.imageName.lastIndexOf(":") + 1) };
    const index = json({ schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{ mediaType: root.mediaType, digest: root.digest, size: root.bytes.length, ...(annotations ? { annotations } : {}) }] });
    const image = this.dockerImage(root);
    const path = (d: string): string => `blobs/${d.replace(":", "/")}`;
    const manifestJson = json(image === null ? [] : [{ Config: path(image.config.digest), RepoTags: this.imageName === null ? null : [this.imageName], Layers: image.layers.map((l) => path(l.digest)) }]);
    const file = (p: string, bytes: Buffer): StreamedTarEntry => ({ type: "file", path: p, mode: 0o644, size: bytes.length, open: () => Readable.from([bytes]) });
    const entries: StreamedTarEntry[] = [
      { type: "dir", path: "blobs", mode: 0o755 },
      { type: "dir", path: "blobs/sha256", mode: 0o755 },
      ...[...this.blobs.keys()].sort().map((d): StreamedTarEntry => {
        const b = this.blobs.get(d) as Pending;
        return { type: "file", path: path(d), mode: 0o644, size: b.size, open: b.open };
      }),
      file("index.json", index),
      file("manifest.json", manifestJson),
      file("oci-layout", json({ imageLayoutVersion: "1.0.0" })),
    ];
    const temp = join(dirname(this.file), `.${basename(this.file)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
    try {
      await writeTarFile(temp, entries);
      await rename(temp, this.file);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
    return `${this.name}@${root.digest}`;
  }

  /** The image manifest.json describes: the root, or the index's image for the load platform. */
  private dockerImage(root: ManifestBytes): { config: Descriptor; layers: Descriptor[] } | null {
    let m = parseManifest(root.bytes, root.mediaType, this.name);
    for (let depth = 0; m.kind === "index" && depth < 3; depth++) {
      let entry: Descriptor;
      try {
        entry = selectPlatform(m.index, { os: "linux", architecture: this.loadArchitecture }, this.name);
      } catch {
        return null;
      }
      const next = this.manifests.get(entry.digest);
      if (next === undefined) return null;
      m = parseManifest(next.bytes, next.mediaType, this.name);
    }
    return m.kind === "image" ? m.manifest : null;
  }
}
