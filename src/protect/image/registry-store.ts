// Images in a registry. A destination in the same registry as its source never reads an existing
// layer: a blob already in the destination repository is left alone, one in another repository
// is mounted (POST ?mount=&from=); only when the registry refuses the mount, and for every blob
// when the registries differ, is the blob streamed from source to destination.

import type { Readable } from "node:stream";
import { RegistryClient } from "../../registry/client.js";
import type { Descriptor } from "../../registry/manifest.js";
import { formatReference, manifestReference, type ImageReference } from "../../registry/reference.js";
import type { BlobCopy, ImageDestination, ImageSource, ManifestBytes, StreamSlot } from "./store.js";

const CONFIG_LIMIT = 8 * 1024 * 1024;

export class RegistrySource implements ImageSource {
  readonly name: string;
  readonly registry: { client: RegistryClient; host: string; repository: string };

  constructor(
    private readonly client: RegistryClient,
    private readonly ref: ImageReference,
  ) {
    this.name = formatReference(ref);
    this.registry = { client, host: ref.registry, repository: ref.repository };
  }

  async root(): Promise<ManifestBytes> {
    return this.client.getManifest(this.ref.repository, manifestReference(this.ref));
  }

  async manifest(desc: Descriptor): Promise<ManifestBytes> {
    return this.client.getManifest(this.ref.repository, desc.digest);
  }

  blob(desc: Descriptor): Promise<Buffer> {
    return this.client.getBlob(this.ref.repository, desc.digest, CONFIG_LIMIT);
  }

  openBlob(desc: Descriptor): Promise<Readable> {
    return this.client.openBlob(this.ref.repository, desc.digest);
  }
}

export class RegistryDestination implements ImageDestination {
  readonly name: string;

  constructor(
    private readonly client: RegistryClient,
    private readonly ref: ImageReference,
  ) {
    this.name = formatReference(ref);
  }

  async copyBlob(source: ImageSource, desc: Descriptor, stream: StreamSlot): Promise<BlobCopy> {
    const repo = this.ref.repository;
    const from = source.registry;
    // Same registry, another repository: one POST links the blob (also when it is here already);
    // a HEAD first would only add a round trip per layer.
    if (from !== undefined && from.host === this.ref.registry && from.repository !== repo) {
      if (await this.client.mountBlob(repo, desc.digest, from.repository)) return "mounted";
    }
    // pushBlobStream HEADs first: a blob already here is left alone, never read.
    const result = await stream(() => this.client.pushBlobStream(repo, desc.digest, desc.size, () => source.openBlob(desc)));
    return result === "exists" ? "exists" : "copied";
  }

  async putBlob(bytes: Buffer): Promise<BlobCopy> {
    const { result } = await this.client.pushBlob(this.ref.repository, bytes);
    return result === "uploaded" ? "written" : result;
  }

  async putManifest(manifest: ManifestBytes): Promise<void> {
    await this.client.putManifest(this.ref.repository, manifest.digest, manifest.bytes, manifest.mediaType);
  }

  async finish(root: ManifestBytes): Promise<string> {
    const tag = this.ref.digest ?? this.ref.tag ?? root.digest;
    const digest = await this.client.putManifest(this.ref.repository, tag, root.bytes, root.mediaType);
    return `${formatReference({ ...this.ref, tag: this.ref.digest === null ? this.ref.tag : null, digest: null })}@${digest}`;
  }
}
