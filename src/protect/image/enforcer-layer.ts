// The one layer protection adds: /vigil/ (0755), /vigil/enforcer (0755), and when asked
// /vigil/policy and /vigil/ca.pem (0644), root-owned, mtime 0, gzip'ed deterministically.
//
// gzip -9 of the enforcer is the one CPU-heavy step of `protect image` (10–30 ms, as much as all
// its registry round trips), so `npm run build` writes the enforcer-only layer next to each binary
// with the two digests it has (scripts/enforcer-layers.mjs): the layer's and its tar's (DiffID).
// The command uses that layer only when the tar built here from the binary at hand has the
// recorded DiffID and the layer file the recorded digest — two hashes, no decompression, no
// node:zlib; otherwise (another binary, a policy or CA added, a stale or damaged file) the layer
// is compressed here, the same way, so either route gives the same bytes.

import { gzipLayerFromTar, layerFromTar, type Layer } from "../../oci/layer.js";
import { writeTar, type TarEntry } from "../../oci/tar.js";
import { zlib } from "../../oci/zlib.js";
import { sha256Digest } from "../../registry/digest.js";
import { DOCKER_LAYER_GZIP, OCI_LAYER_GZIP } from "../../registry/media-types.js";
import { CA_PATH, ENFORCER_PATH, POLICY_PATH } from "./config.js";

export interface LayerContents {
  enforcer: Uint8Array;
  policy?: Uint8Array;
  ca?: Uint8Array;
}

const rel = (p: string): string => p.replace(/^\//, "");

/** The file next to an enforcer binary that holds its enforcer-only layer (gzip). */
export const PREBUILT_LAYER_SUFFIX = ".layer.tar.gz";
/** The file next to it that holds the layer's digests: {"digest": "sha256:…", "diffId": "sha256:…"}. */
export const PREBUILT_DIGESTS_SUFFIX = ".layer.json";

/** A layer made at build time, with the digests recorded with it. */
export interface PrebuiltLayer {
  bytes: Uint8Array;
  digest: string;
  diffId: string;
}

/** The digests file's text for a layer (written by the build). */
export function prebuiltDigests(layer: Layer): string {
  return `${JSON.stringify({ digest: layer.digest, diffId: layer.diffId })}\n`;
}

/** The layer and its digests file's text as read, or null when either is missing or not as written. */
export function parsePrebuilt(bytes: Uint8Array | null, digests: string | null): PrebuiltLayer | null {
  if (bytes === null || digests === null) return null;
  try {
    const d = JSON.parse(digests) as { digest?: unknown; diffId?: unknown };
    return typeof d.digest === "string" && typeof d.diffId === "string" ? { bytes, digest: d.digest, diffId: d.diffId } : null;
  } catch {
    return null;
  }
}

/**
 * The layer, compressed here; `prebuilt` (a gzip'ed layer) is used instead when it decompresses
 * to exactly the tar built here (the build script and tests).
 */
export function enforcerLayer(contents: LayerContents, family: "oci" | "docker", prebuilt: Uint8Array | null = null): Layer {
  const tar = layerTar(contents);
  let inflated: Buffer | null = null;
  if (prebuilt !== null) {
    try {
      inflated = zlib().gunzipSync(prebuilt, { maxOutputLength: tar.length + 1 });
    } catch {
      inflated = null;
    }
  }
  if (prebuilt === null || inflated === null || !inflated.equals(tar)) return forFamily(layerFromTar(tar, OCI_LAYER_GZIP), family);
  const bytes = Buffer.from(prebuilt);
  return forFamily({ mediaType: OCI_LAYER_GZIP, bytes, digest: sha256Digest(bytes), size: bytes.length, diffId: sha256Digest(tar) }, family);
}

/**
 * The same layer (OCI media type): the prebuilt one when its recorded digests are those of the
 * tar built here and of its bytes; otherwise the tar compressed on libuv's thread pool, so the
 * main thread stays free for the network.
 */
export async function prepareEnforcerLayer(contents: LayerContents, prebuilt: PrebuiltLayer | null): Promise<Layer> {
  const tar = layerTar(contents);
  const diffId = sha256Digest(tar);
  if (prebuilt !== null && prebuilt.diffId === diffId) {
    const bytes = Buffer.from(prebuilt.bytes);
    const digest = sha256Digest(bytes);
    if (digest === prebuilt.digest) return { mediaType: OCI_LAYER_GZIP, bytes, digest, size: bytes.length, diffId };
  }
  return gzipLayerFromTar(tar);
}

export function forFamily(layer: Layer, family: "oci" | "docker"): Layer {
  return family === "docker" ? { ...layer, mediaType: DOCKER_LAYER_GZIP } : layer;
}

function layerTar(contents: LayerContents): Buffer {
  const entries: TarEntry[] = [
    { type: "dir", path: "vigil", mode: 0o755 },
    { type: "file", path: rel(ENFORCER_PATH), mode: 0o755, content: contents.enforcer },
  ];
  if (contents.policy !== undefined) entries.push({ type: "file", path: rel(POLICY_PATH), mode: 0o644, content: contents.policy });
  if (contents.ca !== undefined) entries.push({ type: "file", path: rel(CA_PATH), mode: 0o644, content: contents.ca });
  return writeTar(entries);
}

/** Words for the history entry. */
export function layerContentsLabel(contents: LayerContents): string {
  return ["enforcer", ...(contents.policy !== undefined ? ["policy"] : []), ...(contents.ca !== undefined ? ["CA bundle"] : [])].join(", ");
}
