// node:zlib, loaded the first time a layer is compressed or decompressed. `vigil protect image`
// with the layer made at build time never needs it, and loading it costs 2–3 ms of start-up.

import { createRequire } from "node:module";

type Zlib = typeof import("node:zlib");

const require = createRequire(import.meta.url);
let loaded: Zlib | undefined;

export function zlib(): Zlib {
  loaded ??= require("node:zlib") as Zlib;
  return loaded;
}
