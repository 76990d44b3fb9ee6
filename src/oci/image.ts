// Building images in memory: config, manifest and index documents with their digests, in OCI or
// Docker v2.2 media types. Documents are serialised with a fixed key order and no timestamps
// other than the ones given, so the same input gives the same digests.

import { sha256Digest } from "../registry/digest.js";
import type { Descriptor, PlatformSpec } from "../registry/manifest.js";
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_GZIP,
  DOCKER_MANIFEST,
  DOCKER_MANIFEST_LIST,
  OCI_CONFIG,
  OCI_INDEX,
  OCI_LAYER_GZIP,
  OCI_MANIFEST,
} from "../registry/media-types.js";
import type { Layer } from "./layer.js";

export type MediaTypeFamily = "oci" | "docker";

export interface Blob {
  mediaType: string;
  bytes: Buffer;
  digest: string;
  size: number;
}

/** The runtime part of an image config ("config" in the OCI config document). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

export interface ImageSpec {
  platform: PlatformSpec;
  config: ContainerConfig;
  layers: readonly Layer[];
  family?: MediaTypeFamily;
  /** RFC 3339; default the Unix epoch, so builds are reproducible. */
  created?: string;
  history?: { created_by: string; comment?: string; empty_layer?: boolean }[];
  annotations?: Record<string, string>;
}

export interface BuiltImage {
  platform: PlatformSpec;
  manifest: Blob;
  config: Blob;
  layers: readonly Layer[];
}

export interface BuiltIndex {
  index: Blob;
  images: readonly BuiltImage[];
}

export function blob(mediaType: string, document: unknown): Blob {
  const bytes = Buffer.from(JSON.stringify(document));
  return { mediaType, bytes, digest: sha256Digest(bytes), size: bytes.length };
}

export function descriptor(b: { mediaType: string; digest: string; size: number }, extra: Partial<Descriptor> = {}): Descriptor {
  return { mediaType: b.mediaType, digest: b.digest, size: b.size, ...extra };
}

export function buildImage(spec: ImageSpec): BuiltImage {
  const family = spec.family ?? "oci";
  const created = spec.created ?? "1970-01-01T00:00:00Z";
  const platform = spec.platform;
  const configDoc = {
    created,
    architecture: platform.architecture,
    ...(platform.variant !== undefined ? { variant: platform.variant } : {}),
    os: platform.os,
    config: spec.config,
    rootfs: { type: "layers", diff_ids: spec.layers.map((l) => l.diffId) },
    history: (spec.history ?? spec.layers.map(() => ({ created_by: "vigil" }))).map((h) => ({ created, ...h })),
  };
  const config = blob(family === "oci" ? OCI_CONFIG : DOCKER_CONFIG, configDoc);
  const layerType = (l: Layer): string => (family === "docker" && l.mediaType === OCI_LAYER_GZIP ? DOCKER_LAYER_GZIP : l.mediaType);
  const manifestDoc = {
    schemaVersion: 2,
    mediaType: family === "oci" ? OCI_MANIFEST : DOCKER_MANIFEST,
    config: descriptor(config),
    layers: spec.layers.map((l) => ({ mediaType: layerType(l), digest: l.digest, size: l.size })),
    ...(spec.annotations !== undefined && family === "oci" ? { annotations: spec.annotations } : {}),
  };
  const manifest = blob(manifestDoc.mediaType, manifestDoc);
  return { platform, manifest, config, layers: spec.layers };
}

export function buildIndex(images: readonly BuiltImage[], family: MediaTypeFamily = "oci", annotations?: Record<string, string>): BuiltIndex {
  const indexDoc = {
    schemaVersion: 2,
    mediaType: family === "oci" ? OCI_INDEX : DOCKER_MANIFEST_LIST,
    manifests: images.map((img) => descriptor(img.manifest, { platform: img.platform })),
    ...(annotations !== undefined && family === "oci" ? { annotations } : {}),
  };
  return { index: blob(indexDoc.mediaType, indexDoc), images };
}
