// The one layer protection adds: /vigil/ (0755), /vigil/enforcer (0755), and when asked
// /vigil/policy and /vigil/ca.pem (0644), root-owned, mtime 0, gzip'ed deterministically.
//
// gzip -9 of the enforcer is the one CPU-heavy step of `protect image` (10–30 ms, as much as all
// its registry round trips), so `npm run build` writes the enforcer-only layer next to each binary
// (scripts/enforcer-layers.mjs). It is used only when it decompresses to exactly the tar built
// here from the binary at hand; otherwise (another binary, a policy or CA added) the layer is
// compressed here, the same way, so either route gives the same bytes.

import { promisify } from "node:util";
import { gunzip, gunzipSync, type InputType, type ZlibOptions } from "node:zlib";
import { gzipLayerFromTar, layerFromTar, type Layer } from "../../oci/layer.js";
import { writeTar, type TarEntry } from "../../oci/tar.js";
import { sha256Digest } from "../../registry/digest.js";
import { DOCKER_LAYER_GZIP, OCI_LAYER_GZIP } from "../../registry/media-types.js";
import { CA_PATH, ENFORCER_PATH, POLICY_PATH } from "./config.js";

export interface LayerContents {
  enforcer: Uint8Array;
  policy?: Uint8Array;
  ca?: Uint8Array;
}

const rel = (p: string): string => p.replace(/^\//, "");

const gunzipAsync = promisify(gunzip) as (data: InputType, options: ZlibOptions) => Promise<Buffer>;

/** The file next to an enforcer binary that holds its enforcer-only layer (gzip). */
export const PREBUILT_LAYER_SUFFIX = ".layer.tar.gz";

export function enforcerLayer(contents: LayerContents, family: "oci" | "docker", prebuilt: Uint8Array | null = null): Layer {
  const tar = layerTar(contents);
  let inflated: Buffer | null = null;
  if (prebuilt !== null) {
    try {
      inflated = gunzipSync(prebuilt, { maxOutputLength: tar.length + 1 });
    } catch {
      inflated = null;
    }
  }
  return forFamily(finish(tar, prebuilt, inflated), family);
}

/**
 * The same layer (OCI media type), with the prebuilt file decompressed — or, without a matching
 * one, the tar compressed — on libuv's thread pool: started early, it is ready by the time the
 * rewrite needs it, and the main thread stays free for the network.
 */
export async function prepareEnforcerLayer(contents: LayerContents, prebuilt: Uint8Array | null): Promise<Layer> {
  const tar = layerTar(contents);
  // One output chunk: zlib hands each chunk back through the main thread's event loop, which is
  // busy with the registry's answers (16 kB chunks made this 60 ms instead of 9).
  const whole = { maxOutputLength: tar.length + 1, chunkSize: Math.max(64 * 1024, tar.length + 1) };
  const inflated = prebuilt === null ? null : await gunzipAsync(prebuilt, whole).catch(() => null);
  if (prebuilt === null || inflated === null || !inflated.equals(tar)) return gzipLayerFromTar(tar);
  return finish(tar, prebuilt, inflated);
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

/** The prebuilt layer when it decompressed to exactly `tar`; else `tar` compressed here. */
function finish(tar: Buffer, prebuilt: Uint8Array | null, inflated: Buffer | null): Layer {
  if (prebuilt === null || inflated === null || !inflated.equals(tar)) return layerFromTar(tar, OCI_LAYER_GZIP);
  const bytes = Buffer.from(prebuilt);
  return { mediaType: OCI_LAYER_GZIP, bytes, digest: sha256Digest(bytes), size: bytes.length, diffId: sha256Digest(tar) };
}

/** Words for the history entry. */
export function layerContentsLabel(contents: LayerContents): string {
  return ["enforcer", ...(contents.policy !== undefined ? ["policy"] : []), ...(contents.ca !== undefined ? ["CA bundle"] : [])].join(", ");
}
