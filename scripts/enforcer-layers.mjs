// Build step after `make -C enforcer`: writes, next to each enforcer binary, the enforcer-only
// image layer that `vigil protect image` adds (dist/enforcer/linux-ARCH/vigil-enforcer.layer.tar.gz)
// and its two digests (…/vigil-enforcer.layer.json: the layer's and its tar's), so the command does
// not spend 10–30 ms on gzip -9 at every run. It is made by the command's own code
// (dist/protect/image/enforcer-layer.js), and the command uses it only when the tar it builds from
// the binary it has hashes to the recorded DiffID and the layer file to the recorded digest
// (src/protect/image/enforcer-layer.ts): a stale file is ignored, never trusted. The layer is
// written first, the digests last: a build that stops half-way leaves digests that do not match.
//
//   node scripts/enforcer-layers.mjs        (run by `npm run build`)

import { readFile, rename, writeFile } from "node:fs/promises";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { enforcerLayer, prebuiltDigests, PREBUILT_DIGESTS_SUFFIX, PREBUILT_LAYER_SUFFIX } = await import(join(root, "dist/protect/image/enforcer-layer.js"));

for (const arch of ["amd64", "arm64"]) {
  const binary = join(root, "dist/enforcer", `linux-${arch}`, "vigil-enforcer");
  const enforcer = await readFile(binary);
  const layer = enforcerLayer({ enforcer }, "oci");
  const out = `${binary}${PREBUILT_LAYER_SUFFIX}`;
  const digests = `${binary}${PREBUILT_DIGESTS_SUFFIX}`;
  await writeFile(`${out}.tmp`, layer.bytes);
  await rename(`${out}.tmp`, out);
  await writeFile(`${digests}.tmp`, prebuiltDigests(layer));
  await rename(`${digests}.tmp`, digests);
  console.log(`enforcer-layers: ${out.slice(root.length + 1)} ${layer.digest} (${layer.size} bytes)`);
}
