// Where the enforcer under test, the probes and the fuzz script live, and how to build them.

import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import path from "node:path";

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
export const PROBES_DIR = path.join(REPO, "build/probes");
export const FUZZ_SCRIPT = path.join(REPO, "enforcer/tests/fuzz/run.sh");

/** The enforcer's name for this machine's architecture (its Makefile target and dist folder). */
export const ARCH = process.arch === "arm64" ? "arm64" : "amd64";

/** The enforcer binary: $VIGIL_TEST_ENFORCER (e.g. the ASan build) or the release build. */
export const ENFORCER = process.env["VIGIL_TEST_ENFORCER"] ?? path.join(REPO, `dist/enforcer/linux-${ARCH}/vigil-enforcer`);

/** The dynamic loader of this architecture (glibc). */
export const LOADER = ARCH === "arm64" ? "/lib/ld-linux-aarch64.so.1" : "/lib64/ld-linux-x86-64.so.2";

/** The ASan/UBSan build of the enforcer (`make -C enforcer asan`). */
export const ASAN_ENFORCER = path.join(REPO, "dist/enforcer/asan/vigil-enforcer");

export function ensureAsanBuilt(): void {
  make(["-C", path.join(REPO, "enforcer"), "asan"]);
  if (!existsSync(ASAN_ENFORCER)) throw new Error(`ASan enforcer not found at ${ASAN_ENFORCER}`);
}

export type ProbeName =
  | "try-exec"
  | "thread-exec"
  | "vfork-exec"
  | "spawn-exec"
  | "race-exec"
  | "fork-loop"
  | "untraced-exec"
  | "clone3-exec"
  | "int80-exec"
  | "listener-exec"
  | "zombie-maker"
  | "sig-report"
  | "exit-with"
  | "kill-self"
  | "marker"
  | "fd-exec"
  | "file-ops"
  | "net-ops"
  | "udp-send"
  | "vfork-edge"
  | "no-landlock"
  | "open-race"
  | "exec-chain"
  | "nc-exec";

export function probe(name: ProbeName): string {
  return path.join(PROBES_DIR, name);
}

let built = false;

/**
 * Builds the probes (always; make is incremental) and the enforcer (unless $VIGIL_TEST_ENFORCER
 * names a prebuilt one). Throws with make's output when a build fails, so a broken build fails the
 * tests instead of skipping them.
 */
export function ensureBuilt(): void {
  if (built) return;
  make(["-C", path.join(REPO, "enforcer/tests/probes")]);
  // Only this architecture's release binary: the other one needs a cross toolchain.
  if (process.env["VIGIL_TEST_ENFORCER"] === undefined) make(["-C", path.join(REPO, "enforcer"), ARCH]);
  if (!existsSync(ENFORCER)) throw new Error(`enforcer binary not found at ${ENFORCER}`);
  built = true;
}

function make(args: string[]): void {
  try {
    execFileSync("make", ["-s", ...args], { stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
  } catch (error) {
    const stderr = (error as { stderr?: Buffer }).stderr?.toString() ?? "";
    throw new Error(`make ${args.join(" ")} failed:\n${stderr}`, { cause: error });
  }
}
