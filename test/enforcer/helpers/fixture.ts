// The file tree exec-policy tests work on: copies of the `marker` probe under a temp dir, links to
// them, and the policies that allow or deny them.
//
// The common fixture holds NO hard link to a denied file: a denied file with more than one link at
// start-up means Landlock cannot be exact, and `--mechanism landlock` then refuses to start
// (docs/enforcer-cli.md "Mechanisms"), so one shared link would turn every Landlock test into a
// start-up failure. Tests about hard links make their own tree with `makeHardLinkFixture`.

import { chmodSync, copyFileSync, linkSync, mkdirSync, symlinkSync, writeFileSync } from "node:fs";
import { compiledPolicy } from "./policy.js";
import { PROBES_DIR, probe } from "./paths.js";
import { makeTempDir } from "./tmp.js";
import type { TempDir } from "./tmp.js";

export interface ExecFixture {
  readonly root: TempDir;
  /** Outside every allow glob of `allowlist` (its own temp dir). */
  readonly outside: TempDir;
  /** TMP/bin/allowed-marker: allowed by `TMP/**`. */
  readonly allowed: string;
  /** TMP/bin/denied-marker: `exec.deny[0]`. */
  readonly denied: string;
  readonly deniedGlob: string;
  /** TMP/links/sym-denied -> ../bin/denied-marker */
  readonly symDenied: string;
  /** TMP/links/sym-allowed -> ../bin/allowed-marker */
  readonly symAllowed: string;
  /** OUTSIDE/outside-marker: matches no allow glob. */
  readonly notAllowed: string;
  /** TMP/bin/not-executable: mode 0644. */
  readonly notExecutable: string;
  /** TMP/bin/script-ok: `#!/bin/sh` script printing `script-ok`. */
  readonly scriptOk: string;
  /** TMP/bin/denied-script: `#!/bin/sh` script appending to $1; `exec.deny[1]`. */
  readonly deniedScript: string;
  /** TMP/bin/script-denied-interpreter: `#!TMP/bin/denied-marker` (marker file from $VIGIL_MARKER). */
  readonly scriptDeniedInterpreter: string;
  /** TMP/bin/denied-dynamic: a copy of /usr/bin/id (dynamically linked); `exec.deny[2]`. */
  readonly deniedDynamic: string;
  /**
   * Allowlist: exec.allow[0..3] = /usr/bin/*, /bin/*, PROBES/*, TMP/**;
   * exec.deny[0..2] = denied, deniedScript, deniedDynamic.
   */
  readonly allowlist: string;
  readonly allowTmpRule: string;
  /** Denylist only: exec.deny[0] = denied. */
  readonly denylist: string;
  /** A fresh path for a marker file (never created by the fixture). */
  markerPath(label: string): string;
  remove(): void;
}

export function makeExecFixture(): ExecFixture {
  const root = makeTempDir("exec");
  const outside = makeTempDir("outside");
  for (const d of ["bin", "links", "out"]) mkdirSync(root.join(d));
  const allowed = root.join("bin/allowed-marker");
  const denied = root.join("bin/denied-marker");
  copyFileSync(probe("marker"), allowed);
  copyFileSync(probe("marker"), denied);
  chmodSync(allowed, 0o755);
  chmodSync(denied, 0o755);
  const symDenied = root.join("links/sym-denied");
  const symAllowed = root.join("links/sym-allowed");
  symlinkSync("../bin/denied-marker", symDenied);
  symlinkSync("../bin/allowed-marker", symAllowed);
  const notAllowed = outside.join("outside-marker");
  copyFileSync(probe("marker"), notAllowed);
  chmodSync(notAllowed, 0o755);
  const notExecutable = root.join("bin/not-executable");
  writeFileSync(notExecutable, "#!/bin/sh\necho should not run\n", { mode: 0o644 });
  const scriptOk = root.join("bin/script-ok");
  writeFileSync(scriptOk, "#!/bin/sh\necho script-ok\n", { mode: 0o755 });
  const deniedScript = root.join("bin/denied-script");
  writeFileSync(deniedScript, '#!/bin/sh\necho script-ran >> "$1"\n', { mode: 0o755 });
  const scriptDeniedInterpreter = root.join("bin/script-denied-interpreter");
  writeFileSync(scriptDeniedInterpreter, `#!${denied}\n`, { mode: 0o755 });
  const deniedDynamic = root.join("bin/denied-dynamic");
  copyFileSync("/usr/bin/id", deniedDynamic);
  chmodSync(deniedDynamic, 0o755);

  let counter = 0;
  return {
    root,
    outside,
    allowed,
    denied,
    deniedGlob: denied,
    symDenied,
    symAllowed,
    notAllowed,
    notExecutable,
    scriptOk,
    deniedScript,
    scriptDeniedInterpreter,
    deniedDynamic,
    allowlist: compiledPolicy({
      name: "enforcer-tests",
      mode: "enforce",
      allow: ["/usr/bin/*", "/bin/*", `${PROBES_DIR}/*`, `${root.path}/**`],
      deny: [denied, deniedScript, deniedDynamic],
    }),
    allowTmpRule: "exec.allow[3]",
    denylist: compiledPolicy({ name: "enforcer-tests-deny", deny: [denied] }),
    markerPath: (label) => root.join("out", `${label}-${++counter}`),
    remove: () => {
      root.remove();
      outside.remove();
    },
  };
}

/**
 * A tree of its own (never shared with `makeExecFixture`) in which the denied file already has a
 * second name at start-up: DIR/bin/denied-marker (`exec.deny[0]`) and DIR/links/hard-denied, a hard
 * link to it in a directory the allow list grants whole.
 */
export interface HardLinkFixture {
  readonly root: TempDir;
  readonly denied: string;
  readonly deniedGlob: string;
  readonly hardDenied: string;
  readonly allowed: string;
  /** exec.allow /usr/bin/*, /bin/*, PROBES/*, DIR/**; exec.deny[0] = denied. */
  readonly allowlist: string;
  /** exec.deny[0] = denied only. */
  readonly denylist: string;
  /** Why `--mechanism landlock` refuses to start with this tree's policies. */
  readonly inexactMessage: RegExp;
  markerPath(label: string): string;
  remove(): void;
}

export function makeHardLinkFixture(): HardLinkFixture {
  const root = makeTempDir("hardlink");
  for (const d of ["bin", "links", "out"]) mkdirSync(root.join(d));
  const denied = root.join("bin/denied-marker");
  const allowed = root.join("bin/allowed-marker");
  copyFileSync(probe("marker"), denied);
  copyFileSync(probe("marker"), allowed);
  chmodSync(denied, 0o755);
  chmodSync(allowed, 0o755);
  const hardDenied = root.join("links/hard-denied");
  linkSync(denied, hardDenied);
  let counter = 0;
  return {
    root,
    denied,
    deniedGlob: denied,
    hardDenied,
    allowed,
    allowlist: compiledPolicy({
      name: "enforcer-tests-hardlink",
      mode: "enforce",
      allow: ["/usr/bin/*", "/bin/*", `${PROBES_DIR}/*`, `${root.path}/**`],
      deny: [denied],
    }),
    denylist: compiledPolicy({ name: "enforcer-tests-hardlink-deny", deny: [denied] }),
    inexactMessage: new RegExp(
      `^vigil-enforcer: Landlock cannot enforce this policy exactly: a file denied by exec\\.deny\\[0\\] \\(${escapeRegExp(denied)}\\) has 2 hard links, which may be anywhere$`,
      "m",
    ),
    markerPath: (label) => root.join("out", `${label}-${++counter}`),
    remove: () => root.remove(),
  };
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/**
 * The mechanism configurations (docs/enforcer-cli.md "Mechanisms"): `auto` is the default and
 * today means `seccomp`; `landlock` is used only on request (and refuses to start where it cannot
 * enforce the policy exactly).
 */
export const MECHANISMS = [
  { label: "auto (the default: seccomp)", mechanism: "auto" },
  { label: "seccomp", mechanism: "seccomp" },
  { label: "landlock (on request)", mechanism: "landlock" },
] as const;

/** The kernel-side mechanism a configuration installs (when there are exec rules to enforce). */
export function kernelMechanism(mechanism: "auto" | "seccomp" | "landlock"): "seccomp" | "landlock" {
  return mechanism === "landlock" ? "landlock" : "seccomp";
}
