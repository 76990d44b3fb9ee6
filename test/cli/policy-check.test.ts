import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { run } from "./helpers.js";

const broken = fileURLToPath(new URL("../fixtures/policies/broken/", import.meta.url));
const fixtures = fileURLToPath(new URL("../fixtures/policies/", import.meta.url));
const sources = readdirSync(broken).filter((f) => !f.endsWith(".out"));

describe("vigil policy check", () => {
  // Each broken policy's report is pinned, text for text: every error and warning at once,
  // file:line:col, the source line and a caret under the offending token. Exit code 2.
  test.each(sources)("%s: the exact report", async (file) => {
    const expected = readFileSync(join(broken, file.replace(/\.[a-z]+$/, ".out")), "utf8");
    expect(await run(["policy", "check", file], { cwd: broken })).toEqual({ code: 2, stdout: expected, stderr: "" });
  });

  test("a valid policy using every section: no problem, exit 0 (the enforcer enforces them all)", async () => {
    const result = await run(["policy", "check", "web.yaml"], { cwd: fixtures });
    expect(result).toEqual({ code: 0, stdout: "no problems in web.yaml\n", stderr: "" });
  });

  test("several files at once; any error makes exit 2", async () => {
    const result = await run(["policy", "check", join(fixtures, "web.yaml"), join(broken, "typos.json")]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("no problems in");
    expect(result.stdout).toContain("9 errors in");
  });

  test("usage errors", async () => {
    expect((await run(["policy", "check"])).code).toBe(2);
    expect((await run(["policy", "check", "--x", "a"])).code).toBe(2);
    expect((await run(["policy", "check", "/nonexistent.yaml"])).stderr).toContain("no such file");
  });
});

describe("vigil policy explain", () => {
  const policy = join(fixtures, "web.yaml");
  test("exec: the rule that decides, with symlinks resolved on this machine", async () => {
    const sh = await run(["policy", "explain", policy, "--exec", "/bin/sh"]);
    expect(sh.code).toBe(0);
    expect(sh.stdout.split("\n")[0]).toBe('exec /bin/sh: allowed by exec.allow[2] "/bin/*"');
    const json = JSON.parse((await run(["policy", "explain", policy, "--exec", "/usr/bin/nc.openbsd", "--json"])).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ kind: "exec", verdict: "blocked", rule: "exec.deny[0]", pattern: "/usr/bin/nc*", enforced: true });
    const notListed = await run(["policy", "explain", policy, "--exec", "/usr/sbin/nologin"]);
    expect(notListed.stdout.split("\n")[0]).toBe("exec /usr/sbin/nologin: blocked by exec.allow (not in the allow list)");
  });

  test("write and connect: what the policy says, and when the enforcer checks it", async () => {
    const write = await run(["policy", "explain", policy, "--write", "/etc/hosts"]);
    expect(write.stdout).toBe(
      'write /etc/hosts: blocked by files.readOnly[0] "/etc/**"\n  files.readOnly[0] "/etc/**" matches /etc/hosts: the path is read-only\nthe enforcer checks files.* rules when the system call is made (docs/compiled-policy.md)\n',
    );
    const connect = await run(["policy", "explain", policy, "--connect", "169.254.170.2:80", "--exe", "/app/server"]);
    expect(connect.stdout.split("\n")[0]).toBe('connect 169.254.170.2 port 80 from /app/server: allowed by network.connect.exceptions[0] "/app/server"');
    const other = await run(["policy", "explain", policy, "--connect", "[::ffff:169.254.169.254]:80"]);
    expect(other.stdout.split("\n")[0]).toBe('connect ::ffff:169.254.169.254 port 80: blocked by network.connect.deny[1] "169.254.169.254/32"');
  });

  test("usage errors", async () => {
    expect((await run(["policy", "explain", policy])).code).toBe(2);
    expect((await run(["policy", "explain", policy, "--connect", "nowhere"])).code).toBe(2);
    expect((await run(["policy", "explain", policy, "--write", "/a", "--exec", "/b"])).code).toBe(2);
  });
});
