// vigil protect image between OCI image layout folders and docker-archive files (no registry):
// deterministic output, no-op reprotection, exact undo, layers carried over byte for byte.

import { existsSync, readFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeTar } from "../../src/oci/tar.js";
import { run } from "../cli/helpers.js";
import { freshDir } from "../cli/helpers.js";
import { writeLayout } from "./layout-fixture.js";

describe("vigil protect image with OCI layouts and archives", () => {
  it("layout → layout → archive → layout: same digests each way, undone exactly", async () => {
    const dir = freshDir();
    const original = await writeLayout(join(dir, "src"));
    const p = await run(["protect", "image", `oci:${join(dir, "src")}:v1`, `oci:${join(dir, "out")}:p`]);
    expect(p.code, p.stderr).toBe(0);
    const digest = p.stdout.trim();
    expect(digest).not.toBe(original);
    expect(existsSync(join(dir, "out", "blobs", "sha256", digest.slice(7)))).toBe(true);
    // Deterministic: a second run into another folder gives the same digest; reprotecting is a no-op.
    expect((await run(["protect", "image", join(dir, "src"), `oci:${join(dir, "out2")}`])).stdout.trim()).toBe(digest);
    expect((await run(["protect", "image", `oci:${join(dir, "out")}:p`, `oci:${join(dir, "out")}:p2`])).stdout.trim()).toBe(digest);
    // Through a docker-archive and back.
    const a = await run(["protect", "image", `oci:${join(dir, "out")}:p`, `docker-archive:${join(dir, "p.tar")}:example/app:p`]);
    expect(a.stdout.trim()).toBe(digest);
    const tar = readFileSync(join(dir, "p.tar"));
    const again = await run(["protect", "image", `oci:${join(dir, "out")}:p`, `docker-archive:${join(dir, "p2.tar")}:example/app:p`]);
    expect(again.code).toBe(0);
    expect(readFileSync(join(dir, "p2.tar")).equals(tar)).toBe(true);
    const u = await run(["unprotect", "image", `docker-archive:${join(dir, "p.tar")}`, `oci:${join(dir, "back")}`]);
    expect(u.code, u.stderr).toBe(0);
    expect(u.stdout.trim()).toBe(original);
    const index = JSON.parse(readFileSync(join(dir, "back", "index.json"), "utf8")) as { manifests: { digest: string }[] };
    expect(index.manifests.map((m) => m.digest)).toEqual([original]);
  });

  it("user errors: a missing layout, a tar that is no image, unknown options", async () => {
    const dir = freshDir();
    await writeFile(join(dir, "junk.tar"), writeTar([{ type: "file", path: "x", mode: 0o644, content: Buffer.from("x") }]));
    const missing = await run(["protect", "image", `oci:${join(dir, "nope")}`, `oci:${join(dir, "o")}`]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/not an OCI image layout/);
    const junk = await run(["protect", "image", join(dir, "junk.tar"), `oci:${join(dir, "o")}`]);
    expect(junk.code).toBe(2);
    expect(junk.stderr).toMatch(/neither a docker save archive nor an OCI layout/);
    expect((await run(["unprotect", "image", "a", "b", "--policy", "p"])).stderr).toMatch(/--policy is an option of protect image/);
    expect((await run(["protect", "image", "only-one"])).code).toBe(2);
  });
});
