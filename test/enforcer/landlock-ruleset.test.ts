// How the Landlock ruleset is built (`--mechanism landlock`; docs/enforcer-cli.md "Mechanisms"):
// what it grants is judged by untraced processes (clone(CLONE_UNTRACED), which Landlock leaves
// open), so that only the kernel stands between them and the exec.
// * Where a deny glob reaches into an allowed directory, the grants are per file, taken at start-up:
//   a program dropped there later gets no rule, even though the directory itself is allowed.
// * A glob written through a symlinked directory (/bin/* on a merged-/usr system) covers the files
//   under their real path, and a deny written through the alias still refuses them.
// * exec rules and files.readOnly share one ruleset (one Landlock layer) whose rights are those of
//   the two layers it replaces: the exec part grants REFER nowhere, so a cross-directory rename
//   fails with EXDEV as it did with two layers; files.readOnly alone still lets it through.

import { chmodSync, copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectDidNotRun, expectExit, expectRan, validateEventsAfterEach } from "./helpers/assert.js";
import { lifecycle } from "./helpers/events.js";
import { ENFORCER, PROBES_DIR, ensureBuilt, probe } from "./helpers/paths.js";
import { compiledPolicy } from "./helpers/policy.js";
import { describeRun, runEnforcer } from "./helpers/run.js";
import type { RunResult } from "./helpers/run.js";
import { makeTempDir } from "./helpers/tmp.js";
import type { TempDir } from "./helpers/tmp.js";

validateEventsAfterEach();

let tmp: TempDir;
beforeAll(() => {
  ensureBuilt();
  tmp = makeTempDir("landlock-ruleset");
});
afterAll(() => tmp?.remove());

const UNTRACED = probe("untraced-exec");

function copyMarker(to: string): string {
  copyFileSync(probe("marker"), to);
  chmodSync(to, 0o755);
  return to;
}

/**
 * DIR/bin holding `count` copies of the marker (m000, m001...), DIR/out for what they write, and the
 * policy that allows them and the system's programs but denies the one at index `denied`: a deny glob
 * reaching into an allowed directory, so that every other file there needs a Landlock rule of its own.
 */
function markerDirectory(name: string, count: number, denied: number): { dir: string; programs: string[]; policy: string } {
  const dir = tmp.join(name);
  mkdirSync(`${dir}/bin`, { recursive: true });
  mkdirSync(`${dir}/out`);
  const programs = Array.from({ length: count }, (_, i) => copyMarker(`${dir}/bin/m${String(i).padStart(3, "0")}`));
  const policy = compiledPolicy({
    name: `landlock-${name}`,
    mode: "enforce",
    allow: ["/usr/bin/*", "/bin/*", `${PROBES_DIR}/*`, `${dir}/bin/*`],
    deny: [programs[denied] ?? ""],
  });
  return { dir, programs, policy };
}

function expectLandlockExec(r: RunResult): void {
  const start = lifecycle(r.events, "start")[0];
  if (start?.event !== "start") throw new Error(`no start event\n${describeRun(r)}`);
  expect(start.mechanisms.landlock, `Landlock expected in use\n${describeRun(r)}`).toBeGreaterThan(0);
}

describe("per-file grants where a deny glob reaches", () => {
  test("a program dropped into the allowed directory after start-up cannot be run untraced; the one next to it can", async () => {
    const dir = tmp.join("dropped");
    mkdirSync(`${dir}/bin`, { recursive: true });
    mkdirSync(`${dir}/out`);
    const allowed = copyMarker(`${dir}/bin/allowed-marker`);
    const denied = copyMarker(`${dir}/bin/denied-marker`);
    const late = `${dir}/bin/late-marker`;
    const policy = compiledPolicy({
      name: "landlock-dropped",
      mode: "enforce",
      allow: ["/usr/bin/*", "/bin/*", `${PROBES_DIR}/*`, `${dir}/bin/*`],
      deny: [denied],
    });
    // The shell (traced) copies an allowed program to a new name the allow glob matches, then an
    // untraced child tries each.
    const script = [
      'cp "$1" "$2"; echo "cp=$?"',
      `${UNTRACED} "$2" "$3"; echo "late=$?"`,
      `${UNTRACED} "$1" "$4"; echo "allowed=$?"`,
    ].join("\n");
    const [mLate, mAllowed] = [`${dir}/out/late`, `${dir}/out/allowed`];
    const r = await runEnforcer({ mechanism: "landlock", policy, command: ["sh", "-c", script, "sh", allowed, late, mLate, mAllowed] });
    expectExit(r, 0);
    expectLandlockExec(r);
    expect(r.stdout, describeRun(r)).toMatch(/^cp=0$/m);
    expect(existsSync(late)).toBe(true);
    // the kernel refused it: no rule for an inode that did not exist at start-up
    expect(r.stdout, describeRun(r)).toMatch(/^exec errno=EACCES$/m);
    expect(r.stdout, describeRun(r)).toMatch(/^late=(?!0$)\d+$/m);
    expectDidNotRun(mLate, r);
    // the neighbour that existed at start-up runs through the same route
    expect(r.stdout, describeRun(r)).toMatch(/^allowed=0$/m);
    expectRan(mAllowed, r);
  });
});

// Start-up judges a directory's entries by the last segment of each glob (fswalk.h,
// fs_glob_in_dir): literal, literals around one '*', other wildcards, a glob with **, a wildcard in
// a directory segment, and a glob whose head does not reach the directory. Untraced, each verdict is
// the kernel's alone: a wrong shortcut shows as a denied program running or an allowed one refused.
describe("per-file grants judged by each glob's last segment", () => {
  const CASES: ReadonlyArray<readonly [string, boolean]> = [
    ["bin/lit", false], // exec.deny bin/lit
    ["bin/lit2", true],
    ["bin/nc", false], // exec.deny bin/nc*: the '*' matches nothing
    ["bin/ncat", false],
    ["bin/xnc", true],
    ["bin/.sh", false], // exec.deny bin/*.sh
    ["bin/run.sh", false],
    ["bin/run.shx", true],
    ["bin/a", true], // exec.deny bin/a*a: shorter than its two literals
    ["bin/aa", false],
    ["bin/aba", false],
    ["bin/ab", true],
    ["bin/q1", false], // exec.deny bin/q?
    ["bin/q12", true],
    ["bin/x1y", false], // exec.deny bin/*x*y
    ["bin/yx", true],
    ["bin/deep", false], // exec.deny **/deep
    ["bin/wx", false], // exec.deny b*n/w*
    ["bin/ok", true], // exec.deny bix/* does not reach bin
    ["bin/sub/nx", true], // exec.allow bin/*/n*
    ["bin/sub/mx", false], // bin/* does not reach into sub
  ];

  test("every file is refused or let through untraced exactly as its full glob match says", async () => {
    const dir = tmp.join("segments");
    mkdirSync(`${dir}/bin/sub`, { recursive: true });
    mkdirSync(`${dir}/out`);
    for (const [rel] of CASES) copyMarker(`${dir}/${rel}`);
    const policy = compiledPolicy({
      name: "landlock-segments",
      mode: "enforce",
      allow: ["/usr/bin/*", "/bin/*", `${PROBES_DIR}/*`, `${dir}/bin/*`, `${dir}/bin/*/n*`],
      deny: [`${dir}/bin/lit`, `${dir}/bin/nc*`, `${dir}/bin/*.sh`, `${dir}/bin/a*a`, `${dir}/bin/q?`, `${dir}/bin/*x*y`,
        `${dir}/**/deep`, `${dir}/b*n/w*`, `${dir}/bix/*`],
    });
    const script = CASES.map(([rel], i) => `${UNTRACED} "$1/${rel}" "$1/out/${i}"; echo "case${i}=$?"`).join("\n");
    const r = await runEnforcer({ mechanism: "landlock", policy, command: ["sh", "-c", script, "sh", dir] });
    expectExit(r, 0);
    expectLandlockExec(r);
    const outcome = CASES.map(([rel], i) => `${rel} ${new RegExp(`^case${i}=0$`, "m").test(r.stdout) ? "ran" : "refused"}`);
    expect(outcome, describeRun(r)).toEqual(CASES.map(([rel, allowed]) => `${rel} ${allowed ? "ran" : "refused"}`));
    CASES.forEach(([, allowed], i) => (allowed ? expectRan : expectDidNotRun)(`${dir}/out/${i}`, r));
    expect(r.stdout.match(/^exec errno=EACCES$/gm) ?? [], describeRun(r)).toHaveLength(CASES.filter(([, a]) => !a).length);
  });

  test("a file a one-star deny glob names is indexed by identity: its hard link elsewhere stops Landlock, and seccomp blocks it", async () => {
    const dir = tmp.join("segments-link");
    mkdirSync(`${dir}/bin`, { recursive: true });
    mkdirSync(`${dir}/links`);
    const denied = copyMarker(`${dir}/bin/aba`);
    copyMarker(`${dir}/bin/ab`);
    linkSync(denied, `${dir}/links/other-name`);
    const policy = compiledPolicy({
      name: "landlock-segments-link",
      mode: "enforce",
      allow: ["/usr/bin/*", "/bin/*", `${PROBES_DIR}/*`, `${dir}/**`],
      deny: [`${dir}/bin/a*a`],
    });
    const marker = `${dir}/ran`;
    const landlock = await runEnforcer({ mechanism: "landlock", policy, command: ["/bin/true"] });
    expect(landlock.code, describeRun(landlock)).toBe(1);
    expect(landlock.stderr, describeRun(landlock)).toMatch(
      /^vigil-enforcer: Landlock cannot enforce this policy exactly: a file denied by exec\.deny\[0\] \(.*\/bin\/a\*a\) has 2 hard links, which may be anywhere$/m,
    );
    const seccomp = await runEnforcer({ mechanism: "seccomp", policy, command: ["sh", "-c", `"$1" "$2"; echo "status=$?"`, "sh", `${dir}/links/other-name`, marker] });
    expectExit(seccomp, 0);
    expect(seccomp.stdout, describeRun(seccomp)).toMatch(/^status=126$/m);
    expectDidNotRun(marker, seccomp);
  });
});

describe("per-file grants under a low descriptor limit", () => {
  test("with RLIMIT_NOFILE 24 every one of 80 per-file grants is made (descriptors are closed in batches)", async () => {
    const { dir, programs, policy } = markerDirectory("nofile", 80, 40);
    const denied = programs[40] ?? "";
    const last = programs.at(-1) ?? "";
    const policyFile = `${dir}/policy`;
    writeFileSync(policyFile, policy);
    const script = [`${UNTRACED} "$1" "$2"; echo "last=$?"`, `${UNTRACED} "$3" "$4"; echo "denied=$?"`].join("\n");
    const [mLast, mDenied] = [`${dir}/out/last`, `${dir}/out/denied`];
    const r = await runEnforcer({
      raw: true,
      enforcer: "/usr/bin/prlimit",
      command: ["--nofile=24:24", ENFORCER, "--policy", policyFile, "--mechanism", "landlock", "--events", "fd:3", "--",
        "sh", "-c", script, "sh", last, mLast, denied, mDenied],
    });
    expectExit(r, 0);
    expectLandlockExec(r);
    expect(r.stdout, describeRun(r)).toMatch(/^last=0$/m);
    expectRan(mLast, r);
    expect(r.stdout, describeRun(r)).toMatch(/^exec errno=EACCES$/m);
    expect(r.stdout, describeRun(r)).toMatch(/^denied=(?!0$)\d+$/m);
    expectDidNotRun(mDenied, r);
  });
});

describe("per-file grants shared between the enforcer and the application's child", () => {
  // Past 64 per-file grants the enforcer adds half of them and the child, moved off the enforcer's
  // CPU for the while, the other half: both halves must be in the ruleset, and the application must
  // start with the CPUs it was given, not the ones the child borrowed.
  test("all 199 allowed programs of a 200-file directory run untraced, the denied one is refused, and the application keeps its CPU mask", async () => {
    const { dir, policy } = markerDirectory("halves", 200, 101);
    const script = [
      'ok=0; for p in "$1"/bin/m*; do n=${p##*/}',
      `  if ${UNTRACED} "$p" "$1/out/$n" >/dev/null 2>&1; then ok=$((ok+1)); else echo "refused=$n"; fi`,
      'done; echo "ok=$ok"; grep "^Cpus_allowed_list:" /proc/$$/status',
    ].join("\n");
    const r = await runEnforcer({ mechanism: "landlock", policy, command: ["sh", "-c", script, "sh", dir] });
    expectExit(r, 0);
    expectLandlockExec(r);
    expect(r.stdout, describeRun(r)).toMatch(/^ok=199$/m);
    expect(r.stdout.match(/^refused=.*$/gm), describeRun(r)).toEqual(["refused=m101"]);
    expectDidNotRun(`${dir}/out/m101`, r);
    expectRan(`${dir}/out/m199`, r);
    const own = /^Cpus_allowed_list:\s*(\S+)$/m.exec(readFileSync("/proc/self/status", "utf8"))?.[1];
    expect(own).toBeDefined();
    expect(r.stdout, describeRun(r)).toMatch(new RegExp(`^Cpus_allowed_list:\\s*${own}$`, "m"));
  });
});

describe("globs written through a symlinked directory", () => {
  test("an alias directory's allow covers the real files and its deny still refuses them, untraced", async () => {
    const dir = tmp.join("alias");
    mkdirSync(`${dir}/real`, { recursive: true });
    mkdirSync(`${dir}/out`);
    copyMarker(`${dir}/real/ok`);
    copyMarker(`${dir}/real/bad`);
    symlinkSync("real", `${dir}/alias`); // like /bin -> usr/bin
    const policy = compiledPolicy({
      name: "landlock-alias",
      mode: "enforce",
      allow: ["/usr/bin/*", "/bin/*", `${PROBES_DIR}/*`, `${dir}/alias/*`],
      deny: [`${dir}/alias/bad`],
    });
    const script = [
      `${UNTRACED} "$1/alias/ok" "$1/out/alias-ok"; echo "alias-ok=$?"`,
      `${UNTRACED} "$1/real/ok" "$1/out/real-ok"; echo "real-ok=$?"`,
      `${UNTRACED} "$1/alias/bad" "$1/out/alias-bad"; echo "alias-bad=$?"`,
      `${UNTRACED} "$1/real/bad" "$1/out/real-bad"; echo "real-bad=$?"`,
    ].join("\n");
    const r = await runEnforcer({ mechanism: "landlock", policy, command: ["sh", "-c", script, "sh", dir] });
    expectExit(r, 0);
    expectLandlockExec(r);
    expect(r.stdout, describeRun(r)).toMatch(/^alias-ok=0$/m);
    expect(r.stdout, describeRun(r)).toMatch(/^real-ok=0$/m);
    expectRan(`${dir}/out/alias-ok`, r);
    expectRan(`${dir}/out/real-ok`, r);
    expect(r.stdout.match(/^exec errno=EACCES$/gm), describeRun(r)).toHaveLength(2);
    expect(r.stdout, describeRun(r)).toMatch(/^alias-bad=(?!0$)\d+$/m);
    expect(r.stdout, describeRun(r)).toMatch(/^real-bad=(?!0$)\d+$/m);
    expectDidNotRun(`${dir}/out/alias-bad`, r);
    expectDidNotRun(`${dir}/out/real-bad`, r);
  });

  // This machine's own merged /usr (Debian: /bin -> usr/bin), when it has one.
  const mergedUsr = lstatSync("/bin").isSymbolicLink() && readlinkSync("/bin").replace(/^\//, "") === "usr/bin";
  test.runIf(mergedUsr)("on merged /usr, /bin/* alone lets /bin/true run untraced, and exec.deny /bin/false still refuses it", async () => {
    const policy = compiledPolicy({
      name: "landlock-merged-usr",
      mode: "enforce",
      allow: ["/bin/*", `${PROBES_DIR}/*`],
      deny: ["/bin/false"],
    });
    const script = [`${UNTRACED} /bin/true; echo "true=$?"`, `${UNTRACED} /usr/bin/false; echo "false=$?"`].join("\n");
    const r = await runEnforcer({ mechanism: "landlock", policy, command: ["/bin/sh", "-c", script] });
    expectExit(r, 0);
    expectLandlockExec(r);
    expect(r.stdout, describeRun(r)).toMatch(/^true=0$/m);
    // /usr/bin/false exits 1 when it runs: here the kernel refuses it first
    expect(r.stdout, describeRun(r)).toMatch(/^exec errno=EACCES$/m);
    expect(r.stdout, describeRun(r)).not.toMatch(/^false=1$/m);
  });
});

describe("exec rules and files.readOnly in one ruleset", () => {
  const setUp = (): { dir: string; policy: string } => {
    const dir = tmp.join("merged");
    mkdirSync(`${dir}/etc`, { recursive: true });
    mkdirSync(`${dir}/a`, { recursive: true });
    mkdirSync(`${dir}/b`, { recursive: true });
    writeFileSync(`${dir}/etc/conf`, "original\n");
    writeFileSync(`${dir}/a/f`, "data\n");
    writeFileSync(`${dir}/a/g`, "data\n");
    const policy = ["vigil-policy 1", `files.readOnly ${dir}/etc/**`, `exec.deny ${dir}/nothing`, "end", ""].join("\n");
    return { dir, policy };
  };
  const OPS = probe("file-ops");

  test("with the exec rules, a cross-directory rename fails with EXDEV as with two layers; in one directory it works", async () => {
    const { dir, policy } = setUp();
    const r = await runEnforcer({
      mechanism: "landlock",
      policy,
      command: [OPS, "rename", `${dir}/a/f`, `${dir}/b/f`, "rename", `${dir}/a/g`, `${dir}/a/h`, "write", `${dir}/etc/conf`],
    });
    expectExit(r, 0);
    expect(r.stdout, describeRun(r)).toBe("rename errno=EXDEV\nrename ok\nwrite errno=EPERM\n");
    expect(existsSync(`${dir}/a/f`)).toBe(true);
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" ? [start.mechanisms.files, start.mechanisms.landlock > 0] : undefined).toEqual(["landlock+ptrace", true]);
  });

  test("files.readOnly alone (seccomp) lets the same cross-directory rename through", async () => {
    const { dir, policy } = setUp();
    const r = await runEnforcer({ mechanism: "seccomp", policy, command: [OPS, "rename", `${dir}/a/f`, `${dir}/b/f`, "write", `${dir}/etc/conf`] });
    expectExit(r, 0);
    expect(r.stdout, describeRun(r)).toBe("rename ok\nwrite errno=EPERM\n");
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" ? start.mechanisms.files : undefined).toBe("landlock+ptrace");
  });
});
