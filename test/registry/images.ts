// Test images built in TypeScript: one small layer, a config with the given ENTRYPOINT/CMD.

import { layerFromEntries } from "../../src/oci/layer.js";
import { buildImage, type BuiltImage, type ContainerConfig, type MediaTypeFamily } from "../../src/oci/image.js";
import type { PlatformSpec } from "../../src/registry/manifest.js";

export function testImage(config: ContainerConfig, platform: PlatformSpec = { os: "linux", architecture: "amd64" }, family: MediaTypeFamily = "oci", marker = "x"): BuiltImage {
  const layer = layerFromEntries([
    { type: "dir", path: "app", mode: 0o755 },
    { type: "file", path: "app/marker", mode: 0o644, content: Buffer.from(`${marker} ${platform.architecture}\n`) },
  ]);
  return buildImage({ platform, config, layers: [layer], family });
}
