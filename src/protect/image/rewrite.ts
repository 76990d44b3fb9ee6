// One platform's image, pure: its manifest and config in, the protected (or unprotected) manifest
// and config out, plus the layer to add and the layers to carry over. An already protected image
// is first taken back to its original, so protecting again with the same inputs gives the same
// bytes (a no-op) and a newer enforcer or policy replaces the old layer instead of stacking.

import { formatJson, jsonStyleOf } from "../../oci/json-style.js";
import type { Layer } from "../../oci/layer.js";
import { sha256Digest } from "../../registry/digest.js";
import { normalizeArchitecture, parseManifest, type Descriptor, type ImageManifest } from "../../registry/manifest.js";
import { DOCKER_MANIFEST } from "../../registry/media-types.js";
import { protectConfig, protectionOf, unprotectConfig, type ConfigDocument } from "./config.js";
import { VigilImageError } from "./errors.js";
import type { ManifestBytes } from "./store.js";

export type EnforcerArch = "amd64" | "arm64";

/** What happened to one platform's image. Values are the report's wire format. */
export type ImageOutcome = "protected" | "reprotected" | "already-protected" | "unprotected" | "not-protected" | "unsupported-platform";

export interface RewriteRequest {
  mode: "protect" | "unprotect";
  version: string;
  policy: boolean;
  contents: string;
  /** The enforcer layer for an architecture and manifest family. */
  layer: (arch: EnforcerArch, family: "oci" | "docker") => Layer;
}

export interface RewriteResult {
  outcome: ImageOutcome;
  platform: string;
  manifest: ManifestBytes;
  /** Set when the config changed. */
  config: { bytes: Buffer; descriptor: Descriptor } | null;
  /** Set when the enforcer layer is new here. */
  layer: Layer | null;
  /** Layers of the result that come from the source. */
  carried: Descriptor[];
  warnings: string[];
}

const ARCHES: readonly string[] = ["amd64", "arm64"];

export function rewriteImage(input: ManifestBytes, configBytes: Buffer, request: RewriteRequest, what: string): RewriteResult {
  const parsed = parseManifest(input.bytes, input.mediaType, what);
  if (parsed.kind !== "image") throw new Error("rewriteImage: not an image manifest");
  const manifestDoc = JSON.parse(input.bytes.toString("utf8")) as ImageManifest & Record<string, unknown>;
  let configDoc: ConfigDocument;
  try {
    configDoc = JSON.parse(configBytes.toString("utf8")) as ConfigDocument;
  } catch {
    throw new VigilImageError(`${what}: the image config is not JSON`);
  }
  const mStyle = jsonStyleOf(input.bytes, manifestDoc);
  const cStyle = jsonStyleOf(configBytes, configDoc);
  const os = typeof configDoc["os"] === "string" ? configDoc["os"] : "";
  const arch = normalizeArchitecture(typeof configDoc["architecture"] === "string" ? configDoc["architecture"] : "");
  const variant = typeof configDoc["variant"] === "string" ? `/${configDoc["variant"]}` : "";
  const platform = `${os || "?"}/${arch || "?"}${variant}`;
  const unchanged = (outcome: ImageOutcome, warnings: string[] = []): RewriteResult => ({
    outcome,
    platform,
    manifest: input,
    config: null,
    layer: null,
    carried: manifestDoc.layers,
    warnings,
  });
  if (os !== "linux" || !ARCHES.includes(arch) || (arch === "arm64" && variant !== "" && variant !== "/v8")) return unchanged("unsupported-platform");

  const diffIds = (configDoc["rootfs"] as { diff_ids?: unknown[] } | undefined)?.diff_ids;
  if (!Array.isArray(diffIds) || diffIds.length !== manifestDoc.layers.length) {
    throw new VigilImageError(`${what}: the manifest lists ${manifestDoc.layers.length} layers but the config ${Array.isArray(diffIds) ? diffIds.length : "no"} diff_ids`);
  }

  // The original: the input itself, or what an earlier protection recorded.
  const protection = protectionOf(configDoc);
  let baseConfig = configDoc;
  let baseManifest: ImageManifest & Record<string, unknown> = manifestDoc;
  const warnings: string[] = [];
  if (protection !== null) {
    const restored = unprotectConfig(configDoc);
    if (restored === null) throw new Error("unreachable");
    baseConfig = restored.doc;
    const bytes = Buffer.from(formatJson(baseConfig, cStyle.style));
    baseManifest = { ...structuredClone(manifestDoc), layers: manifestDoc.layers.slice(0, -1), config: { ...manifestDoc.config, digest: sha256Digest(bytes), size: bytes.length } };
  }
  const finish = (outcome: ImageOutcome, config: ConfigDocument, manifest: ImageManifest, layer: Layer | null): RewriteResult => {
    const configOut = Buffer.from(formatJson(config, cStyle.style));
    const doc = { ...manifest, config: { ...manifest.config, digest: sha256Digest(configOut), size: configOut.length } };
    const bytes = Buffer.from(formatJson(doc, mStyle.style));
    const digest = sha256Digest(bytes);
    const same = digest === input.digest;
    return {
      outcome: same && outcome === "reprotected" ? "already-protected" : outcome,
      platform,
      manifest: same ? input : { bytes, mediaType: input.mediaType, digest },
      config: same ? null : { bytes: configOut, descriptor: doc.config },
      layer: same ? null : layer,
      carried: layer === null ? doc.layers : doc.layers.slice(0, -1),
      warnings,
    };
  };

  if (request.mode === "unprotect") {
    if (protection === null) return unchanged("not-protected");
    return finish("unprotected", baseConfig, baseManifest, null);
  }
  if (!cStyle.exact || !mStyle.exact) {
    warnings.push(`${what}: the ${!cStyle.exact ? "config" : "manifest"}'s JSON formatting is not one vigil reproduces; unprotect will restore its content, not its exact bytes (digest)`);
  }
  const family = input.mediaType === DOCKER_MANIFEST ? "docker" : "oci";
  const layer = request.layer(arch as EnforcerArch, family);
  const protectedConfig = protectConfig(baseConfig, { layerDiffId: layer.diffId, version: request.version, policy: request.policy, contents: request.contents });
  warnings.push(...protectedConfig.warnings.map((w) => `${what}: ${w}`));
  const manifest = { ...baseManifest, layers: [...baseManifest.layers, { mediaType: layer.mediaType, digest: layer.digest, size: layer.size }] };
  return finish(protection === null ? "protected" : "reprotected", protectedConfig.doc, manifest, layer);
}
