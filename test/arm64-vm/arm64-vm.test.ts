// The arm64 enforcer on a real arm64 kernel: scripts/arm64-vm.sh boots Debian's cloud-arm64 kernel
// under qemu-system-aarch64 (TCG) with the arm64 enforcer and probes, and test/arm64-vm/init.sh runs
// the scenarios inside. Under qemu-user (test/enforcer/arm64.test.ts) ptrace cannot run; here every
// arm64-specific path runs for real: the syscall table, the registers rewritten at a seccomp stop
// (network and file denies), the exit stub of a denied exec, the audit arch of the filter.

import { spawnSync } from "node:child_process";
import path from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { REPO, ensureBuilt } from "../enforcer/helpers/paths.js";

type Case = Record<string, string>;
const cases = new Map<string, Case>();
let output = "";

beforeAll(() => {
  ensureBuilt();
  const r = spawnSync("bash", [path.join(REPO, "scripts/arm64-vm.sh")], { encoding: "utf8", timeout: 600_000, killSignal: "SIGKILL", maxBuffer: 64 * 1024 * 1024 });
  output = `${r.stdout}\n${r.stderr}`;
  for (const line of output.split(/\r?\n/)) {
    const m = /^VIGIL-CASE (\S+) (.*)$/.exec(line);
    if (m === null) continue;
    // `rc=N blocked=N out=... err=...` (out and err may hold spaces and `=`), or plain key=value pairs
    const run = /^rc=(\S*) blocked=(\S*) out=(.*) err=(.*)$/.exec(m[2] ?? "");
    const fields: Case = run !== null ? { rc: run[1] ?? "", blocked: run[2] ?? "", out: run[3] ?? "", err: run[4] ?? "" } : Object.fromEntries((m[2] ?? "").split(" ").map((kv) => [kv.split("=")[0] ?? "", kv.slice(kv.indexOf("=") + 1)]));
    cases.set(m[1] ?? "", fields);
  }
}, 660_000);

function get(name: string): Case {
  const c = cases.get(name);
  if (c === undefined) throw new Error(`scenario ${name} did not report\n${output.slice(-4000)}`);
  return c;
}

test("the VM booted an arm64 kernel and ran every scenario", () => {
  expect(output).toMatch(/VIGIL-KERNEL aarch64 /);
  expect(output, output.slice(-4000)).toContain("VIGIL-DONE");
});

describe.each(["seccomp", "landlock"])("exec decisions, mechanism %s", (mech) => {
  test("a denied program never runs (126); an allowed one does", () => {
    expect(get(`exec-denied-${mech}`).rc).toBe("126");
    expect(get(`exec-allowed-${mech}`)).toMatchObject({ rc: "0", blocked: "0" });
  });
  test("through a shell: refused and reported, the shell goes on", () => {
    expect(get(`exec-shell-${mech}`)).toMatchObject({ rc: "0", blocked: "1", out: "REFUSED|ALLOWED|" });
  });
});

test("the seccomp-path denial of a direct exec is reported (blocked event)", () => {
  expect(get("exec-denied-seccomp").blocked).toBe("1");
});

test("network: a denied connect fails with EPERM (registers rewritten at the seccomp stop); an allowed one reaches the kernel", () => {
  expect(get("net-denied")).toMatchObject({ blocked: "1", out: "connect errno=EPERM|" });
  expect(get("net-allowed")).toMatchObject({ blocked: "0", out: "connect errno=ECONNREFUSED|" });
});

test("network: datagram sends are made on the process's behalf (call skipped, our result returned)", () => {
  expect(get("udp-denied")).toMatchObject({ blocked: "1", out: "sendto errno=EPERM|" });
  expect(get("udp-allowed")).toMatchObject({ blocked: "0", out: "sendto ok n=5|" });
  expect(get("udp-mmsg")).toMatchObject({ blocked: "1", out: "sendmmsg rc=2 len=2,2,77,77|" });
});

test("network: listen outside network.listen.allow is refused, inside it works", () => {
  expect(get("listen-denied")).toMatchObject({ blocked: "1", out: "bind ok|listen errno=EPERM|" });
  expect(get("listen-allowed")).toMatchObject({ blocked: "0", out: "bind ok|listen ok|" });
});

test("files.readOnly: write, unlink and rename refused, the file unchanged; the app's own log still written", () => {
  expect(get("files-readonly").out).toBe("write errno=EPERM|unlink errno=EPERM|rename errno=EPERM|write ok|");
  expect(get("files-readonly").blocked).toBe("3");
  expect(get("files-content")).toMatchObject({ content: "original", log: "x" });
});

test("files.readOnly without Landlock: a symlink race never reaches the read-only file; every refusal reported; the app's own O_TRUNC write truncates", () => {
  expect(get("files-race")).toMatchObject({ rc: "0", files: "ptrace", conf: "original" });
  expect(get("files-race").blocked).toBe(get("files-race").refused);
  expect(get("files-own")).toMatchObject({ rc: "0", blocked: "1", out: "write ok|write errno=EPERM|" });
  expect(get("files-own-content")).toMatchObject({ own: "x", conf: "original" });
  // a won race reaches the exit check: the close run in the process (svc #0 rewound, x8, x0) is
  // refused by the program's own filter, so the program is killed
  expect(get("files-race-deny-close")).toMatchObject({ rc: "137" });
  expect(get("files-race-deny-close").err).toMatch(/cannot close a refused file \(close: Operation not permitted\); killed/);
  expect(get("files-race-deny-close-content").conf).toBe("original");
});

test("routes around ptrace are closed on arm64 too: clone3 -> ENOSYS, CLONE_UNTRACED -> EPERM", () => {
  expect(get("clone3").out).toBe("clone3 errno=ENOSYS|");
  expect(get("untraced").out).toBe("clone errno=EPERM|");
});

test("a process entered from outside gets the application's filter: its write to a read-only file fails (EPERM), its other write works", () => {
  // three filters: the application's, the namespace one, and the guard that keeps the session (which kept
  // CAP_SYS_PTRACE) off the enforcer's tasks
  expect(get("adopt-filter")).toMatchObject({ rc: "0", blocked: "1", out: "ro=1|rw=0|Seccomp_filters: 3|" });
  expect(get("adopt-filter-content")).toMatchObject({ f: "original", attach: expect.stringMatching(/^[1-9]/) });
});
