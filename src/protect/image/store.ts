// Where images are read from and written to: a registry, an OCI image layout folder, or a
// `docker save` archive. The protect/unprotect walk only speaks these two interfaces.

import type { Readable } from "node:stream";
import type { RegistryClient } from "../../registry/client.js";
import type { Descriptor } from "../../registry/manifest.js";

export interface ManifestBytes {
  bytes: Buffer;
  mediaType: string;
  digest: string;
}

export interface ImageSource {
  /** For messages: the reference, folder or file. */
  readonly name: string;
  /** The top manifest: an image manifest or an index. */
  root(): Promise<ManifestBytes>;
  manifest(desc: Descriptor): Promise<ManifestBytes>;
  /** A small blob (a config), checked against its digest. */
  blob(desc: Descriptor): Promise<Buffer>;
  /** A blob of any size as a stream, checked against its digest as it is read. */
  openBlob(desc: Descriptor): Promise<Readable>;
  /** Set when the blobs live in a registry, so a destination in the same registry can mount them. */
  readonly registry?: { client: RegistryClient; host: string; repository: string };
}

/** Runs one blob transfer when a transfer slot is free. */
export type StreamSlot = <T>(transfer: () => Promise<T>) => Promise<T>;

/** How a blob reached the destination. Values are the report's wire format. */
export type BlobCopy = "exists" | "mounted" | "copied" | "written";

export interface ImageDestination {
  readonly name: string;
  /**
   * Makes a blob of `source` available here, reading it only when it cannot be mounted or found.
   * A blob that has to be streamed is streamed inside `stream`, which bounds how many are at once
   * (checks and mounts are not bounded: they are small requests).
   */
  copyBlob(source: ImageSource, desc: Descriptor, stream: StreamSlot): Promise<BlobCopy>;
  /** A blob made here (the enforcer layer, a config). */
  putBlob(bytes: Buffer, desc: Descriptor): Promise<BlobCopy>;
  /**
   * Hints, all optional: `expectBlobs` says about this many blobs will be made here (a registry
   * opens their upload sessions now, while the source is read); `lookFor` that a blob with this
   * digest will be put (a registry asks whether it is there already, now); `releaseUnused` ends
   * what the hints started and no blob used (waited for; never fails).
   */
  expectBlobs?(count: number): void;
  lookFor?(digest: string): void;
  releaseUnused?(): Promise<void>;
  /** A manifest that the root refers to (stored by digest). */
  putManifest(manifest: ManifestBytes): Promise<void>;
  /** Stores the root under the destination's tag; returns what to print. */
  finish(root: ManifestBytes): Promise<string>;
}
