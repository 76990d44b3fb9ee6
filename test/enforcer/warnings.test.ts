// What the enforcer says at start about a policy that does more than it seems to.
import { copyFileSync, existsSync, symlinkSync } from "node:fs";
import { afterAll, describe, expect, test } from "vitest";
import { runEnforcer } from "./helpers/run.js";
import { makeTempDir } from "./helpers/tmp.js";

const dir = makeTempDir("warnings");
afterAll(() => dir.remove());

describe("start-up warnings", () => {
  // On Alpine /usr/bin/wget is a link to /bin/busybox: denying wget denies the shell too, because
  // exec is judged on the file the kernel runs. The policy is still applied as written.
  test.runIf(existsSync("/bin/busybox"))("a denied name that links to busybox: a warning, and the applets are all denied", async () => {
    copyFileSync("/bin/busybox", dir.join("busybox"));
    symlinkSync("busybox", dir.join("wget"));
    symlinkSync("busybox", dir.join("sh"));
    const policy = `vigil-policy 1\nexec.deny ${dir.join("wget")}\nend\n`;
    const r = await runEnforcer({ command: ["/bin/sh", "-c", `${dir.join("sh")} -c true; echo "sh=$?"`], policy });
    expect(r.stderr).toContain(
      `vigil-enforcer: warning: exec.deny[0] ${dir.join("wget")} is a link to ${dir.join("busybox")}, a multi-call binary: every program it provides (sh, ls, ...) is denied with it, since they are one file to the kernel`,
    );
    expect(r.stdout).toContain("sh=126");
  });

  test("a denied name that is no such link: no warning", async () => {
    const r = await runEnforcer({ command: ["true"], policy: "vigil-policy 1\nexec.deny /usr/bin/wget\nend\n" });
    expect(r.code).toBe(0);
    expect(r.stderr).not.toContain("warning");
  });
});
