// Image layers: a tar, gzip-compressed the same way every time. The layer's DiffID (in the config)
// is the digest of the uncompressed tar; its descriptor digest (in the manifest) that of the gzip.

import type { InputType, ZlibOptions } from "node:zlib";
import { sha256Digest } from "../registry/digest.js";
import { OCI_LAYER_GZIP } from "../registry/media-types.js";
import { writeTar, type TarEntry } from "./tar.js";
import { zlib } from "./zlib.js";

export interface Layer {
  mediaType: string;
  bytes: Buffer;
  digest: string;
  size: number;
  diffId: string;
}

/**
 * gzip with a fixed header: zlib writes mtime 0 already; the OS byte differs between platforms'
 * zlib builds (3 = Unix, 19 = macOS), so it is set to 255 ("unknown", as Go's gzip writes).
 */
export function deterministicGzip(data: Uint8Array): Buffer {
  const gz = zlib().gzipSync(data, { level: 9 });
  gz[9] = 0xff;
  return gz;
}

function gzipAsync(data: InputType, options: ZlibOptions): Promise<Buffer> {
  return new Promise((resolve, reject) => zlib().gzip(data, options, (error, result) => (error === null ? resolve(result) : reject(error))));
}

/** The same bytes, compressed on libuv's thread pool (the main thread stays free for the network). */
export async function deterministicGzipAsync(data: Uint8Array): Promise<Buffer> {
  // One output chunk (the whole input's size is more than enough for a layer's gzip): each chunk is
  // a round trip through the main thread's event loop.
  const gz = await gzipAsync(data, { level: 9, chunkSize: Math.max(64 * 1024, data.length + 1024) });
  gz[9] = 0xff;
  return gz;
}

export function layerFromTar(tar: Buffer, mediaType: string = OCI_LAYER_GZIP): Layer {
  const bytes = mediaType.endsWith("+gzip") || mediaType.endsWith(".gzip") ? deterministicGzip(tar) : tar;
  return { mediaType, bytes, digest: sha256Digest(bytes), size: bytes.length, diffId: sha256Digest(tar) };
}

/** A gzip'ed layer of `tar`, compressed off the main thread; the same bytes as layerFromTar. */
export async function gzipLayerFromTar(tar: Buffer): Promise<Layer> {
  const bytes = await deterministicGzipAsync(tar);
  return { mediaType: OCI_LAYER_GZIP, bytes, digest: sha256Digest(bytes), size: bytes.length, diffId: sha256Digest(tar) };
}

export function layerFromEntries(entries: readonly TarEntry[], mediaType?: string): Layer {
  return layerFromTar(writeTar(entries), mediaType);
}
