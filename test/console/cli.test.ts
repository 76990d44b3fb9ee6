// vigil console's arguments (the serving itself is tested through startConsole).

import { describe, expect, it } from "vitest";
import { run } from "../cli/helpers.js";

describe("vigil console arguments", () => {
  it("refuses unknown arguments and missing values with usage", async () => {
    const bad = await run(["console", "--bogus"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("console: unknown argument --bogus");
    expect(bad.stderr).toContain("usage: vigil console");
    expect((await run(["console", "--db"])).stderr).toContain("--db needs a value");
    expect((await run(["console", "--listen", "nowhere"])).stderr).toContain("expected HOST:PORT");
    expect((await run(["console", "--help"])).stdout).toContain("usage: vigil console");
    expect((await run(["console", "--retention-days", "soon"])).stderr).toContain("--retention-days soon: expected a whole number of days");
  });
});
