// The generated seccomp filter must leave the kernel's per-syscall action cache (Linux 5.11+) in
// play: every call it always allows is decided on arch and nr before any argument is loaded, so
// read, write, close, futex... never run the filter (the cost left is the kernel's seccomp entry
// path, bench/RESULTS.md). enforcer/tests/unit/seccomp-cache.c replays the kernel's own
// computation (seccomp_is_const_allow) on the program for every combination of needs.
import { execFileSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

const root = path.resolve(import.meta.dirname, "../..");
const enforcer = path.join(root, "enforcer");
const bin = path.join(root, "build/unit/seccomp-cache");

describe("seccomp filter and the kernel's action cache", () => {
  it("reads arguments only for the calls it must look into; hot calls are cached", () => {
    mkdirSync(path.dirname(bin), { recursive: true });
    const sources = ["tests/unit/seccomp-cache.c", "src/seccomp.c", "src/arch.c", "src/arch_x86_64.c", "src/arch_aarch64.c"];
    execFileSync("gcc", ["-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-O1", "-g", "-fsanitize=address,undefined",
      "-fno-sanitize-recover=undefined", "-o", bin, ...sources], { cwd: enforcer, stdio: "inherit" });
    let out = "";
    let code = 0;
    try {
      out = execFileSync(bin, { encoding: "utf8" });
    } catch (e) {
      const err = e as { status: number; stdout: string };
      code = err.status;
      out = err.stdout;
    }
    expect(out, out).not.toMatch(/FAIL/);
    expect(code, out).toBe(0);
    const lines = out.trim().split("\n");
    expect(lines).toHaveLength(8);
    // exec-only (no file or network rules): only clone's flags are read, clone3 is refused by number
    expect(lines[0]).toMatch(/^needs files=0 connect=0 listen=0: insns=\d+ args=\[\d+\] refused-or-traced=\[\d+\]$/);
  });
});
