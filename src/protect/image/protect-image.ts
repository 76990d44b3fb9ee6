// vigil protect image / unprotect image: walks the source (an image, or an index per platform),
// rewrites each supported platform's image (rewrite.ts), and writes the result to the
// destination: existing layers are mounted or left where they are when source and destination
// share a registry, streamed otherwise; only the enforcer layer, configs and manifests are new.

import { formatJson, jsonStyleOf } from "../../oci/json-style.js";
import { normalizeArchitecture, parseManifest, platformString, type Descriptor, type ImageIndex } from "../../registry/manifest.js";
import { IMAGE_MANIFEST_TYPES, INDEX_TYPES } from "../../registry/media-types.js";
import { sha256Digest } from "../../registry/digest.js";
import { VigilImageError } from "./errors.js";
import { rewriteImage, type EnforcerArch, type ImageOutcome, type RewriteRequest } from "./rewrite.js";
import type { BlobCopy, ImageDestination, ImageSource, ManifestBytes } from "./store.js";
import { streamSlots, TaskPool } from "./task-pool.js";

export interface TransformOptions extends RewriteRequest {
  /** Refuse an index with platforms vigil has no enforcer for, instead of keeping them unprotected. */
  strict?: boolean;
  /** Blobs streamed at once (checks and mounts, small requests, go up to 16 at once). */
  concurrency?: number;
  /**
   * Makes `layer` ready for an architecture; called (and awaited) before `layer` is, as early as
   * the walk learns that the architecture is needed: from an index's platforms, or from a config.
   */
  prepare?: (arch: EnforcerArch) => Promise<unknown>;
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

/** One image manifest and its config, read before the (pure) rewrite. */
interface FetchedImage {
  manifest: ManifestBytes;
  config: Buffer;
}

/** More than any enforcer layer weighs (the binary, a policy and a CA bundle, gzip'ed: under 1 MiB). */
const ENFORCER_LAYER_MAX = 8 * 1024 * 1024;

export async function transformImage(source: ImageSource, dest: ImageDestination, options: TransformOptions): Promise<TransformReport> {
  const pool = new TaskPool(16);
  try {
    return await walk(source, dest, options, pool);
  } finally {
    // Nothing keeps running against a registry after this returns or throws.
    await pool.settle();
    await dest.releaseUnused?.();
  }
}

async function walk(source: ImageSource, dest: ImageDestination, options: TransformOptions, pool: TaskPool): Promise<TransformReport> {
  const blobs: Record<BlobCopy, number> = { exists: 0, mounted: 0, copied: 0, written: 0 };
  const platforms: PlatformReport[] = [];
  const warnings: string[] = [];
  const streams = streamSlots(options.concurrency ?? 4);
  const seen = new Set<string>();
  /** Starts making a source blob available at the destination (once per digest). */
  const copy = (desc: Descriptor): void => {
    if (seen.has(desc.digest) || foreign(desc)) return;
    seen.add(desc.digest);
    pool.add(async () => {
      blobs[await dest.copyBlob(source, desc, streams)]++;
    });
  };
  /** Starts writing a blob made here (the enforcer layer, a config). */
  const put = (bytes: Buffer, desc: Descriptor): void => {
    if (seen.has(desc.digest)) return;
    seen.add(desc.digest);
    pool.add(async () => {
      blobs[await dest.putBlob(bytes, desc)]++;
    });
  };
  const manifestsToPut: ManifestBytes[] = [];

  // Work that waits for nothing read from the source starts first, so it overlaps the reads: the
  // destination opens upload sessions for what protection makes (the enforcer layer and a
  // config; unprotection a config), and amd64's enforcer layer (most images') is made and looked
  // for at the destination. An image of another architecture only costs that HEAD.
  dest.expectBlobs?.(options.mode === "protect" ? 2 : 1);
  const readied = new Map<EnforcerArch, Promise<void>>();
  const ready = (arch: EnforcerArch): Promise<void> => {
    const prepare = options.prepare;
    if (prepare === undefined) return Promise.resolve();
    let p = readied.get(arch);
    if (p === undefined) {
      p = prepare(arch).then(() => {
        if (options.mode === "protect") dest.lookFor?.(options.layer(arch, "oci").digest);
      });
      readied.set(arch, p);
    }
    return p;
  };
  if (options.mode === "protect") ready("amd64").catch(() => undefined); // awaited again when needed

  /** Carries a manifest (and all it refers to) over unchanged; children are listed before their index. */
  const carry = async (desc: Descriptor, depth = 0): Promise<void> => {
    if (depth > 3) throw new VigilImageError(`${source.name}: indexes nested more than 3 levels`);
    const m = await source.manifest(desc);
    const parsed = parseManifest(m.bytes, m.mediaType, source.name);
    if (parsed.kind === "index") {
      await Promise.all(parsed.index.manifests.map((d) => carry(d, depth + 1)));
    } else {
      copy(parsed.manifest.config);
      for (const l of parsed.manifest.layers) copy(l);
    }
    manifestsToPut.push(m);
  };

  /**
   * Reads an image's config. Every layer but the last is in the result whatever the rewrite
   * decides (only a last, enforcer layer is ever dropped), so those start on their way to the
   * destination while the config is read.
   */
  const fetchImage = async (m: ManifestBytes): Promise<FetchedImage> => {
    const parsed = parseManifest(m.bytes, m.mediaType, source.name);
    if (parsed.kind !== "image") throw new Error("fetchImage(): not an image");
    const config = source.blob(parsed.manifest.config); // first in line: the rewrite waits for it
    for (const l of parsed.manifest.layers.slice(0, -1)) copy(l);
    // A last layer too large to be an enforcer layer is kept too: it starts now instead of one
    // registry round trip later, after the config (most of a same-registry run's critical path).
    const last = parsed.manifest.layers.at(-1);
    if (last !== undefined && last.size > ENFORCER_LAYER_MAX) copy(last);
    const bytes = await config;
    const arch = declaredArch(bytes);
    if (arch !== null) await ready(arch);
    return { manifest: m, config: bytes };
  };

  /** Rewrites one image manifest (pure), starts its new blobs' uploads; returns its new bytes. */
  const image = ({ manifest: m, config }: FetchedImage, declared: string | null): ManifestBytes => {
    const parsed = parseManifest(m.bytes, m.mediaType, source.name);
    if (parsed.kind !== "image") throw new Error("image(): not an image");
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
    for (const l of r.carried) copy(l);
    if (r.layer !== null) put(r.layer.bytes, { mediaType: r.layer.mediaType, digest: r.layer.digest, size: r.layer.size });
    if (r.config !== null) put(r.config.bytes, r.config.descriptor);
    return r.manifest;
  };

  const root = await source.root();
  const parsed = parseManifest(root.bytes, root.mediaType, source.name);
  let result: ManifestBytes;
  if (parsed.kind === "image") {
    result = image(await fetchImage(root), null);
  } else {
    const indexDoc = JSON.parse(root.bytes.toString("utf8")) as ImageIndex & Record<string, unknown>;
    // The enforcer layers of the index's architectures start being made now; every entry is read
    // at once (manifests, configs); the rewrite then goes in index order.
    for (const desc of indexDoc.manifests) {
      const arch = normalizeArchitecture(desc.platform?.architecture ?? "");
      if (arch === "amd64" || arch === "arm64") ready(arch).catch(() => undefined); // awaited again in fetchImage
    }
    const entries = await Promise.all(
      indexDoc.manifests.map(async (desc) => {
        const platform = desc.platform === undefined ? "no platform" : platformString(desc.platform);
        const attestation = desc.annotations?.["vnd.docker.reference.type"] === "attestation-manifest" || platform === "unknown/unknown";
        const isImage = desc.mediaType === undefined || IMAGE_MANIFEST_TYPES.includes(desc.mediaType);
        if (attestation || !isImage) {
          await carry(desc);
          return { desc, platform, attestation, fetched: null };
        }
        return { desc, platform, attestation, fetched: await fetchImage(await source.manifest(desc)) };
      }),
    );
    const manifests: Descriptor[] = [];
    let changed = false;
    for (const { desc, platform, attestation, fetched } of entries) {
      if (fetched === null) {
        if (!attestation && INDEX_TYPES.includes(desc.mediaType)) warnings.push(`${source.name}: a nested index (${desc.digest}) is copied unchanged, not protected`);
        platforms.push({ platform, outcome: attestation ? "attestation" : "kept", digest: desc.digest });
        manifests.push(desc);
        continue;
      }
      const out = image(fetched, platform);
      if (out.digest !== desc.digest) {
        changed = true;
        manifestsToPut.push(out);
        manifests.push({ ...desc, digest: out.digest, size: out.bytes.length });
      } else {
        manifestsToPut.push(fetched.manifest);
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

  await pool.drain();
  // Every blob is there: upload sessions nobody took are closed while the manifests go up.
  const released = dest.releaseUnused?.();
  // Image manifests refer to blobs only: all at once. Indexes refer to manifests: in order, after.
  const isIndex = (m: ManifestBytes): boolean => INDEX_TYPES.includes(m.mediaType);
  await Promise.all([released, ...manifestsToPut.filter((m) => !isIndex(m)).map((m) => dest.putManifest(m))]);
  for (const m of manifestsToPut.filter(isIndex)) await dest.putManifest(m);
  const reference = await dest.finish(result);
  return { reference, digest: result.digest, mediaType: result.mediaType, platforms, blobs, warnings };
}

/** The architecture a config states, when vigil has an enforcer for it (the rewrite checks the rest). */
function declaredArch(config: Buffer): EnforcerArch | null {
  let doc: unknown;
  try {
    doc = JSON.parse(config.toString("utf8"));
  } catch {
    return null; // the rewrite reports it
  }
  const raw = typeof doc === "object" && doc !== null ? (doc as { architecture?: unknown }).architecture : undefined;
  const arch = normalizeArchitecture(typeof raw === "string" ? raw : "");
  return arch === "amd64" || arch === "arm64" ? arch : null;
}

/** Layers that registries must not copy (Windows base layers, urls-only). */
function foreign(d: Descriptor): boolean {
  return d.mediaType.includes("foreign") || d.mediaType.includes("nondistributable");
}
