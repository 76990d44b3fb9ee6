// Self-protection: an application that is root inside its container (with SYS_PTRACE added to the
// container for the enforcer, as on Fargate) cannot kill, stop, trace or write into the enforcer,
// and when the enforcer dies nothing it traced survives it.
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { ENFORCER, enforcerContainers } from "./enforcer-container.js";

const containers = enforcerContainers("self");

beforeAll(() => {
  // exec rules, so the seccomp mechanism is on as in production; perl is the attacker's tool here
  writeFileSync(path.join(containers.dir, "policy"), "vigil-policy 1\nexec.allow /bin/*\nexec.allow /usr/bin/*\nexec.deny /usr/bin/wget\nend\n");
});

function inContainer(script: string) {
  return containers.run(path.join(containers.dir, "policy"), script);
}

describe("the enforcer as PID 1 against a root application", () => {
  test("kill -KILL 1 and kill -STOP 1 do nothing; the application goes on", async () => {
    const r = await inContainer('kill -KILL 1; echo "kill=$?"; kill -STOP 1; echo "stop=$?"; sleep 0.3; grep State /proc/1/status; exit 7');
    expect(r.code, r.stderr).toBe(7);
    expect(r.stdout).toMatch(/^State:\s+S \(sleeping\)$/m);
    expect(r.stderr).toMatch(/"event":"exit".*"status":7/);
  });

  test("the application has no CAP_SYS_PTRACE: ptrace(ATTACH, 1) fails, and so does writing /proc/1/mem", async () => {
    const r = await inContainer(
      [
        "grep CapBnd /proc/self/status",
        // ptrace(PTRACE_ATTACH=16, 1) is syscall 101 on x86_64
        `perl -e '$r = syscall(101, 16, 1, 0, 0); print "attach=$r errno=" . ($!+0) . "\\n"'`,
        `perl -e 'open(F, "+<", "/proc/1/mem") ? print "mem=open\\n" : print "mem=" . ($!+0) . "\\n"'`,
        `perl -e 'open(F, "<", "/proc/1/environ") ? print "environ=open\\n" : print "environ=" . ($!+0) . "\\n"'`,
      ].join("; "),
    );
    expect(r.code, r.stderr).toBe(0);
    const capbnd = /CapBnd:\s+([0-9a-f]+)/.exec(r.stdout)?.[1];
    expect(capbnd, r.stdout).toBeDefined();
    expect(BigInt(`0x${capbnd ?? "0"}`) & (1n << 19n)).toBe(0n); // CAP_SYS_PTRACE
    expect(r.stdout).toMatch(/^attach=-1 errno=1$/m); // EPERM
    expect(r.stdout).toMatch(/^mem=13$/m); // EACCES
    expect(r.stdout).toMatch(/^environ=13$/m);
  });

  test("the enforcer binary on its read-only volume cannot be replaced", async () => {
    const r = await inContainer('cp /bin/true /vigil/enforcer; echo "cp=$?"; rm -f /vigil/enforcer; echo "rm=$?"; test -x /vigil/enforcer && echo still-there');
    expect(r.stdout).toMatch(/^cp=1$/m);
    expect(r.stdout).toMatch(/^rm=1$/m);
    expect(r.stdout).toMatch(/^still-there$/m);
  });
});

// A `docker exec` (ECS Exec) session keeps the container's capabilities, CAP_SYS_PTRACE among them
// (added for the enforcer), which the application starts without. The filter it gets at adoption
// refuses the calls that would reach the enforcer's tasks with it; the same calls on itself work.
describe("a docker exec session against the enforcer", () => {
  test("ptrace(SEIZE/ATTACH, 1), process_vm_readv(1), pidfd_open(1) and opening /proc/1/mem or environ fail with EPERM; the same on itself, and its other files, work", async () => {
    // syscall numbers of x86_64: ptrace 101, process_vm_readv 310, pidfd_open 434
    const perl = [
      "select(undef, undef, undef, 0.3);", // adopted meanwhile (the scan looks every 5 ms)
      'sub try { my ($name, $r) = @_; print "$name=" . ($r < 0 ? "errno" . ($!+0) : "ok") . "\\n" }',
      'my $buf = "\\0" x 8; my $src = "abcdefgh";',
      'my $local = pack("QQ", unpack("J", pack("p", $buf)), 8);',
      "sub readv { my ($pid, $addr) = @_; syscall(310, $pid, $local, 1, pack(\"QQ\", $addr, 8), 1, 0) }",
      'try("seize", syscall(101, 0x4206, 1, 0, 0)); try("attach", syscall(101, 16, 1, 0, 0));',
      'try("pidfd", syscall(434, 1, 0)); try("readv", readv(1, 0x400000));',
      'try("pidfd-self", syscall(434, $$+0, 0)); try("readv-self", readv($$+0, unpack("J", pack("p", $src)))); print "buf=$buf\\n";',
      // the enforcer's memory and environment through /proc (CAP_SYS_PTRACE would let them through)
      'sub op { my ($name, $mode, $path) = @_; print "$name=" . (open(my $f, $mode, $path) ? "ok" : "errno" . ($!+0)) . "\\n" }',
      'op("mem", "<", "/proc/1/mem"); op("mem-rw", "+<", "/proc/1/mem"); op("environ", "<", "/proc/1/environ");',
      'op("environ-self", "<", "/proc/self/environ"); op("hostname", "<", "/etc/hostname"); op("tmp-write", ">", "/tmp/session-file");',
    ].join(" ");
    const session = await containers.session(path.join(containers.dir, "policy"), ["perl", "-e", perl]);
    expect(session.code, session.stderr).toBe(0);
    expect(session.stdout.trim().split("\n")).toEqual([
      "seize=errno1",
      "attach=errno1",
      "pidfd=errno1",
      "readv=errno1",
      "pidfd-self=ok",
      "readv-self=ok",
      "buf=abcdefgh",
      "mem=errno1",
      "mem-rw=errno1",
      "environ=errno1",
      "environ-self=ok",
      "hostname=ok",
      "tmp-write=ok",
    ]);
  });
});

describe("when the enforcer dies, nothing it traced survives", () => {
  test("SIGKILL to the enforcer (not PID 1, e.g. vigil exec) kills the whole traced tree", async () => {
    const marker = path.join(containers.dir, "pids");
    const child = spawn(ENFORCER, ["--events", "/dev/null", "--", "sh", "-c", `sleep 300 & sleep 300 & echo $$ $! > ${marker}; wait`], {
      stdio: "ignore",
    });
    for (let i = 0; i < 100 && !existsSync(marker); i++) await new Promise((r) => setTimeout(r, 50));
    const pids = readFileSync(marker, "utf8").trim().split(/\s+/).map(Number);
    expect(pids).toHaveLength(2);
    child.kill("SIGKILL");
    await new Promise((r) => child.on("exit", r));
    await new Promise((r) => setTimeout(r, 300));
    for (const pid of pids) {
      // gone, or a zombie waiting for whoever inherited it to reap it: in both cases it runs no more
      const stat = spawnSync("cat", [`/proc/${pid}/stat`], { encoding: "utf8" }).stdout;
      const state = /\) (\S) /.exec(stat)?.[1];
      expect(state === undefined || state === "Z", `process ${pid} survived the enforcer: ${stat}`).toBe(true);
    }
  });
});
