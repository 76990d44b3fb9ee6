// Pushing built images to a registry: blobs first (skipped when present), then each platform's
// manifest by digest, then the index (or the single manifest) under the tag.

import type { RegistryClient, UploadOptions, UploadResult } from "../registry/client.js";
import type { BuiltImage, BuiltIndex } from "./image.js";

export interface PushReport {
  digest: string;
  blobs: { digest: string; result: UploadResult }[];
}

export async function pushImage(client: RegistryClient, repository: string, image: BuiltImage, reference: string | null, upload: UploadOptions = {}): Promise<PushReport> {
  const blobs: PushReport["blobs"] = [];
  for (const layer of image.layers) blobs.push(await client.pushBlob(repository, layer.bytes, upload));
  blobs.push(await client.pushBlob(repository, image.config.bytes, upload));
  const digest = await client.putManifest(repository, reference ?? image.manifest.digest, image.manifest.bytes, image.manifest.mediaType);
  return { digest, blobs };
}

export async function pushIndex(client: RegistryClient, repository: string, built: BuiltIndex, reference: string | null, upload: UploadOptions = {}): Promise<PushReport> {
  const blobs: PushReport["blobs"] = [];
  for (const image of built.images) blobs.push(...(await pushImage(client, repository, image, null, upload)).blobs);
  const digest = await client.putManifest(repository, reference ?? built.index.digest, built.index.bytes, built.index.mediaType);
  return { digest, blobs };
}
