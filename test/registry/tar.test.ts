import { gunzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import { layerFromEntries } from "../../src/oci/layer.js";
import { readTar, writeTar, type TarEntry } from "../../src/oci/tar.js";
import { sha256Digest } from "../../src/registry/digest.js";

const entries: TarEntry[] = [
  { type: "file", path: "vigil/enforcer", mode: 0o755, content: Buffer.from("#!binary\n") },
  { type: "dir", path: "vigil", mode: 0o755 },
  { type: "symlink", path: "vigil/link", mode: 0o777, target: "enforcer" },
  { type: "file", path: `${"d".repeat(120)}/${"f".repeat(90)}`, mode: 0o644, content: Buffer.alloc(1000, 1) },
];

describe("tar", () => {
  it("is deterministic whatever the input order, and sorted", () => {
    const a = writeTar(entries);
    const b = writeTar([...entries].reverse());
    expect(a.equals(b)).toBe(true);
    expect(readTar(a).map((e) => e.path)).toEqual([`${"d".repeat(120)}/${"f".repeat(90)}`, "vigil", "vigil/enforcer", "vigil/link"]);
  });

  it("round-trips with uid/gid 0 and mtime 0", () => {
    const read = readTar(writeTar(entries));
    const enforcer = read.find((e) => e.path === "vigil/enforcer");
    expect(enforcer).toMatchObject({ type: "file", mode: 0o755, uid: 0, gid: 0, mtime: 0, size: 9 });
    expect(enforcer?.content.toString()).toBe("#!binary\n");
    expect(read.find((e) => e.path === "vigil/link")).toMatchObject({ type: "symlink", linkname: "enforcer" });
    expect(read.find((e) => e.path === "vigil")).toMatchObject({ type: "dir" });
  });

  it("is read by GNU tar the same way", async () => {
    const { execFileSync } = await import("node:child_process");
    const listing = execFileSync("tar", ["-tvf", "-", "--numeric-owner"], { input: writeTar(entries) }).toString();
    expect(listing).toContain("-rwxr-xr-x 0/0               9 1970-01-01 00:00 vigil/enforcer");
    expect(listing).toContain("lrwxrwxrwx 0/0               0 1970-01-01 00:00 vigil/link -> enforcer");
  });

  it("rejects duplicate and escaping paths", () => {
    expect(() => writeTar([entries[0] as TarEntry, entries[0] as TarEntry])).toThrow("duplicate entry");
    expect(() => writeTar([{ type: "dir", path: "a/../b", mode: 0o755 }])).toThrow("bad path");
  });

  it("gzip layers have stable digests and the DiffID of the plain tar", () => {
    const a = layerFromEntries(entries);
    const b = layerFromEntries([...entries].reverse());
    expect(a.digest).toBe(b.digest);
    expect(a.diffId).toBe(sha256Digest(gunzipSync(a.bytes)));
    expect(a.bytes[9]).toBe(0xff);
  });
});
