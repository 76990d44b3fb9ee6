// Manifests and indexes (OCI image-spec, Docker manifest v2 schema 2 and manifest lists), and
// picking the manifest of one platform out of an index.

import { RegistryError } from "./errors.js";
import {
  DOCKER_SCHEMA1_MANIFEST,
  DOCKER_SCHEMA1_SIGNED,
  IMAGE_MANIFEST_TYPES,
  INDEX_TYPES,
  OCI_INDEX,
  OCI_MANIFEST,
} from "./media-types.js";

export interface PlatformSpec {
  architecture: string;
  os: string;
  "os.version"?: string;
  "os.features"?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  urls?: string[];
  annotations?: Record<string, string>;
  platform?: PlatformSpec;
  artifactType?: string;
}

export interface ImageManifest {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Record<string, string>;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  manifests: Descriptor[];
  annotations?: Record<string, string>;
}

export type ParsedManifest =
  | { kind: "index"; mediaType: string; index: ImageIndex }
  | { kind: "image"; mediaType: string; manifest: ImageManifest };

/** Parses a manifest, taking its type from its own mediaType field, else the Content-Type, else its shape. */
export function parseManifest(bytes: Uint8Array, contentType: string, what: string): ParsedManifest {
  let doc: unknown;
  try {
    doc = JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch {
    throw new RegistryError("bad-response", `${what}: the manifest is not JSON`);
  }
  if (typeof doc !== "object" || doc === null || Array.isArray(doc)) {
    throw new RegistryError("bad-response", `${what}: the manifest is not a JSON object`);
  }
  const obj = doc as Record<string, unknown>;
  const declared = typeof obj["mediaType"] === "string" ? obj["mediaType"] : "";
  const schemaVersion = obj["schemaVersion"];
  if (schemaVersion === 1 || contentType === DOCKER_SCHEMA1_MANIFEST || contentType === DOCKER_SCHEMA1_SIGNED) {
    throw new RegistryError(
      "unsupported-media-type",
      `${what}: a Docker schema 1 manifest (deprecated since 2017, not supported); push the image again with a current Docker or any OCI tool`,
    );
  }
  let mediaType = declared !== "" ? declared : contentType;
  if (!INDEX_TYPES.includes(mediaType) && !IMAGE_MANIFEST_TYPES.includes(mediaType)) {
    if (Array.isArray(obj["manifests"])) mediaType = OCI_INDEX;
    else if (typeof obj["config"] === "object" && obj["config"] !== null) mediaType = OCI_MANIFEST;
    else throw new RegistryError("unsupported-media-type", `${what}: unsupported manifest type "${mediaType || "none"}"`);
  }
  if (schemaVersion !== 2) throw new RegistryError("bad-response", `${what}: schemaVersion is ${String(schemaVersion)}, expected 2`);
  if (INDEX_TYPES.includes(mediaType)) {
    const manifests = obj["manifests"];
    if (!Array.isArray(manifests) || !manifests.every(isDescriptor)) {
      throw new RegistryError("bad-response", `${what}: the index has no valid "manifests" list`);
    }
    return { kind: "index", mediaType, index: obj as unknown as ImageIndex };
  }
  if (!isDescriptor(obj["config"]) || !Array.isArray(obj["layers"]) || !obj["layers"].every(isDescriptor)) {
    throw new RegistryError("bad-response", `${what}: the image manifest needs a "config" descriptor and a "layers" list`);
  }
  return { kind: "image", mediaType, manifest: obj as unknown as ImageManifest };
}

function isDescriptor(value: unknown): value is Descriptor {
  if (typeof value !== "object" || value === null) return false;
  const d = value as Record<string, unknown>;
  return typeof d["digest"] === "string" && typeof d["size"] === "number" && (d["mediaType"] === undefined || typeof d["mediaType"] === "string");
}

export interface WantedPlatform {
  os: string;
  architecture: string;
  variant?: string;
}

/** Spellings from uname, Go and ECS (X86_64, ARM64) to the OCI names. */
export function normalizeArchitecture(arch: string): string {
  const a = arch.toLowerCase();
  if (a === "x86_64" || a === "x86-64" || a === "x64") return "amd64";
  if (a === "aarch64") return "arm64";
  if (a === "i386" || a === "i686") return "386";
  return a;
}

const DEFAULT_VARIANT: Record<string, string> = { arm64: "v8", arm: "v7" };

export function platformString(p: { os: string; architecture: string; variant?: string | undefined }): string {
  return `${p.os}/${p.architecture}${p.variant !== undefined && p.variant !== "" ? `/${p.variant}` : ""}`;
}

/**
 * The index entry for a platform, as containerd's platform matcher picks it: same os and
 * architecture; a variant must match, where an absent variant means the architecture's default
 * (arm64 → v8). Entries without a platform, or attestation entries (unknown/unknown), never match.
 */
export function selectPlatform(index: ImageIndex, wanted: WantedPlatform, what: string): Descriptor {
  const os = wanted.os.toLowerCase();
  const arch = normalizeArchitecture(wanted.architecture);
  const wantVariant = wanted.variant ?? DEFAULT_VARIANT[arch];
  const candidates = index.manifests.filter((d) => {
    const p = d.platform;
    if (p === undefined) return false;
    const knownType = d.mediaType === undefined || IMAGE_MANIFEST_TYPES.includes(d.mediaType) || INDEX_TYPES.includes(d.mediaType);
    if (!knownType) return false;
    if (p.os?.toLowerCase() !== os || normalizeArchitecture(p.architecture ?? "") !== arch) return false;
    const variant = p.variant ?? DEFAULT_VARIANT[arch];
    return wantVariant === undefined || variant === undefined || variant === wantVariant;
  });
  // Prefer the exact variant over entries that leave it out.
  const exact = candidates.find((d) => (d.platform?.variant ?? DEFAULT_VARIANT[arch]) === wantVariant);
  const found = exact ?? candidates[0];
  if (found === undefined) {
    const offered = index.manifests
      .map((d) => (d.platform === undefined ? null : platformString(d.platform)))
      .filter((p): p is string => p !== null && p !== "unknown/unknown");
    throw new RegistryError(
      "no-matching-platform",
      `${what}: no image for ${platformString({ os, architecture: arch, ...(wanted.variant !== undefined ? { variant: wanted.variant } : {}) })}; the index offers ${offered.length === 0 ? "no platform" : offered.join(", ")}`,
    );
  }
  return found;
}
