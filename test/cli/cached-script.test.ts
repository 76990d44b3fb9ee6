// The code cache of the bundled commands (src/cli/cached-script.ts): a cache is used only when it
// was made for exactly this bundle text, Node and V8; anything else (missing, damaged, made for
// another bundle of the same length, which V8 itself would take) is ignored, the bundle runs
// compiled as usual, and a good cache replaces it. And the built CLI runs with a corrupt one.

import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { loadCachedScript } from "../../src/cli/cached-script.js";
import { writeLayout } from "../protect/layout-fixture.js";
import { freshDir } from "./helpers.js";

const BUNDLE = `"use strict";
const shared = require("../shared.js");
const { join } = require("node:path");
exports.greet = (name) => shared.prefix + name + " from " + join("a", "b") + " at " + __vigil_import_meta_url;
exports.sum = (xs) => xs.reduce((a, b) => a + b, 0);
`;

function setUp(text = BUNDLE): string {
  const dir = freshDir("vigil-cache-");
  const file = join(dir, "bundle.cjs");
  writeFileSync(file, text);
  return file;
}

const load = (file: string) => loadCachedScript(file, { "../shared.js": { prefix: "hello " } }, "file:///x/bundle.js");

describe("code cache of a bundled command", () => {
  it("the first run writes the cache, the next one uses it; the bundle works either way", () => {
    const file = setUp();
    const first = load(file);
    expect(first.cache).toBe("missing");
    expect((first.exports["greet"] as (n: string) => string)("you")).toBe("hello you from a/b at file:///x/bundle.js");
    first.save();
    expect(readFileSync(`${file}.v8cache`).subarray(0, 17).toString()).toBe("vigil-v8-cache 1\n");
    const second = load(file);
    expect(second.cache).toBe("used");
    expect((second.exports["sum"] as (xs: number[]) => number)([1, 2, 3])).toBe(6);
    second.save(); // nothing to do: the cache was used
    expect(readdirSync(join(file, ".."))).toEqual(["bundle.cjs", "bundle.cjs.v8cache"]);
  });

  it("a damaged, truncated or foreign cache is ignored and replaced", () => {
    const file = setUp();
    load(file).save();
    const good = readFileSync(`${file}.v8cache`);
    const damaged = Buffer.from(good);
    damaged[damaged.length - 100] = (damaged[damaged.length - 100] ?? 0) ^ 0xff; // in V8's payload, which V8 does not check
    const cases: Buffer[] = [damaged, good.subarray(0, 40), good.subarray(0, good.length - 1), Buffer.from("garbage"), Buffer.alloc(0), Buffer.from("vigil-v8-cache 1\n{not json\n")];
    for (const bytes of cases) {
      writeFileSync(`${file}.v8cache`, bytes);
      const r = load(file);
      expect(r.cache).toBe("stale");
      expect((r.exports["sum"] as (xs: number[]) => number)([4, 5])).toBe(9);
      r.save();
      expect(load(file).cache).toBe("used");
    }
  });

  it("a cache made for another bundle of the same length is refused (V8 alone would run the old code)", () => {
    const file = setUp();
    load(file).save();
    const cache = readFileSync(`${file}.v8cache`);
    const other = BUNDLE.replace("xs.reduce((a, b) => a + b, 0)", "xs.reduce((a, b) => a * b, 1)");
    expect(other.length).toBe(BUNDLE.length);
    writeFileSync(file, other);
    writeFileSync(`${file}.v8cache`, cache);
    const r = load(file);
    expect(r.cache).toBe("stale");
    expect((r.exports["sum"] as (xs: number[]) => number)([2, 3, 4])).toBe(24);
  });

  it("a cache that cannot be written (read-only install) is no error and leaves nothing behind", () => {
    const file = setUp();
    mkdirSync(`${file}.v8cache`); // rename onto a directory fails
    const r = load(file);
    expect(r.cache).toBe("missing");
    expect(() => r.save()).not.toThrow();
    expect(readdirSync(join(file, "..")).sort()).toEqual(["bundle.cjs", "bundle.cjs.v8cache"]);
  });
});

const DIST = fileURLToPath(new URL("../../dist/", import.meta.url));

describe("the built CLI", () => {
  it("npm run build made a code cache that a new process uses", async () => {
    const bundle = join(DIST, "cli/commands/protect-image.cjs");
    expect(existsSync(`${bundle}.v8cache`), "dist/cli/commands/protect-image.cjs.v8cache: run npm run build").toBe(true);
    const script = `const { loadCachedScript } = await import(${JSON.stringify(join(DIST, "cli/cached-script.js"))});
      const errors = await import(${JSON.stringify(join(DIST, "cli/errors.js"))});
      process.stdout.write(loadCachedScript(${JSON.stringify(bundle)}, { "../errors.js": errors, "../load-policy.js": {} }, "file:///x.js").cache);`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--input-type=module", "-e", script]);
    expect(stdout).toBe("used");
  });

  it("protect image runs with a corrupt code cache, and leaves a good one", async () => {
    expect(existsSync(join(DIST, "cli/commands/protect-image.cjs")), "dist/cli/commands/protect-image.cjs: run npm run build").toBe(true);
    // A copy of dist/ (without the enforcers), so the real one is not touched.
    const dir = freshDir("vigil-cache-cli-");
    cpSync(DIST, join(dir, "dist"), { recursive: true, filter: (src) => !src.startsWith(join(DIST, "enforcer")) && !src.endsWith(".v8cache") });
    writeFileSync(join(dir, "package.json"), readFileSync(join(DIST, "../package.json")));
    const cacheFile = join(dir, "dist/cli/commands/protect-image.cjs.v8cache");
    writeFileSync(cacheFile, Buffer.concat([Buffer.from("vigil-v8-cache 1\n{}\n"), Buffer.alloc(4096, 0xa5)]));
    const src = join(dir, "src");
    await writeLayout(src);
    const vigil = (dest: string) =>
      promisify(execFile)(process.execPath, [join(dir, "dist/cli/main.js"), "protect", "image", `oci:${src}:v1`, `oci:${join(dir, dest)}`], {
        env: { ...process.env, VIGIL_ENFORCER_DIR: join(DIST, "enforcer") },
      });
    const first = await vigil("out1");
    expect(first.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(readFileSync(cacheFile).subarray(0, 18).toString()).toBe('vigil-v8-cache 1\n{');
    expect(readFileSync(cacheFile).length).toBeGreaterThan(10_000);
    const second = await vigil("out2");
    expect(second.stdout).toBe(first.stdout);
  });

  it("the installed executable (package.json bin) runs protect image in CommonJS, the same as main.js, and every other command through main.js", async () => {
    const pkg = JSON.parse(readFileSync(join(DIST, "../package.json"), "utf8")) as { bin: { vigil: string } };
    const bin = join(DIST, "..", pkg.bin.vigil);
    expect(bin).toBe(join(DIST, "cli/vigil.cjs"));
    const dir = freshDir("vigil-bin-cli-");
    const src = join(dir, "src");
    await writeLayout(src);
    const env = { ...process.env, VIGIL_ENFORCER_DIR: join(DIST, "enforcer") };
    const run = (entry: string, args: string[]) => promisify(execFile)(process.execPath, [entry, ...args], { env }).catch((e: { code: number; stdout: string; stderr: string }) => e);
    const viaBin = await run(bin, ["protect", "image", `oci:${src}:v1`, `oci:${join(dir, "out1")}`]);
    const viaMain = await run(join(DIST, "cli/main.js"), ["protect", "image", `oci:${src}:v1`, `oci:${join(dir, "out2")}`]);
    expect(viaBin.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    expect(viaBin.stdout).toBe(viaMain.stdout);
    const back = await run(bin, ["unprotect", "image", `oci:${join(dir, "out1")}`, `oci:${join(dir, "back")}`]);
    expect(back.stdout).toMatch(/^sha256:[0-9a-f]{64}\n$/);
    // A user error: the same message and exit code 2 either way.
    const wrongBin = await run(bin, ["protect", "image", `oci:${src}:v1`]);
    const wrongMain = await run(join(DIST, "cli/main.js"), ["protect", "image", `oci:${src}:v1`]);
    expect((wrongBin as { code: number }).code).toBe(2);
    expect(wrongBin.stderr).toBe(wrongMain.stderr);
    expect(wrongBin.stderr).toMatch(/^vigil: error: protect image: expected SOURCE and DEST/);
    const version = await run(bin, ["--version"]);
    expect(version.stdout).toBe((await run(join(DIST, "cli/main.js"), ["--version"])).stdout);
  });
});
