// The sidecar image: FROM scratch, /vigil/enforcer (the static enforcer of each architecture),
// VOLUME /vigil, optionally /vigil/ca.pem (the CA bundle the enforcer verifies the console's
// certificate with), and a command that exits 0 at once (the enforcer's --noop), as an OCI index for
// linux/amd64 and linux/arm64. Pure: the same binaries and version give the same digests.

import { buildImage, buildIndex, type BuiltIndex } from "../oci/image.js";
import { layerFromEntries } from "../oci/layer.js";
import type { PlatformSpec } from "../registry/manifest.js";

export type SidecarArch = "amd64" | "arm64";
export const SIDECAR_ARCHES: readonly SidecarArch[] = ["amd64", "arm64"];

export const SIDECAR_ENFORCER_PATH = "/vigil/enforcer";
export const SIDECAR_VOLUME = "/vigil";
/** Where the enforcer looks for the console's CA bundle by default (VIGIL_CONSOLE_CA). */
export const SIDECAR_CA_PATH = "/vigil/ca.pem";
export const SIDECAR_CMD: readonly string[] = [SIDECAR_ENFORCER_PATH, "--noop"];

const PLATFORMS: Record<SidecarArch, PlatformSpec> = {
  amd64: { os: "linux", architecture: "amd64" },
  arm64: { os: "linux", architecture: "arm64", variant: "v8" },
};

export interface SidecarContents {
  /** A CA bundle (PEM, checked with checkCaBundle) put at /vigil/ca.pem. */
  caBundle?: Uint8Array;
}

export function buildSidecarImage(enforcers: Readonly<Record<SidecarArch, Uint8Array>>, version: string, contents: SidecarContents = {}): BuiltIndex {
  const labels = {
    "org.opencontainers.image.title": "vigil-sidecar",
    "org.opencontainers.image.description": "Vigil enforcer for volumesFrom / init-copy delivery",
    "org.opencontainers.image.version": version,
  };
  const images = SIDECAR_ARCHES.map((arch) =>
    buildImage({
      platform: PLATFORMS[arch],
      layers: [
        layerFromEntries([
          { type: "dir", path: "vigil", mode: 0o755 },
          { type: "file", path: "vigil/enforcer", mode: 0o755, content: enforcers[arch] },
          ...(contents.caBundle === undefined ? [] : [{ type: "file" as const, path: "vigil/ca.pem", mode: 0o644, content: contents.caBundle }]),
        ]),
      ],
      config: { Cmd: [...SIDECAR_CMD], Volumes: { [SIDECAR_VOLUME]: {} }, Labels: labels },
      history: [
        {
          created_by: `vigil sidecar build: COPY enforcer ${SIDECAR_ENFORCER_PATH}${contents.caBundle === undefined ? "" : ` ca.pem ${SIDECAR_CA_PATH}`}`,
          comment: `vigil ${version}`,
        },
      ],
    }),
  );
  return buildIndex(images, "oci", { "org.opencontainers.image.version": version });
}
