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
/** A blob made here of at most this size is sent without asking first whether it is there. */
const SMALL_BLOB = 64 * 1024;

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
  /** Answers of the HEADs that lookFor started, by digest. */
  private readonly looked = new Map<string, Promise<boolean>>();

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

  expectBlobs(count: number): void {
    this.client.openUploads(this.ref.repository, count);
  }

  lookFor(digest: string): void {
    if (!this.looked.has(digest)) this.looked.set(digest, this.client.hasBlob(this.ref.repository, digest).catch(() => false));
  }

  async releaseUnused(): Promise<void> {
    await Promise.all([this.client.closeUnusedUploads().catch(() => undefined), ...this.looked.values()]);
  }

  async putBlob(bytes: Buffer, desc: Descriptor): Promise<BlobCopy> {
    const looked = this.looked.get(desc.digest);
    if (looked !== undefined && (await looked)) return "exists";
    // Known to be missing, or small (a config): uploaded at once, in a session opened earlier
    // when there is one, instead of a HEAD first.
    const check = looked === undefined && bytes.length > SMALL_BLOB;
    const { result } = await this.client.pushBlob(this.ref.repository, bytes, { check });
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
