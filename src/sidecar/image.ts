// The sidecar image: FROM scratch, /vigil/enforcer (the static enforcer of each architecture),
// VOLUME /vigil, and a command that exits 0 at once (the enforcer's --noop), as an OCI index for
// linux/amd64 and linux/arm64. Pure: the same binaries and version give the same digests.

import { buildImage, buildIndex, type BuiltIndex } from "../oci/image.js";
import { layerFromEntries } from "../oci/layer.js";
import type { PlatformSpec } from "../registry/manifest.js";

export type SidecarArch = "amd64" | "arm64";
export const SIDECAR_ARCHES: readonly SidecarArch[] = ["amd64", "arm64"];

export const SIDECAR_ENFORCER_PATH = "/vigil/enforcer";
export const SIDECAR_VOLUME = "/vigil";
export const SIDECAR_CMD: readonly string[] = [SIDECAR_ENFORCER_PATH, "--noop"];

const PLATFORMS: Record<SidecarArch, PlatformSpec> = {
  amd64: { os: "linux", architecture: "amd64" },
  arm64: { os: "linux", architecture: "arm64", variant: "v8" },
};

export function buildSidecarImage(enforcers: Readonly<Record<SidecarArch, Uint8Array>>, version: string): BuiltIndex {
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
        ]),
      ],
      config: { Cmd: [...SIDECAR_CMD], Volumes: { [SIDECAR_VOLUME]: {} }, Labels: labels },
      history: [{ created_by: `vigil sidecar build: COPY enforcer ${SIDECAR_ENFORCER_PATH}`, comment: `vigil ${version}` }],
    }),
  );
  return buildIndex(images, "oci", { "org.opencontainers.image.version": version });
}
