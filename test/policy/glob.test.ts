import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { globError, matchGlob } from "../../src/policy/glob.js";

// Shared with the enforcer's C matcher tests: the same table must give the same answers there.
const fixture = JSON.parse(readFileSync(new URL("../fixtures/glob-cases.json", import.meta.url), "utf8")) as {
  cases: { glob: string; path: string; match: boolean }[];
};
const cases = fixture.cases.map((c): [string, string, boolean] => [c.glob, c.path, c.match]);

describe("matchGlob", () => {
  test.each(cases)("%s against %s is %s", (glob, path, expected) => {
    expect(matchGlob(glob, path)).toBe(expected);
  });

  test("does not blow up on many stars", () => {
    const glob = `/${"*a".repeat(30)}b`;
    const path = `/${"a".repeat(5000)}`;
    const start = Date.now();
    expect(matchGlob(glob, path)).toBe(false);
    expect(Date.now() - start).toBeLessThan(1000);
    const deep = `/${"**/".repeat(30)}z`;
    expect(matchGlob(deep, `/${"d/".repeat(200)}y`)).toBe(false);
  });
});

describe("globError", () => {
  test.each(["/usr/bin/*", "/etc/**", "/a/**/b", "/x?y", "/[literal]", "/with space"])("accepts %s", (glob) => {
    expect(globError(glob)).toBeNull();
  });

  test.each([
    ["", "must not be empty"],
    ["usr/bin/*", "must be an absolute path"],
    ["./x", "must be an absolute path"],
    ["/usr//bin", "empty segment"],
    ["/usr/bin/", 'must not end with "/"'],
    ["/", 'must not end with "/"'],
    ["/usr/./bin", 'a "." segment'],
    ["/usr/../bin", 'a ".." segment'],
    ["/..", 'a ".." segment'],
    ["/usr/**.so", '"**" must be a whole segment'],
    ["/a\nb", "line break"],
    ["/a\0b", "NUL"],
  ])("rejects %j", (glob, message) => {
    expect(globError(glob)).toContain(message);
  });
});
