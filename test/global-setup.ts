// The whole test run's watchdog for leftovers. Every process a test starts inherits
// VIGIL_TEST_RUN (the workers are forked after this setup), so at the end any process still
// carrying this run's id, and any container named vigil-test-*-r<id>-* (test/helpers/docker.ts)
// or made by the local runner during the run, was left behind by a test: it is listed, killed or
// removed, and the run fails. Another test run's containers on the same engine are left alone. A process spinning on
// after its worker died would otherwise keep a core busy for hours and skew every benchmark.

import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";

const RUN_VAR = "VIGIL_TEST_RUN";

export function setup(): () => void {
  const id = randomBytes(8).toString("hex");
  process.env[RUN_VAR] = id;
  const since = new Date();
  return () => {
    const processes = killLeftoverProcesses(id);
    const containers = removeLeftoverContainers(since, `-r${id.slice(0, 8)}-`);
    const lines = [
      ...processes.map((p) => `  process ${p.pid}: ${p.cmdline}`),
      ...containers.map((name) => `  container ${name}`),
    ];
    if (lines.length > 0) {
      // vitest reports an error thrown here but still exits 0: set the status as well.
      process.exitCode = 1;
      throw new Error(`tests left these behind (now killed or removed); find the test that started them:\n${lines.join("\n")}`);
    }
  };
}

interface Leftover {
  pid: number;
  cmdline: string;
}

/** Processes other than this one and its ancestors whose environment holds this run's id. */
function killLeftoverProcesses(id: string): Leftover[] {
  const mine = ancestors(process.pid);
  const found: Leftover[] = [];
  for (const entry of readdirSync("/proc")) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || mine.has(pid)) continue;
    if (parentOf(pid) === process.pid) continue; // vitest's own worker, still on its way out
    const environ = readOr(`/proc/${pid}/environ`);
    if (!environ.split("\0").includes(`${RUN_VAR}=${id}`)) continue;
    const cmdline = readOr(`/proc/${pid}/cmdline`).split("\0").join(" ").trim();
    if (readOr(`/proc/${pid}/stat`).split(") ")[1]?.startsWith("Z")) continue; // a zombie its parent will reap
    try {
      process.kill(pid, "SIGKILL");
      found.push({ pid, cmdline });
    } catch {
      // gone in the meantime
    }
  }
  return found;
}

function ancestors(pid: number): Set<number> {
  const out = new Set<number>();
  for (let p = pid; p > 1 && !out.has(p); p = parentOf(p)) out.add(p);
  return out;
}

function parentOf(pid: number): number {
  const stat = readOr(`/proc/${pid}/stat`);
  return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? 0);
}

/**
 * Containers a test of this run made: named vigil-test-* with this run's tag (the tests' naming
 * scheme), or labelled by the local runner (vigil.local.run) and created since the run started.
 */
function removeLeftoverContainers(since: Date, tag: string): string[] {
  let listing = "";
  for (const filter of ["name=^vigil-test-", "label=vigil.local.run"]) {
    try {
      listing += execFileSync("docker", ["ps", "-a", "--filter", filter, "--format", "{{.Names}}\t{{.CreatedAt}}\n"], {
        encoding: "utf8",
        timeout: 30_000,
        stdio: ["ignore", "pipe", "ignore"],
      });
    } catch {
      return []; // no Docker engine: no test could have made a container
    }
  }
  const names: string[] = [];
  for (const line of listing.split("\n")) {
    const [name, created] = line.split("\t");
    if (name === undefined || created === undefined || name === "") continue;
    // "2026-12-04 20:21:24 +0000 UTC": drop the zone name Date cannot parse.
    const at = new Date(created.replace(/ [A-Z]+$/, ""));
    if (names.includes(name)) continue;
    if (name.startsWith("vigil-test-")) {
      if (!name.includes(tag)) continue; // another run's, or no run's
    } else if (Number.isNaN(at.getTime()) || at.getTime() < Math.floor(since.getTime() / 1000) * 1000) {
      continue; // CreatedAt has whole seconds: compare with the second the run started in
    }
    names.push(name);
  }
  if (names.length > 0) {
    try {
      execFileSync("docker", ["rm", "-f", ...names], { timeout: 60_000, stdio: "ignore" });
    } catch {
      // reported either way
    }
  }
  return names;
}

function readOr(path: string): string {
  try {
    return readFileSync(path, "latin1");
  } catch {
    return "";
  }
}
