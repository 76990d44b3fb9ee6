// The enforcer's C glob matcher and the TypeScript one (src/policy/glob.ts) must agree:
// every shared case in test/fixtures/glob-cases.json goes through the C matcher (ASan build).
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";

interface GlobCase {
  glob: string;
  path: string;
  match: boolean;
}

const root = path.resolve(import.meta.dirname, "../..");
const cases = (JSON.parse(readFileSync(path.join(root, "test/fixtures/glob-cases.json"), "utf8")) as { cases: GlobCase[] })
  .cases;

describe("C glob matcher", () => {
  it("agrees with every shared case", () => {
    execFileSync("make", ["-C", path.join(root, "enforcer"), "-s", path.join(root, "build/unit/glob-match")], {
      stdio: "inherit",
    });
    const input = cases.map((c) => `${c.glob}\t${c.path}\n`).join("");
    const out = execFileSync(path.join(root, "build/unit/glob-match"), { input, encoding: "utf8" }).trim().split("\n");
    expect(out).toHaveLength(cases.length);
    const disagreements = cases
      .map((c, i) => ({ ...c, c: out[i] }))
      .filter((c) => c.c !== (c.match ? "1" : "0"))
      .map((c) => `${c.glob} vs ${c.path}: expected ${c.match}, C says ${c.c}`);
    expect(disagreements).toEqual([]);
  });
});
