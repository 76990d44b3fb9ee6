// The one layer protection adds: /vigil/ (0755), /vigil/enforcer (0755), and when asked
// /vigil/policy and /vigil/ca.pem (0644), root-owned, mtime 0, gzip'ed deterministically.

import { layerFromEntries, type Layer } from "../../oci/layer.js";
import type { TarEntry } from "../../oci/tar.js";
import { DOCKER_LAYER_GZIP, OCI_LAYER_GZIP } from "../../registry/media-types.js";
import { CA_PATH, ENFORCER_PATH, POLICY_PATH } from "./config.js";

export interface LayerContents {
  enforcer: Uint8Array;
  policy?: Uint8Array;
  ca?: Uint8Array;
}

const rel = (p: string): string => p.replace(/^\//, "");

export function enforcerLayer(contents: LayerContents, family: "oci" | "docker"): Layer {
  const entries: TarEntry[] = [
    { type: "dir", path: "vigil", mode: 0o755 },
    { type: "file", path: rel(ENFORCER_PATH), mode: 0o755, content: contents.enforcer },
  ];
  if (contents.policy !== undefined) entries.push({ type: "file", path: rel(POLICY_PATH), mode: 0o644, content: contents.policy });
  if (contents.ca !== undefined) entries.push({ type: "file", path: rel(CA_PATH), mode: 0o644, content: contents.ca });
  const layer = layerFromEntries(entries, OCI_LAYER_GZIP);
  return family === "docker" ? { ...layer, mediaType: DOCKER_LAYER_GZIP } : layer;
}

/** Words for the history entry. */
export function layerContentsLabel(contents: LayerContents): string {
  return ["enforcer", ...(contents.policy !== undefined ? ["policy"] : []), ...(contents.ca !== undefined ? ["CA bundle"] : [])].join(", ");
}
