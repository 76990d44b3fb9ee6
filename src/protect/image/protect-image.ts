// vigil protect image / unprotect image: walks the source (an image, or an index per platform),
// rewrites each supported platform's image (rewrite.ts), and writes the result to the
// destination: existing layers are mounted or left where they are when source and destination
// share a registry, streamed otherwise; only the enforcer layer, configs and manifests are new.

import { formatJson, jsonStyleOf } from "../../oci/json-style.js";
import { parseManifest, platformString, type Descriptor, type ImageIndex } from "../../registry/manifest.js";
import { IMAGE_MANIFEST_TYPES, INDEX_TYPES } from "../../registry/media-types.js";
import { sha256Digest } from "../../registry/digest.js";
import { VigilImageError } from "./errors.js";
import { rewriteImage, type ImageOutcome, type RewriteRequest } from "./rewrite.js";
import type { BlobCopy, ImageDestination, ImageSource, ManifestBytes } from "./store.js";

export interface TransformOptions extends RewriteRequest {
  /** Refuse an index with platforms vigil has no enforcer for, instead of keeping them unprotected. */
  strict?: boolean;
  /** Blobs copied at once. */
  concurrency?: number;
}

export interface PlatformReport {
  platform: string;
  outcome: ImageOutcome | "attestation" | "kept";
  digest: string;
}

export interface TransformReport {
  /** What the destination printed (REF@DIGEST, oci:DIR@DIGEST…). */
  reference: string;
  digest: string;
  mediaType: string;
  platforms: PlatformReport[];
  blobs: Record<BlobCopy, number>;
  warnings: string[];
}

export async function transformImage(source: ImageSource, dest: ImageDestination, options: TransformOptions): Promise<TransformReport> {
  const blobs: Record<BlobCopy, number> = { exists: 0, mounted: 0, copied: 0, written: 0 };
  const platforms: PlatformReport[] = [];
  const warnings: string[] = [];
  const copies: (() => Promise<void>)[] = [];
  const seen = new Set<string>();
  const copy = (desc: Descriptor): void => {
    if (seen.has(desc.digest)) return;
    seen.add(desc.digest);
    copies.push(async () => {
      blobs[await dest.copyBlob(source, desc)]++;
    });
  };
  const manifestsToPut: ManifestBytes[] = [];

  /** Carries a manifest (and all it refers to) over unchanged. */
  const carry = async (desc: Descriptor, depth = 0): Promise<void> => {
    if (depth > 3) throw new VigilImageError(`${source.name}: indexes nested more than 3 levels`);
    const m = await source.manifest(desc);
    const parsed = parseManifest(m.bytes, m.mediaType, source.name);
    if (parsed.kind === "index") {
      for (const d of parsed.index.manifests) await carry(d, depth + 1);
    } else {
      copy(parsed.manifest.config);
      for (const l of parsed.manifest.layers) if (!foreign(l)) copy(l);
    }
    manifestsToPut.push(m);
  };

  /** Rewrites one image manifest; returns its new bytes. */
  const image = async (m: ManifestBytes, declared: string | null): Promise<ManifestBytes> => {
    const parsed = parseManifest(m.bytes, m.mediaType, source.name);
    if (parsed.kind !== "image") throw new Error("image(): not an image");
    const config = await source.blob(parsed.manifest.config);
    const what = declared === null ? source.name : `${source.name} (${declared})`;
    const r = rewriteImage(m, config, options, what);
    warnings.push(...r.warnings);
    if (r.outcome === "unsupported-platform") {
      const message = `${source.name}: no enforcer for ${declared ?? r.platform} (vigil has linux/amd64 and linux/arm64)`;
      if (options.strict === true || declared === null) throw new VigilImageError(message, declared === null ? undefined : "without --strict, such platforms are kept unprotected with a warning");
      warnings.push(`${message}; kept unprotected`);
    }
    platforms.push({ platform: declared ?? r.platform, outcome: r.outcome, digest: r.manifest.digest });
    if (r.config === null) copy(parsed.manifest.config);
    for (const l of r.carried) if (!foreign(l)) copy(l);
    if (r.layer !== null && !seen.has(r.layer.digest)) {
      const layer = r.layer;
      seen.add(layer.digest);
      copies.push(async () => {
        blobs[await dest.putBlob(layer.bytes, { mediaType: layer.mediaType, digest: layer.digest, size: layer.size })]++;
      });
    }
    if (r.config !== null && !seen.has(r.config.descriptor.digest)) {
      const c = r.config;
      seen.add(c.descriptor.digest);
      copies.push(async () => {
        blobs[await dest.putBlob(c.bytes, c.descriptor)]++;
      });
    }
    return r.manifest;
  };

  const root = await source.root();
  const parsed = parseManifest(root.bytes, root.mediaType, source.name);
  let result: ManifestBytes;
  if (parsed.kind === "image") {
    result = await image(root, null);
  } else {
    const indexDoc = JSON.parse(root.bytes.toString("utf8")) as ImageIndex & Record<string, unknown>;
    const manifests: Descriptor[] = [];
    let changed = false;
    for (const desc of indexDoc.manifests) {
      const platform = desc.platform === undefined ? "no platform" : platformString(desc.platform);
      const attestation = desc.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" || platform === "unknown/unknown";
      const isImage = desc.mediaType === undefined || IMAGE_MANIFEST_TYPES.includes(desc.mediaType);
      if (attestation || !isImage) {
        if (!attestation && INDEX_TYPES.includes(desc.mediaType)) warnings.push(`${source.name}: a nested index (${desc.digest}) is copied unchanged, not protected`);
        await carry(desc);
        platforms.push({ platform, outcome: attestation ? "attestation" : "kept", digest: desc.digest });
        manifests.push(desc);
        continue;
      }
      const m = await source.manifest(desc);
      const out = await image(m, platform);
      if (out.digest !== desc.digest) {
        changed = true;
        manifestsToPut.push(out);
        manifests.push({ ...desc, digest: out.digest, size: out.bytes.length });
      } else {
        manifestsToPut.push(m);
        manifests.push(desc);
      }
    }
    if (changed) {
      const style = jsonStyleOf(root.bytes, indexDoc).style;
      const bytes = Buffer.from(formatJson({ ...indexDoc, manifests }, style));
      result = { bytes, mediaType: root.mediaType, digest: sha256Digest(bytes) };
    } else {
      result = root;
    }
  }

  await runPool(copies, options.concurrency ?? 4);
  for (const m of manifestsToPut) await dest.putManifest(m);
  const reference = await dest.finish(result);
  return { reference, digest: result.digest, mediaType: result.mediaType, platforms, blobs, warnings };
}

/** Layers that registries must not copy (Windows base layers, urls-only). */
function foreign(d: Descriptor): boolean {
  return d.mediaType.includes("foreign") || d.mediaType.includes("nondistributable");
}

async function runPool(tasks: readonly (() => Promise<void>)[], size: number): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < tasks.length) {
      const task = tasks[next++];
      if (task !== undefined) await task();
    }
  };
  await Promise.all(Array.from({ length: Math.min(size, tasks.length) }, worker));
}
