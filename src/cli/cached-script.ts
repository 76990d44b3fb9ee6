// Runs a bundled command (CommonJS text, scripts/bundle-cli.mjs) through V8's code cache, the way
// Node 22's module compile cache would: compiling the bundle and, above all, the functions it
// calls on first use costs `vigil protect image` ~7 ms of CPU at every run, which a cache made by
// an earlier run replaces with a load. ES modules cannot take a code cache on Node 20 (vm.Script
// can), hence the CommonJS bundle and this loader.
//
// The cache sits next to the bundle (FILE.v8cache). `npm run build` makes it with one real run
// (scripts/bundle-cli.mjs); a run that finds none usable and succeeds writes a new one
// (atomically; a read-only install just goes without). It is used only when
// its header names this exact bundle (SHA-256 of its text), this Node version and architecture,
// and its payload hashes to the recorded digest; otherwise, or when V8 refuses it anyway, the
// bundle is compiled as usual and a new cache is written. A damaged or stale cache can never
// run: V8 only checks the source's length, so the digest of the text is ours to check.

import { createHash } from "node:crypto";
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { Script } from "node:vm";

const MAGIC = "vigil-v8-cache 1\n";

/** The wrapper's parameters, in order: CommonJS's, and the URL `import.meta.url` stands for. */
const PARAMS = ["exports", "require", "module", "__filename", "__dirname", "__vigil_import_meta_url"] as const;

export interface CachedScript {
  exports: Record<string, unknown>;
  /** How the cache was on load: used, or why not (tests). */
  cache: "used" | "missing" | "stale" | "rejected";
  /** Writes a cache when none was used (never throws); a second call does nothing. */
  save(): void;
}

/**
 * Loads and runs `file` (a CommonJS bundle). `shared` answers its require() of these specifiers
 * with modules the caller already has (the same instances as the rest of the CLI's); the rest go
 * to Node's require, resolved from the bundle's directory. `importMetaUrl` is what the bundle's
 * `import.meta.url` was (the ES module it replaces).
 */
export function loadCachedScript(file: string, shared: Readonly<Record<string, unknown>>, importMetaUrl: string): CachedScript {
  const source = readFileSync(file, "utf8");
  const cacheFile = `${file}.v8cache`;
  const sourceDigest = sha256(source);
  const read = readCache(cacheFile, sourceDigest);
  const data = typeof read === "string" ? undefined : read;
  const script = new Script(`(function (${PARAMS.join(", ")}) {${source}\n})`, {
    filename: file,
    ...(data !== undefined ? { cachedData: data } : {}),
  });
  const cache: CachedScript["cache"] = typeof read === "string" ? read : script.cachedDataRejected === true ? "rejected" : "used";
  const nodeRequire = createRequire(file);
  const require = (id: string): unknown => (Object.hasOwn(shared, id) ? shared[id] : nodeRequire(id));
  const module = { exports: {} as Record<string, unknown> };
  const run = script.runInThisContext() as (...args: unknown[]) => void;
  run(module.exports, require, module, file, dirname(file), importMetaUrl);
  let saved = cache === "used";
  return {
    exports: module.exports,
    cache,
    save() {
      if (saved) return;
      saved = true;
      writeCache(cacheFile, sourceDigest, script.createCachedData());
    },
  };
}

/** The cache's payload when its header matches, else why not. */
function readCache(cacheFile: string, sourceDigest: string): Buffer | "missing" | "stale" {
  let bytes: Buffer;
  try {
    bytes = readFileSync(cacheFile);
  } catch {
    return "missing";
  }
  const headerEnd = bytes.indexOf("\n", MAGIC.length);
  if (headerEnd < 0 || bytes.subarray(0, MAGIC.length).toString("latin1") !== MAGIC) return "stale";
  let recorded: Record<string, unknown>;
  try {
    recorded = JSON.parse(bytes.subarray(MAGIC.length, headerEnd).toString("utf8")) as Record<string, unknown>;
  } catch {
    return "stale";
  }
  const data = bytes.subarray(headerEnd + 1);
  const wanted = madeFor(sourceDigest);
  if (Object.keys(wanted).some((k) => recorded[k] !== wanted[k]) || recorded["payload"] !== sha256(data)) return "stale";
  return data;
}

function writeCache(cacheFile: string, sourceDigest: string, data: Buffer): void {
  const tmp = `${cacheFile}.${process.pid}.tmp`;
  try {
    const header = JSON.stringify({ ...madeFor(sourceDigest), payload: sha256(data) });
    writeFileSync(tmp, Buffer.concat([Buffer.from(`${MAGIC}${header}\n`), data]), { mode: 0o644 });
    renameSync(tmp, cacheFile);
  } catch {
    // A read-only install (or a full disk): every run compiles, as without a cache.
    rmSync(tmp, { force: true });
  }
}

/** What a cache is made for: this bundle text, this Node and V8, this architecture. */
function madeFor(sourceDigest: string): Record<string, string> {
  return { source: sourceDigest, node: process.version, v8: process.versions.v8, arch: process.arch };
}

function sha256(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
