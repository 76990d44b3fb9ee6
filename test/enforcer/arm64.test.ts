// The arm64 enforcer is cross-compiled; ptrace cannot run under qemu-user, but the
// binary itself must be a static AArch64 executable whose policy parser and option
// handling work. (qemu-aarch64 comes from Debian's qemu-user, installed by setup.sh.)
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const binary = path.join(root, "dist/enforcer/linux-arm64/vigil-enforcer");
const dir = mkdtempSync(path.join(tmpdir(), "vigil-arm64-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(args: string[]) {
  return spawnSync("qemu-aarch64", [binary, ...args], { encoding: "utf8", timeout: 20_000 });
}

describe("arm64 enforcer", () => {
  it("is a static AArch64 ELF executable", () => {
    const elf = readFileSync(binary);
    expect(elf.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
    expect(elf.readUInt16LE(18)).toBe(183); // e_machine = EM_AARCH64
    const phoff = Number(elf.readBigUInt64LE(32));
    const phentsize = elf.readUInt16LE(54);
    const phnum = elf.readUInt16LE(56);
    const types = Array.from({ length: phnum }, (_, i) => elf.readUInt32LE(phoff + i * phentsize));
    expect(types).not.toContain(3); // PT_INTERP: no dynamic loader needed
  });

  it("runs: --version names the architecture", () => {
    const r = run(["--version"]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^vigil-enforcer \S+ \(arm64\)$/m);
  });

  it("parses a compiled policy and rejects a malformed one with its line", () => {
    const good = path.join(dir, "good");
    writeFileSync(good, "vigil-policy 1\nmode enforce\nexec.allow /bin/*\nexec.deny /usr/bin/wget\nend\n");
    const ok = run(["--policy", good, "--check-policy"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout).toContain("1 allow, 1 deny");

    const bad = path.join(dir, "bad");
    writeFileSync(bad, "vigil-policy 1\nexec.deny usr/bin/wget\nend\n");
    const no = run(["--policy", bad, "--check-policy"]);
    expect(no.status).toBe(2);
    expect(no.stderr).toMatch(/^vigil-enforcer: policy:2: exec\.deny value "usr\/bin\/wget" must be an absolute path/m);
  });
});
