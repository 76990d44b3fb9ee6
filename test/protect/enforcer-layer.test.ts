// The enforcer layer: the one made at build time (scripts/enforcer-layers.mjs) is used only when it
// holds exactly the tar of the binary at hand (checked by decompressing it, or by the digests
// recorded with it), and either route gives the same bytes.

import { describe, expect, it } from "vitest";
import { deterministicGzip } from "../../src/oci/layer.js";
import { writeTar } from "../../src/oci/tar.js";
import { enforcerLayer, parsePrebuilt, prebuiltDigests, prepareEnforcerLayer, type PrebuiltLayer } from "../../src/protect/image/enforcer-layer.js";
import { streamSlots, TaskPool } from "../../src/protect/image/task-pool.js";

const enforcer = Buffer.from("\u007fELF pretend enforcer ".repeat(500));
const prebuiltOf = (binary: Buffer): Buffer =>
  deterministicGzip(
    writeTar([
      { type: "dir", path: "vigil", mode: 0o755 },
      { type: "file", path: "vigil/enforcer", mode: 0o755, content: binary },
    ]),
  );

describe("enforcer layer", () => {
  it("a prebuilt layer of the same binary gives the same layer as compressing here", () => {
    const here = enforcerLayer({ enforcer }, "oci");
    const prebuilt = enforcerLayer({ enforcer }, "oci", prebuiltOf(enforcer));
    expect(prebuilt).toEqual(here);
    expect(enforcerLayer({ enforcer }, "docker", prebuiltOf(enforcer)).mediaType).toBe("application/vnd.docker.image.rootfs.diff.tar.gzip");
  });

  it("prepared from the build's files: the same layer, prebuilt or not, stale or not", async () => {
    const here = enforcerLayer({ enforcer }, "oci");
    const built = (binary: Buffer): PrebuiltLayer | null => {
      const layer = enforcerLayer({ enforcer: binary }, "oci");
      return parsePrebuilt(layer.bytes, prebuiltDigests(layer));
    };
    expect(await prepareEnforcerLayer({ enforcer }, built(enforcer))).toEqual(here);
    expect(await prepareEnforcerLayer({ enforcer }, null)).toEqual(here);
    // Another binary's files (the binary rebuilt, the layer step not run again).
    expect(await prepareEnforcerLayer({ enforcer }, built(Buffer.from("another build")))).toEqual(here);
    // This binary's digests, but a layer file that is not the one they describe (damaged, or another build's).
    const digests = prebuiltDigests(here);
    expect(await prepareEnforcerLayer({ enforcer }, parsePrebuilt(Buffer.from("not gzip"), digests))).toEqual(here);
    expect(await prepareEnforcerLayer({ enforcer }, parsePrebuilt(here.bytes.subarray(0, 100), digests))).toEqual(here);
    // Missing or unreadable digests: not used.
    expect(parsePrebuilt(here.bytes, null)).toBeNull();
    expect(parsePrebuilt(null, digests)).toBeNull();
    expect(parsePrebuilt(here.bytes, "{\"digest\": 1")).toBeNull();
    expect(parsePrebuilt(here.bytes, "[]")).toBeNull();
    // With a policy the tar differs from the enforcer-only one: compressed here.
    const policy = Buffer.from("vigil-policy 1\n");
    const withPolicy = await prepareEnforcerLayer({ enforcer, policy }, built(enforcer));
    expect(withPolicy).toEqual(enforcerLayer({ enforcer, policy }, "oci"));
    expect(withPolicy.digest).not.toBe(here.digest);
  });

  it("a stale, corrupt or unrelated prebuilt file is ignored", () => {
    const here = enforcerLayer({ enforcer }, "oci");
    const stale = prebuiltOf(Buffer.concat([enforcer, Buffer.from("older build")]));
    expect(enforcerLayer({ enforcer }, "oci", stale)).toEqual(here);
    expect(enforcerLayer({ enforcer }, "oci", Buffer.from("not gzip"))).toEqual(here);
    const truncated = prebuiltOf(enforcer).subarray(0, 100);
    expect(enforcerLayer({ enforcer }, "oci", truncated)).toEqual(here);
    // With a policy the tar differs from the enforcer-only one: compressed here.
    const withPolicy = enforcerLayer({ enforcer, policy: Buffer.from("vigil-policy 1\n") }, "oci", prebuiltOf(enforcer));
    expect(withPolicy).toEqual(enforcerLayer({ enforcer, policy: Buffer.from("vigil-policy 1\n") }, "oci"));
    expect(withPolicy.digest).not.toBe(here.digest);
  });
});

describe("task pool", () => {
  it("runs tasks as they are added, at most N at once, and reports the first failure after all ended", async () => {
    const pool = new TaskPool(2);
    let running = 0;
    let most = 0;
    const ended: number[] = [];
    const task = (n: number, fail = false) => async (): Promise<void> => {
      running++;
      most = Math.max(most, running);
      await new Promise((r) => setTimeout(r, 5));
      running--;
      ended.push(n);
      if (fail) throw new Error(`task ${n} failed`);
    };
    pool.add(task(1));
    pool.add(task(2, true));
    pool.add(task(3));
    await expect(pool.drain()).rejects.toThrow("task 2 failed");
    expect(most).toBe(2);
    expect(running).toBe(0);
    expect(ended).toContain(1);
  });

  it("stream slots bound how many transfers run at once", async () => {
    const slot = streamSlots(2);
    let running = 0;
    let most = 0;
    const results = await Promise.all(
      [1, 2, 3, 4, 5].map((n) =>
        slot(async () => {
          running++;
          most = Math.max(most, running);
          await new Promise((r) => setTimeout(r, 3));
          running--;
          return n * 10;
        }),
      ),
    );
    expect(results).toEqual([10, 20, 30, 40, 50]);
    expect(most).toBe(2);
  });
});
