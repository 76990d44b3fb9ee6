// Red-team of `--mechanism notify` (docs/enforcer-cli.md "Mechanisms", enforcer/src/notify.c): an
// attacker runs arbitrary code inside the application, root or not. The first block holds attacks
// refused by design, each next to a legitimate neighbour that still works. The next two blocks hold
// what got through notify's first design, which answered each exec call from the path it read in
// the caller's memory and let Landlock refuse behind it: Landlock grants EXECUTE on the ELF loaders
// (programs need them), and a loader run as a program maps any readable ELF file itself, so every
// way to make the enforcer judge something else than the loader the kernel then ran was a full
// bypass. notify now attaches to the caller at the notification and judges the program at its exec
// event, on the file the kernel runs, as the ptrace mechanisms do: each of these must be refused.
// The last test is a gap that is still open (a `test.fails`).

import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectDidNotRun, expectExit, expectRan, validateEventsAfterEach } from "./helpers/assert.js";
import { blockedExecs, describeExecs, execEvents, execEventsFor } from "./helpers/events.js";
import { makeExecFixture } from "./helpers/fixture.js";
import type { ExecFixture } from "./helpers/fixture.js";
import { ARCH, LOADER, PROBES_DIR, ensureBuilt, probe } from "./helpers/paths.js";
import { compiledPolicy } from "./helpers/policy.js";
import { describeRun, runEnforcer, startEnforcer } from "./helpers/run.js";
import { makeTempDir } from "./helpers/tmp.js";
import type { TempDir } from "./helpers/tmp.js";

validateEventsAfterEach();

const notify = (command: string[], policy: string, extra: { cwd?: string; timeoutMs?: number } = {}) =>
  runEnforcer({ mechanism: "notify", policy, command, timeoutMs: 20_000, ...extra });

// --- attack programs, compiled once (gcc, like seccomp-cache.test.ts) ------------------------------

/** A dynamically linked marker (the loader cannot run the static `marker` probe): appends a line to
 * its last argument, so that it marks the same file whether run directly, through the loader, or as
 * a loader run by nested #! lines (whose argv carries the script names in front). */
const DYN_MARKER = `
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int fd = open(argv[argc - 1], O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (fd < 0) return 1;
  dprintf(fd, "ran %s pid=%d\\n", TAG, (int)getpid());
  return 0;
}
`;

/** secretexec PATH ARGS...: execve with the path and argv in memfd_secret memory, which the kernel
 * reads in the caller's context but process_vm_readv (the enforcer) cannot. Exit 3: no memfd_secret. */
const SECRET_EXEC = `
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  int fd = (int)syscall(447 /* memfd_secret */, 0);
  if (fd < 0 || ftruncate(fd, 4096) < 0) { printf("memfd_secret errno=%d\\n", errno); return 3; }
  char *p = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (p == MAP_FAILED) { printf("mmap errno=%d\\n", errno); return 3; }
  char **av = (char **)p, *s = p + 512;
  for (int i = 1; i < argc; i++) { strcpy(s, argv[i]); av[i - 1] = s; s += strlen(s) + 1; }
  av[argc - 1] = NULL;
  execve(av[0], av, NULL);
  printf("exec errno=%d\\n", errno);
  return 1;
}
`;

/** symrace DIR ALLOWED TARGET N ARGS...: a child flips DIR/l between symlinks to ALLOWED and TARGET
 * (atomic renames) while N forked children exec DIR/l with argv [l, ARGS...]. */
const SYM_RACE = `
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
int main(int argc, char **argv) {
  char a[4096], b[4096], l[4096];
  snprintf(a, sizeof a, "%s/a", argv[1]); snprintf(b, sizeof b, "%s/b", argv[1]); snprintf(l, sizeof l, "%s/l", argv[1]);
  int n = atoi(argv[4]);
  symlink(argv[2], l);
  pid_t flipper = fork();
  if (flipper == 0)
    for (;;) { unlink(a); symlink(argv[2], a); rename(a, l); unlink(b); symlink(argv[3], b); rename(b, l); }
  int ran = 0;
  for (int i = 0; i < n; i++) {
    pid_t p = fork();
    if (p == 0) { argv[4] = l; execv(l, argv + 4); _exit(126); }
    int st;
    waitpid(p, &st, 0);
    ran += WIFEXITED(st) && WEXITSTATUS(st) == 0;
  }
  kill(flipper, SIGKILL);
  waitpid(flipper, NULL, 0);
  printf("symrace tries=%d ran=%d\\n", n, ran);
  return 0;
}
`;

/** oddexec MODE PATH MARKER: exec PATH with an odd argv (VIGIL_MARKER=MARKER in its environment). */
const ODD_EXEC = `
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
int main(int argc, char **argv) {
  (void)argc;
  const char *m = argv[1]; char *path = argv[2];
  char env0[4200]; snprintf(env0, sizeof env0, "VIGIL_MARKER=%s", argv[3]);
  char *envp[] = {env0, NULL};
  if (!strcmp(m, "null")) syscall(SYS_execve, path, NULL, envp);
  else if (!strcmp(m, "unmapped")) { /* argv's NULL terminator would lie in an unmapped page */
    char *p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    munmap(p + 4096, 4096);
    char **av = (char **)(p + 4096 - 16); av[0] = path; av[1] = "x";
    execve(path, av, envp);
  } else if (!strcmp(m, "many")) {
    static char *av[202]; av[0] = path; for (int i = 1; i < 201; i++) av[i] = "x";
    execve(path, av, envp);
  } else if (!strcmp(m, "big")) {
    static char big[5001]; memset(big, 'y', 5000);
    char *av[] = {path, big, NULL};
    execve(path, av, envp);
  }
  printf("%s exec errno=%d\\n", m, errno);
  return errno == EFAULT ? 14 : 126;
}
`;

/** uffdexec HOLD_S MARKER ALLOWED: vfork-exec a path whose page is registered with userfaultfd
 * (via /dev/userfaultfd) and filled only after HOLD_S s; meanwhile a child times an ordinary exec of
 * ALLOWED. Prints `bystander=SECONDS`. Exit 3: no userfaultfd. */
const UFFD_EXEC = `
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static int uffd, hold; static char *page; static const char *allowed;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec / 1e9; }
static void *handler(void *u) {
  (void)u; struct uffd_msg m; struct pollfd p = {uffd, POLLIN, 0};
  if (poll(&p, 1, 10000) <= 0 || read(uffd, &m, sizeof m) <= 0) return NULL;
  sleep(hold);
  static char src[4096] __attribute__((aligned(4096)));
  strcpy(src, allowed);
  struct uffdio_copy c = {(unsigned long)page, (unsigned long)src, 4096, 0, 0};
  ioctl(uffd, UFFDIO_COPY, &c);
  return NULL;
}
int main(int argc, char **argv) {
  (void)argc; hold = atoi(argv[1]); allowed = argv[3];
  int dev = open("/dev/userfaultfd", O_RDWR | O_CLOEXEC);
  uffd = dev < 0 ? -1 : ioctl(dev, USERFAULTFD_IOC_NEW, O_CLOEXEC);
  struct uffdio_api api = {UFFD_API, 0, 0};
  if (uffd < 0 || ioctl(uffd, UFFDIO_API, &api) < 0) { printf("userfaultfd errno=%d\\n", errno); return 3; }
  page = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  struct uffdio_register r = {{(unsigned long)page, 4096}, UFFDIO_REGISTER_MODE_MISSING, 0};
  if (ioctl(uffd, UFFDIO_REGISTER, &r) < 0) { printf("register errno=%d\\n", errno); return 3; }
  pid_t kid = fork();
  if (kid == 0) {
    usleep(500000);
    double t0 = now(); pid_t p = fork();
    if (p == 0) { execl(allowed, allowed, argv[2], (char *)0); _exit(99); }
    waitpid(p, NULL, 0);
    printf("bystander=%.2f\\n", now() - t0); fflush(stdout); _exit(0);
  }
  pthread_t th; pthread_create(&th, NULL, handler, NULL);
  char *av[] = {page, argv[2], NULL};
  pid_t p = vfork();
  if (p == 0) { execve(page, av, NULL); _exit(1); }
  waitpid(p, NULL, 0);
  waitpid(kid, NULL, 0);
  return 0;
}
`;

/** filtexec PROG ARGS...: install an allow-all seccomp filter, then exec PROG (static). */
const FILT_EXEC = `
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <unistd.h>
int main(int argc, char **argv) {
  (void)argc;
  struct sock_filter f[] = {BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW)};
  struct sock_fprog p = {1, f};
  prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &p)) perror("seccomp");
  execv(argv[1], argv + 1);
  perror("exec");
  return 1;
}
`;

/** flood THREADS SECONDS: threads vfork+exec /bin/true as fast as they can. */
const FLOOD = `
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
static long n; static time_t end; static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static void *w(void *u) {
  (void)u;
  while (time(NULL) < end) {
    pid_t p = vfork();
    if (p == 0) { execl("/bin/true", "true", (char *)0); _exit(1); }
    int st; waitpid(p, &st, 0);
    pthread_mutex_lock(&mu); n += WIFEXITED(st) && WEXITSTATUS(st) == 0; pthread_mutex_unlock(&mu);
  }
  return NULL;
}
int main(int argc, char **argv) {
  (void)argc; int t = atoi(argv[1]); end = time(NULL) + atoi(argv[2]); pthread_t th[32];
  for (int i = 0; i < t; i++) pthread_create(&th[i], 0, w, 0);
  for (int i = 0; i < t; i++) pthread_join(th[i], 0);
  printf("flood execs=%ld\\n", n);
  return 0;
}
`;

let fx: ExecFixture;
let tree: TempDir;
/** tree/bin: allowed per file (it holds the denied program). */
let okDyn: string, deniedDyn: string;
let tools: Record<"secretexec" | "symrace" | "oddexec" | "uffdexec" | "filtexec" | "flood", string>;
/** allow /usr/bin/*, /bin/*, PROBES/*, TREE/**; deny TREE/bin/denied-dyn. */
let policy: string;
/** The same, plus the loader itself allowed as a program (`exec.allow <loader>`). */
let loaderPolicy: string;
/** allow PROBES/*, /usr/bin/*, /bin/*, TREE/race/a-target; deny TREE/race/d-target. */
const racePolicy = (): string =>
  compiledPolicy({ allow: [`${PROBES_DIR}/*`, "/usr/bin/*", "/bin/*", tree.join("race/a-target")], deny: [tree.join("race/d-target")] });
const RACE_LINE = /race attempts=(\d+) exited0=(\d+) refused=(\d+) killed126=(\d+) other=(\d+) denied_ran=(\d+)/;
/** The fixture's allow list, plus the attack tools compiled here. */
const fxPolicy = (): string => fx.allowlist.replace(/\nend\n$/, `\nexec.allow ${tree.join("tools")}/*\nend\n`);
let counter = 0;
const marker = (label: string): string => tree.join("out", `${label}-${++counter}`);

function compile(name: string, source: string, extra: string[] = []): string {
  const src = tree.join("src", `${name}.c`);
  const out = tree.join("tools", name);
  writeFileSync(src, source);
  execFileSync("gcc", ["-std=gnu11", "-O1", "-Wall", "-o", out, src, ...extra], { stdio: ["ignore", "pipe", "pipe"] });
  return out;
}

beforeAll(() => {
  ensureBuilt();
  fx = makeExecFixture();
  tree = makeTempDir("notify-attacks");
  for (const d of ["bin", "src", "tools", "out", "scripts", "whole", "jail", "race", "flip"]) mkdirSync(tree.join(d));
  chmodSync(tree.join("out"), 0o777);
  // path-flip race targets: same length, one byte apart (exec-policy.test.ts does the same)
  copyFileSync(probe("exit-with"), tree.join("race/a-target"));
  copyFileSync(probe("marker"), tree.join("race/d-target"));
  chmodSync(tree.join("race/a-target"), 0o755);
  chmodSync(tree.join("race/d-target"), 0o755);
  // two builds that say which one ran (the allowed one may be handed the denied one's arguments)
  okDyn = compile("ok-dyn", DYN_MARKER, ['-DTAG="ok"']);
  deniedDyn = tree.join("bin/denied-dyn");
  copyFileSync(compile("denied-dyn", DYN_MARKER, ['-DTAG="denied"']), deniedDyn);
  copyFileSync(okDyn, tree.join("bin/ok-dyn"));
  okDyn = tree.join("bin/ok-dyn");
  chmodSync(deniedDyn, 0o755);
  chmodSync(okDyn, 0o755);
  tools = {
    secretexec: compile("secretexec", SECRET_EXEC),
    symrace: compile("symrace", SYM_RACE),
    oddexec: compile("oddexec", ODD_EXEC),
    uffdexec: compile("uffdexec", UFFD_EXEC, ["-pthread"]),
    filtexec: compile("filtexec", FILT_EXEC, ["-static"]),
    flood: compile("flood", FLOOD, ["-pthread"]),
  };
  const loaderName = path.basename(LOADER);
  // #! with a relative interpreter: the kernel resolves it against the caller's cwd
  writeFileSync(tree.join("scripts/rel"), `#!${loaderName} ${deniedDyn}\n`, { mode: 0o755 });
  // #! whose interpreter is itself a script, whose interpreter is the loader with an argument
  writeFileSync(tree.join("scripts/inner"), `#!${LOADER} ${deniedDyn}\n`, { mode: 0o755 });
  writeFileSync(tree.join("scripts/outer"), `#!${tree.join("scripts/inner")}\n`, { mode: 0o755 });
  // a legitimate neighbour: a script with an absolute, allowed interpreter
  writeFileSync(tree.join("scripts/fine"), `#!/bin/sh\necho fine >> "$1"\n`, { mode: 0o755 });
  // a file whose name holds " (deleted)", in a directory granted whole
  copyFileSync(okDyn, tree.join("whole/x (deleted)"));
  copyFileSync(okDyn, tree.join("whole/plain"));
  // a chroot jail: an absolute symlink inside it names /inner of the jail
  copyFileSync(probe("marker"), tree.join("jail/inner"));
  symlinkSync("/inner", tree.join("jail/l"));
  mkdirSync(tree.join("jail/out"));
  const allow = ["/usr/bin/*", "/bin/*", `${PROBES_DIR}/*`, `${tree.path}/**`];
  policy = compiledPolicy({ name: "notify-attacks", mode: "enforce", allow, deny: [deniedDyn] });
  loaderPolicy = compiledPolicy({ name: "notify-attacks-loader", mode: "enforce", allow: [...allow, LOADER], deny: [deniedDyn] });
});
afterAll(() => {
  fx?.remove();
  tree?.remove();
});

const ran = (file: string): number => (existsSync(file) ? readFileSync(file, "utf8").split("\n").filter((l) => l !== "").length : 0);


describe("notify: attacks that are refused", () => {
  test.each([
    ["thread-exec", [] as string[]], // exec from a non-leader thread
    ["vfork-exec", []],
    ["fd-exec", []], // execveat(fd, "", AT_EMPTY_PATH) on an O_RDONLY descriptor
    ["fd-exec", ["--path"]], // ... on an O_PATH descriptor
    ...(ARCH === "amd64" ? [["int80-exec", []] as [string, string[]]] : []), // i386 ABI
  ])("%s %j: the denied program is refused, the allowed one runs", async (name, opts) => {
    const mDenied = fx.markerPath(`${name}-denied`), mOk = fx.markerPath(`${name}-ok`);
    const p = path.join(PROBES_DIR, name);
    const r = await notify(["sh", "-c", `${p} ${opts.join(" ")} ${fx.denied} ${mDenied}; echo "denied=$?"; ${p} ${opts.join(" ")} ${fx.allowed} ${mOk}; echo "ok=$?"`], fx.allowlist);
    expectExit(r, 0);
    expect(r.stdout, describeRun(r)).toMatch(/^denied=126$/m);
    expectDidNotRun(mDenied, r);
    expect(r.stdout, describeRun(r)).toMatch(/^ok=0$/m);
    expectRan(mOk, r);
    expect(blockedExecs(r.events).map((e) => [e.exe, e.mechanism]), describeExecs(r.events)).toEqual([[fx.denied, "notify"]]);
  });

  test("a seccomp listener of the application's own (to answer exec itself) is refused; exec still judged", async () => {
    const m = fx.markerPath("listener"), mOk = fx.markerPath("listener-ok");
    const r = await notify(["sh", "-c", `${probe("listener-exec")} ${fx.denied} ${m}; echo "l=$?"; ${probe("listener-exec")} --untraced ${fx.denied} ${m}; echo "lu=$?"; ${fx.allowed} ${mOk}`], fx.allowlist);
    expectExit(r, 0);
    expect(r.stdout, describeRun(r)).toMatch(/^l=101$/m); // seccomp(NEW_LISTENER): EPERM
    expect(r.stdout, describeRun(r)).toMatch(/seccomp errno=EPERM/);
    expectDidNotRun(m, r);
    expectRan(mOk, r);
  });

  test.each(["fork", "vfork"])("a path flipped between allowed and denied by another thread (%s): the denied program never runs", async (how) => {
    // Judged at the exec event, on the file the kernel runs: the denied one gets the exit stub.
    const m = marker(`race-${how}`), mOk = marker("race-neighbour");
    const a = tree.join("race/a-target"), d = tree.join("race/d-target");
    const r = await notify(["sh", "-c", `${probe("race-exec")} ${a} ${d} 300 ${m} ${how}; echo "race=$?"; ${probe("marker")} ${mOk}`], racePolicy());
    expectExit(r, 0);
    expectDidNotRun(m, r);
    const line = RACE_LINE.exec(r.stdout);
    expect(line, describeRun(r)).not.toBeNull();
    const [, , exited0, refused, killed126, , denied] = line!.map(Number);
    expect(denied).toBe(0);
    expect(exited0, r.stdout).toBeGreaterThan(0); // both sides were tried
    expect(refused! + killed126!, r.stdout).toBeGreaterThan(0);
    expectRan(mOk, r);
  });

  test("odd argv shapes (NULL argv, argv into an unmapped page, 200 args, a 5000-byte arg): judged, the enforcer survives", async () => {
    const lines: string[] = [];
    const marks: Record<string, [string, string]> = {};
    for (const mode of ["null", "unmapped", "many", "big"]) {
      marks[mode] = [fx.markerPath(`odd-${mode}-denied`), fx.markerPath(`odd-${mode}-ok`)];
      lines.push(`${tools.oddexec} ${mode} ${fx.denied} ${marks[mode][0]}; echo "${mode}-denied=$?"`);
      // NULL argv reaches the program as argc 0/1: the marker would only print its usage; /bin/true runs
      const okProgram = mode === "null" ? "/bin/true" : fx.allowed;
      lines.push(`${tools.oddexec} ${mode} ${okProgram} ${marks[mode][1]}; echo "${mode}-ok=$?"`);
    }
    lines.push(`${fx.allowed} ${fx.markerPath("odd-after")}; echo "after=$?"`);
    const r = await notify(["sh", "-c", lines.join("\n")], fxPolicy());
    expectExit(r, 0);
    for (const mode of ["null", "many", "big"]) {
      expect(r.stdout, describeRun(r)).toMatch(new RegExp(`^${mode}-denied=126$`, "m"));
      expectDidNotRun(marks[mode]![0], r);
      expect(r.stdout, describeRun(r)).toMatch(new RegExp(`^${mode}-ok=0$`, "m"));
      if (mode !== "null") expectRan(marks[mode]![1], r);
    }
    // argv whose terminator is unmapped: the kernel answers EFAULT to both (nothing runs)
    expect(r.stdout, describeRun(r)).toMatch(/^unmapped-denied=(126|14)$/m);
    expectDidNotRun(marks["unmapped"]![0], r);
    expect(r.stdout, describeRun(r)).toMatch(/^after=0$/m);
    const many = execEventsFor(r.events, fx.allowed).find((e) => e.argv.length > 10);
    expect(many?.argvTruncated, describeExecs(r.events)).toBe(true);
  });

  test("hard links of the denied file, in its own directory and in another: refused by identity", async () => {
    const local = makeTempDir("notify-links");
    try {
      mkdirSync(local.join("bin"));
      mkdirSync(local.join("other"));
      copyFileSync(probe("marker"), local.join("bin/denied"));
      copyFileSync(probe("marker"), local.join("bin/ok"));
      chmodSync(local.join("bin/denied"), 0o755);
      chmodSync(local.join("bin/ok"), 0o755);
      const p = compiledPolicy({ allow: ["/usr/bin/*", "/bin/*", `${local.path}/**`], deny: [local.join("bin/denied")] });
      const m = local.join("hl-ran"), m2 = local.join("x-ran"), mOk = local.join("ok-ran");
      const script = [
        `ln ${local.join("bin/denied")} ${local.join("bin/hl")} && ${local.join("bin/hl")} ${m}; echo "hl=$?"`,
        `ln ${local.join("bin/denied")} ${local.join("other/hl")}; echo "xln=$?"`,
        `${local.join("other/hl")} ${m2}; echo "xrun=$?"`,
        `${local.join("bin/ok")} ${mOk}; echo "ok=$?"`,
      ].join("\n");
      const r = await notify(["sh", "-c", script], p);
      expectExit(r, 0);
      expect(r.stdout, describeRun(r)).toMatch(/^hl=126$/m);
      expectDidNotRun(m, r);
      expect(r.stdout, describeRun(r)).toMatch(/^xln=0$/m); // no Landlock under notify: the link is made
      expect(r.stdout, describeRun(r)).toMatch(/^xrun=126$/m);
      expectDidNotRun(m2, r);
      expectRan(mOk, r);
      expect(blockedExecs(r.events).map((e) => [e.exe, e.rule]), describeExecs(r.events)).toEqual([
        [local.join("bin/hl"), "exec.deny[0]"],
        [local.join("other/hl"), "exec.deny[0]"],
      ]);
    } finally {
      local.remove();
    }
  });

  test("a flood of exec notifications from 8 threads for 2 s: every one answered, the enforcer still judges after", async () => {
    const m = fx.markerPath("flood-denied"), mOk = fx.markerPath("flood-ok");
    const r = await notify(["sh", "-c", `${tools.flood} 8 2; ${fx.denied} ${m}; echo "denied=$?"; ${fx.allowed} ${mOk}; echo "ok=$?"`], fxPolicy());
    expectExit(r, 0);
    expect(r.stdout, describeRun(r)).toMatch(/flood execs=[1-9]\d*/);
    expect(r.stdout, describeRun(r)).toMatch(/^denied=126$/m);
    expectDidNotRun(m, r);
    expectRan(mOk, r);
  });
});

// The attacks below got through the first design of notify (the enforcer answered each exec call
// from the path it read in the caller's memory and let the kernel go on, Landlock refusing behind
// it); each comment gives the cause then. Since notify judges the program at its exec event, on the
// file the kernel runs (docs/enforcer-cli.md), every one of them is refused.
describe("notify: bypasses of its first design, refused now", () => {
  // First design's cause: exec_identity.c script_interpreter() resolves the #! interpreter with realpath() in
  // the ENFORCER's cwd (and root), not the caller's. A relative interpreter that names nothing there
  // makes notify.c decide() (interpreter_of) take the script for a plain file, and the kernel then
  // opens the interpreter relative to the caller's cwd: here the loader, which Landlock grants.
  test("a #! script with a relative interpreter (the loader, from the caller's cwd) runs a denied program", async () => {
    const m = marker("rel-interp"), mOk = marker("rel-interp-ok");
    const r = await notify(["sh", "-c", `cd ${path.dirname(LOADER)} && ${tree.join("scripts/rel")} ${m}; echo "rel=$?"; ${tree.join("scripts/fine")} ${mOk}`], policy);
    expectExit(r, 0);
    expectRan(mOk, r);
    expect(ran(m), describeRun(r)).toBe(0);
  });

  // First design's cause: notify.c decide() looks one #! level deep: the interpreter is judged by name only
  // (rules_decide on j->interp), never as a script itself. The kernel follows up to 4 levels, and the
  // inner level's interpreter (the loader, with the denied program as its #! argument) is never seen.
  test("nested #! scripts: the inner script's interpreter (the loader) is never judged", async () => {
    const m = marker("nested"), mOk = marker("nested-ok");
    const r = await notify(["sh", "-c", `${tree.join("scripts/outer")} ${m}; echo "nested=$?"; ${tree.join("scripts/fine")} ${mOk}`], policy);
    expectExit(r, 0);
    expectRan(mOk, r);
    expect(ran(m), describeRun(r)).toBe(0);
  });

  // First design's cause: notify.c resolve_fully() opens an absolute path as given in the enforcer's own process
  // while no chroot was seen (joined = path): /proc/self/..., /proc/thread-self/..., /dev/fd/N and
  // /dev/stdin name the ENFORCER's descriptors. With no such descriptor, known = false, the call gets
  // CONTINUE with no event (fail open), and the kernel runs the caller's fd: here the loader.
  test("/proc/self/fd/N and /dev/fd/N opened on the loader run a denied program, with no event", async () => {
    const m1 = marker("procfd"), m2 = marker("devfd"), mOk = marker("procfd-ok");
    const script = [
      `exec 7<${LOADER}`,
      `/proc/self/fd/7 ${deniedDyn} ${m1}; echo "procfd=$?"`,
      `/dev/fd/7 ${deniedDyn} ${m2}; echo "devfd=$?"`,
      `${okDyn} ${mOk}`,
    ].join("\n");
    const r = await notify(["sh", "-c", script], policy);
    expectExit(r, 0);
    expectRan(mOk, r);
    expect(ran(m1) + ran(m2), describeRun(r)).toBe(0);
  });

  // First design's cause: notify.c notify_handle(): when read_path() fails (process_vm_readv cannot read
  // memfd_secret pages, which the kernel reads in the caller's context), `known` is false and the
  // default verdict {allowed} stands: CONTINUE with no event (fail open). Landlock grants the loader.
  (secretmemWorksLazy() ? test : test.skip)("a path and argv in memfd_secret memory: the enforcer cannot read them and lets the loader run a denied program, with no event", async () => {
    const m = marker("secret"), mOk = marker("secret-ok");
    const r = await notify(["sh", "-c", `${tools.secretexec} ${LOADER} ${deniedDyn} ${m}; echo "secret=$?"; ${okDyn} ${mOk}`], policy);
    expectExit(r, 0);
    expectRan(mOk, r);
    expect(ran(m), describeRun(r)).toBe(0);
  });

  // First design's cause: the CONTINUE answer lets the kernel resolve the path again (notify.c notify_handle,
  // resolve() then SECCOMP_IOCTL_NOTIF_SEND): a symlink (or the path string, from another thread or
  // process) switched in between reaches the loader, which Landlock grants. The event names the
  // allowed file the enforcer saw ("allowed").
  test("a symlink flipped between an allowed program and the loader: the loader runs a denied program", async () => {
    const m = marker("symrace");
    const r = await notify(["sh", "-c", `${tools.symrace} ${tree.join("flip")} ${okDyn} ${LOADER} 600 ${deniedDyn} ${m}`], policy, { timeoutMs: 30_000 });
    expectExit(r, 0);
    expect(r.stdout, describeRun(r)).toMatch(/symrace tries=600/);
    const denied = existsSync(m) ? readFileSync(m, "utf8").split("\n").filter((l) => l.startsWith("ran denied")).length : 0;
    expect(denied, `${denied} runs of the denied program\n${describeExecs(r.events).slice(0, 2000)}`).toBe(0);
  });

  // Root cause (policies that allow the loader): notify.c decide() keeps the loader's own verdict when
  // exec_identity.c loader_program() cannot name the program, which it cannot when the argument list
  // is cut (more than EVENT_ARGV_MAX_ARGS = 64 arguments, or 4096 bytes, before the program).
  test("a policy that allows the loader: 70 loader options before the program hide it", async () => {
    const m = marker("ld-many"), mOk = marker("ld-many-ok");
    const opts = Array.from({ length: 70 }, () => "--inhibit-cache").join(" ");
    const r = await notify(["sh", "-c", `${LOADER} ${deniedDyn} ${m}; echo "plain=$?"; ${LOADER} ${opts} ${deniedDyn} ${m}; echo "many=$?"; ${LOADER} ${okDyn} ${mOk}`], loaderPolicy);
    expectExit(r, 0);
    expect(r.stdout, describeRun(r)).toMatch(/^plain=126$/m); // without padding: judged and refused
    expectRan(mOk, r);
    expect(ran(m), describeRun(r)).toBe(0);
  });

  // Root cause (policies that allow the loader): notify.c decide() applies loader_program() only when
  // the exec'd file itself is a loader (is_loader(j->real)); a #! line naming the loader with the
  // program as its argument is judged on the interpreter's name alone.
  test("a policy that allows the loader: `#!<loader> <denied>` runs the denied program", async () => {
    writeFileSync(tree.join("scripts/ldarg"), `#!${LOADER} ${deniedDyn}\n`, { mode: 0o755 });
    const m = marker("ld-shebang"), mOk = marker("ld-shebang-ok");
    const r = await notify(["sh", "-c", `${tree.join("scripts/ldarg")} ${m}; echo "ldarg=$?"; ${LOADER} ${okDyn} ${mOk}`], loaderPolicy);
    expectExit(r, 0);
    expectRan(mOk, r);
    expect(ran(m), describeRun(r)).toBe(0);
  });
});

describe("notify: event gaps, false refusals and a hang of its first design, gone now", () => {
  // Same root cause as /proc/self/fd above (resolve_fully in the enforcer's own process; fail open):
  // an allowed program run by descriptor path runs with no event at all.
  test("an allowed program run as /proc/self/fd/N is reported", async () => {
    const m = marker("procfd-allowed");
    const r = await notify(["sh", "-c", `exec 7<${okDyn}; /proc/self/fd/7 ${m}; echo "r=$?"`], policy);
    expectExit(r, 0);
    expectRan(m, r);
    expect(execEventsFor(r.events, okDyn).length, describeExecs(r.events)).toBe(1);
  });

  // Same root cause: /proc/self/exe is the enforcer's own binary to the enforcer, so re-executing
  // oneself (a common pattern) is refused, and the event names vigil-enforcer.
  test("a shell re-executing itself through /proc/self/exe is allowed", async () => {
    const r = await notify(["sh", "-c", `/proc/self/exe -c 'echo self-ok'`], policy);
    expectExit(r, 0);
    expect(r.stdout, describeRun(r)).toMatch(/^self-ok$/m);
  });

  // First design's cause: notify.c resolve_fully(), `snprintf(real, PATH_MAX, "%.4000s", n > 0 ? real : joined)`:
  // source and destination overlap (undefined behaviour; glibc leaves ""), for every canonical path
  // holding " (deleted)": a file so named, a deleted file, a memfd. The empty name matches no allow
  // glob: refused, with "exe":"". The seccomp mechanism runs both.
  test('an allowed file whose name holds " (deleted)" runs, and its event names it', async () => {
    const m = marker("deleted-name"), mOk = marker("deleted-name-ok");
    const file = tree.join("whole/x (deleted)");
    const r = await notify(["sh", "-c", `'${file}' ${m}; echo "d=$?"; ${tree.join("whole/plain")} ${mOk}`], policy);
    expectExit(r, 0);
    expectRan(mOk, r);
    expect(r.stdout, describeRun(r)).toMatch(/^d=0$/m);
    expectRan(m, r);
  });

  // First design's cause: the path race above (CONTINUE, then the kernel's own walk). When the kernel's walk
  // reaches the denied file, Landlock refuses it (nothing runs) but the event said "allowed" about the
  // allowed file; the refusal itself has no event.
  test("a path flipped between allowed and denied: every 'allowed' event matches a run", async () => {
    const m = marker("race-events");
    const a = tree.join("race/a-target"), d = tree.join("race/d-target");
    const r = await notify([probe("race-exec"), a, d, "300", m, "fork"], racePolicy());
    expectDidNotRun(m, r);
    const line = RACE_LINE.exec(r.stdout);
    expect(line, describeRun(r)).not.toBeNull();
    const allowedEvents = execEvents(r.events).filter((e) => e.verdict === "allowed" && e.exe === a).length;
    expect(allowedEvents, r.stdout).toBe(Number(line![2]));
  });

  // First design's cause: after a chroot, notify.c resolve_fully() opens /proc/PID/root/PATH, but absolute
  // symlinks met on the way resolve against the ENFORCER's root (only the start of the walk is the
  // caller's). /l -> /inner names nothing there: fail open, no event, the jail's /inner runs.
  test("after a chroot, a program reached through an absolute symlink is reported", async () => {
    const withChroot = policy.replace(/\nend\n$/, "\nexec.allow /usr/sbin/*\nend\n");
    const r = await notify(["sh", "-c", `chroot ${tree.path}/jail /l /out/viasym; echo "sym=$?"`], withChroot);
    expectExit(r, 0);
    expect(r.stdout, describeRun(r)).toMatch(/^sym=0$/m);
    expect(execEventsFor(r.events, tree.join("jail/inner")).length, describeExecs(r.events)).toBe(1);
  });

  // First design's cause: notify.c notify_handle() reads the caller's memory (process_vm_readv) on the one thread
  // that answers every notification. A page registered with userfaultfd (root, /dev/userfaultfd; or
  // vm.unprivileged_userfaultfd=1) holds that read for as long as the caller wishes: every exec of
  // the application waits meanwhile. Here 4 s; forever is as easy.
  (existsSync("/dev/userfaultfd") && process.getuid?.() === 0 ? test : test.skip)(
    "a path on a userfaultfd page does not hold other processes' execs",
    async () => {
      const m = marker("uffd");
      const r = await notify([tools.uffdexec, "4", m, okDyn], policy, { timeoutMs: 30_000 });
      expectExit(r, 0);
      const bystander = /bystander=([\d.]+)/.exec(r.stdout);
      expect(bystander, describeRun(r)).not.toBeNull();
      expect(Number(bystander![1]), describeRun(r)).toBeLessThan(1);
    },
  );

  // STILL OPEN (docs/enforcer-cli.md, notify): foreign.c notify_app() takes any untraced process with
  // more seccomp filters than the enforcer for one of the application's own. A `docker exec` session
  // whose first program installs a filter of its own (sandboxing tools, browsers, sshd...) before
  // the 5 ms scan finds it is never adopted: no filter of ours, no event: it runs denied programs.
  test.fails("as PID 1, a session entered from outside that installs a seccomp filter is still adopted", async () => {
    const run = startEnforcer({ mechanism: "notify", policy, command: ["sleep", "3"], pidNamespace: true, timeoutMs: 20_000 });
    const m = marker("session");
    try {
      const pid = await run.enforcerPid();
      await new Promise((r) => setTimeout(r, 300));
      spawnSync(tools.filtexec, ["/usr/bin/nsenter", "-t", String(pid), "-p", "-m", "--", "sh", "-c", `sleep 0.2; ${deniedDyn} ${m}`], { timeout: 5_000 });
    } finally {
      await run.result;
    }
    expect(ran(m)).toBe(0);
  });
});

let secretmemCache: boolean | undefined;
function secretmemWorksLazy(): boolean {
  // evaluated when the test is declared: compile the probe on demand (beforeAll has not run yet)
  if (secretmemCache !== undefined) return secretmemCache;
  const dir = makeTempDir("notify-secretmem");
  try {
    const src = dir.join("s.c");
    writeFileSync(src, SECRET_EXEC);
    execFileSync("gcc", ["-std=gnu11", "-O1", "-o", dir.join("s"), src], { stdio: ["ignore", "pipe", "pipe"] });
    secretmemCache = spawnSync(dir.join("s"), ["/bin/true"], { timeout: 5_000 }).status === 0;
  } catch {
    secretmemCache = false;
  } finally {
    dir.remove();
  }
  return secretmemCache;
}
