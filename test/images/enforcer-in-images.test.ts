// The static enforcer as PID 1 of real containers, in the kinds of images it must run in:
// scratch (static busybox only), alpine-like (musl), distroless-like (glibc, no shell) and Debian.
// The images are built from this machine's files by scripts/test-images.sh; the enforcer is
// bind-mounted read-only at /vigil/enforcer and the compiled policy at /vigil/policy, which is
// what the ECS sidecar volume looks like. Docker's default seccomp profile applies throughout.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseEventLines } from "../../src/events/schema.js";
import type { ExecEvent, LifecycleEvent, VigilEvent } from "../../src/events/schema.js";
import { Docker, REPO, buildTestImages, ensureDockerEngine } from "../helpers/docker.js";
import type { CommandResult, TestImage } from "../helpers/docker.js";

const ENFORCER = process.env["VIGIL_IMAGES_ENFORCER"] ?? path.join(REPO, "dist/enforcer/linux-amd64/vigil-enforcer");

interface ImageCase {
  image: TestImage;
  /** Compiled policy (docs/compiled-policy.md). */
  policy: string;
  allowed: { command: string[]; stdout: RegExp; exit: number; exe: string };
  /** Runs the denied program, then another command in the same container. */
  deniedThenNext: { command: string[]; blockedExe: string; stdout: RegExp[]; exit: number };
  /** The denied program as the container's COMMAND itself. */
  deniedCommand: string[];
  /** Runs until SIGTERM; `ready` says when it has started; it then exits with `exit`. */
  waitForTerm: { command: string[]; ready: RegExp; exit: number; stdout?: RegExp };
}

const policy = (name: string, allow: string[], deny: string[]): string =>
  [
    "vigil-policy 1",
    `name ${name}`,
    "mode enforce",
    ...allow.map((g) => `exec.allow ${g}`),
    ...deny.map((g) => `exec.deny ${g}`),
    "end",
    "",
  ].join("\n");

const CASES: ImageCase[] = [
  {
    image: "scratch",
    // Every applet is the one /bin/busybox file, so no applet can be denied alone: the denied
    // program here is one outside the allow list (the mounted enforcer binary itself).
    policy: policy("scratch", ["/bin/*"], []),
    allowed: { command: ["sh", "-c", "id -u; ls /bin/true; exit 3"], stdout: /^0\n\/bin\/true\n$/, exit: 3, exe: "/bin/busybox" },
    deniedThenNext: {
      command: ["sh", "-c", '/vigil/enforcer --noop; echo "after=$?"; id -u'],
      blockedExe: "/vigil/enforcer",
      stdout: [/^after=126$/m, /^0$/m],
      exit: 0,
    },
    deniedCommand: ["/vigil/enforcer", "--noop"],
    waitForTerm: { command: ["sh", "-c", "echo ready; exec sleep 300"], ready: /ready/, exit: 128 + 15 },
  },
  {
    image: "alpine-like",
    policy: policy("alpine-like", ["/bin/*", "/usr/bin/*"], ["/usr/bin/forbidden"]),
    allowed: { command: ["hello", "5"], stdout: /^hello from musl pid=\d+ uid=0\n$/, exit: 5, exe: "/usr/bin/hello" },
    deniedThenNext: {
      command: ["sh", "-c", 'forbidden; echo "after=$?"; hello'],
      blockedExe: "/usr/bin/forbidden",
      stdout: [/^after=126$/m, /^hello from musl/m],
      exit: 0,
    },
    deniedCommand: ["forbidden"],
    waitForTerm: { command: ["waiter"], ready: /ready/, exit: 42, stdout: /got SIGTERM/ },
  },
  {
    image: "distroless-like",
    policy: policy("distroless-like", ["/app/*"], ["/app/forbidden"]),
    allowed: { command: ["/app/hello", "5"], stdout: /^hello from glibc pid=\d+ uid=0\n$/, exit: 5, exe: "/app/hello" },
    deniedThenNext: {
      // no shell: try-exec runs each program in turn; Landlock makes execv fail (EACCES), ptrace
      // lets it start and ends it with 126 before its first instruction
      command: ["/app/try-exec", "/app/forbidden", "/app/hello"],
      blockedExe: "/app/forbidden",
      stdout: [/^\/app\/forbidden: (errno EACCES|exit 126)$/m, /^hello from glibc/m, /^\/app\/hello: exit 0$/m],
      exit: 0,
    },
    deniedCommand: ["/app/forbidden"],
    waitForTerm: { command: ["/app/waiter"], ready: /ready/, exit: 42, stdout: /got SIGTERM/ },
  },
  {
    image: "debian",
    // /usr/bin/perl5.* is a hard link to /usr/bin/perl: denied too, by identity.
    policy: policy("debian", ["/bin/*", "/usr/bin/*", "/usr/sbin/*"], ["/usr/bin/perl"]),
    allowed: { command: ["bash", "-c", "whoami; exit 4"], stdout: /^root\n$/, exit: 4, exe: "/usr/bin/whoami" },
    deniedThenNext: {
      command: [
        "bash",
        "-c",
        'perl -e "print 1"; echo "after=$?"; for p in /usr/bin/perl5.*; do "$p" -e 1; echo "hardlink=$?"; done; whoami',
      ],
      blockedExe: "/usr/bin/perl",
      stdout: [/^after=126$/m, /^hardlink=126$/m, /^root$/m],
      exit: 0,
    },
    deniedCommand: ["perl", "-e", "print 1"],
    waitForTerm: {
      command: ["bash", "-c", 'trap "echo got TERM; exit 42" TERM; sleep 300 & echo ready; wait $!'],
      ready: /ready/,
      exit: 42,
      stdout: /got TERM/,
    },
  },
];

let docker: Docker;
let images: Record<TestImage, string>;
let policyDir: string;
let noPtraceProfile: string;

beforeAll(async () => {
  execFileSync("make", ["-s", "-C", path.join(REPO, "enforcer")], { stdio: ["ignore", "pipe", "pipe"], timeout: 300_000 });
  // (docker -v would silently create a directory at a missing host path)
  if (!existsSync(ENFORCER)) throw new Error(`enforcer binary not found at ${ENFORCER}`);
  docker = new Docker(await ensureDockerEngine());
  // The first run debootstraps Debian (about a minute here); later runs find every image cached.
  images = await buildTestImages();
  policyDir = mkdtempSync(path.join(tmpdir(), "vigil-images-"));
  for (const c of CASES) writeFileSync(path.join(policyDir, c.image), c.policy);
  // A hardened platform's profile: everything allowed except ptrace(2).
  noPtraceProfile = path.join(policyDir, "no-ptrace.json");
  writeFileSync(
    noPtraceProfile,
    JSON.stringify({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["ptrace"], action: "SCMP_ACT_ERRNO" }] }),
  );
}, 1_500_000);

afterAll(async () => {
  await docker?.removeAll();
  if (policyDir !== undefined) rmSync(policyDir, { recursive: true, force: true });
}, 120_000);

interface RunOptions {
  ptrace?: boolean;
  policy?: boolean;
  name?: string;
  /** Extra `docker run` options (e.g. --user). */
  dockerOptions?: string[];
  /** Extra enforcer options, before `--`. */
  enforcerOptions?: string[];
}

function runArgs(c: ImageCase, command: readonly string[], o: RunOptions = {}): string[] {
  const args = ["run", "--rm", "--network", "none", "--name", o.name ?? docker.uniqueName(c.image)];
  if (o.ptrace !== false) args.push("--cap-add", "SYS_PTRACE");
  args.push("-v", `${ENFORCER}:/vigil/enforcer:ro`);
  if (o.policy !== false) args.push("-v", `${path.join(policyDir, c.image)}:/vigil/policy:ro`);
  args.push(...(o.dockerOptions ?? []), "--entrypoint", "/vigil/enforcer", images[c.image]);
  if (o.policy !== false) args.push("--policy", "/vigil/policy");
  args.push(...(o.enforcerOptions ?? []), "--", ...command);
  return args;
}

interface Outcome extends CommandResult {
  events: VigilEvent[];
}

/** Events from the container's stderr (mixed with the programs' own stderr), all schema-valid. */
function eventsOf(r: CommandResult): VigilEvent[] {
  // Every line that looks like JSON must be an event, and every event must pass the schema.
  const jsonish = r.stderr.split("\n").filter((l) => l.startsWith("{"));
  for (const line of jsonish) expect(line.startsWith('{"vigil":'), `not an event line: ${line}`).toBe(true);
  const parsed = parseEventLines(r.stderr, { mixed: true });
  expect(parsed.errors, `invalid event lines:\n${r.stderr}`).toEqual([]);
  expect(parsed.events).toHaveLength(jsonish.length);
  return parsed.events;
}

async function run(c: ImageCase, command: readonly string[], o: RunOptions = {}): Promise<Outcome> {
  const r = await docker.run(runArgs(c, command, o), 60_000);
  expect(r.timedOut, `docker run timed out\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(false);
  return { ...r, events: eventsOf(r) };
}

function describeRun(r: CommandResult): string {
  return `exit ${String(r.code)}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}`;
}

const lifecycleEvents = (events: readonly VigilEvent[], which: LifecycleEvent["event"]): LifecycleEvent[] =>
  events.filter((e): e is LifecycleEvent => e.kind === "lifecycle" && e.event === which);
const execEvents = (events: readonly VigilEvent[]): ExecEvent[] => events.filter((e): e is ExecEvent => e.kind === "exec");

function startEvent(r: Outcome): Extract<LifecycleEvent, { event: "start" }> {
  const start = lifecycleEvents(r.events, "start")[0];
  if (start?.event !== "start") throw new Error(`no lifecycle start event\n${describeRun(r)}`);
  return start;
}

function exitStatus(r: Outcome): number | undefined {
  const exit = lifecycleEvents(r.events, "exit")[0];
  return exit?.event === "exit" ? exit.status : undefined;
}

describe.each(CASES)("in $image", (c) => {
  test("the enforcer is PID 1, an allowed program runs and its exit status passes through", async () => {
    const r = await run(c, c.allowed.command);
    expect(r.code, describeRun(r)).toBe(c.allowed.exit);
    expect(r.stdout).toMatch(c.allowed.stdout);
    const start = startEvent(r);
    expect(start.pid1).toBe(true);
    expect(start.ppid).toBe(1); // the enforcer
    expect(start.exe).toBe("/vigil/enforcer");
    expect(start.argv).toEqual(c.allowed.command);
    expect(start.policyName).toBe(c.image);
    expect(start.mode).toBe("enforce");
    expect(start.mechanisms.ptrace).toBe(true);
    const execs = execEvents(r.events);
    expect(execs.some((e) => e.exe === c.allowed.exe && e.verdict === "allowed"), describeRun(r)).toBe(true);
    expect(execs.filter((e) => e.verdict !== "allowed")).toEqual([]);
    expect(exitStatus(r)).toBe(c.allowed.exit);
    // start first, exit last
    expect(r.events[0]).toBe(start);
    expect(r.events.at(-1)?.kind).toBe("lifecycle");
  });

  test("a denied program is blocked (126) and the container runs the next command", async () => {
    const r = await run(c, c.deniedThenNext.command);
    expect(r.code, describeRun(r)).toBe(c.deniedThenNext.exit);
    for (const re of c.deniedThenNext.stdout) expect(r.stdout, describeRun(r)).toMatch(re);
    expect(r.stdout).not.toMatch(/forbidden ran/);
    const blocked = execEvents(r.events).filter((e) => e.verdict === "blocked");
    expect(blocked.length, describeRun(r)).toBeGreaterThan(0);
    expect(blocked[0]?.exe).toBe(c.deniedThenNext.blockedExe);
    expect(["ptrace", "landlock"]).toContain(blocked[0]?.mechanism);
    expect(blocked[0]?.rule).toMatch(/^exec\.(deny\[\d+\]|allow)$/);
    expect(exitStatus(r)).toBe(c.deniedThenNext.exit);
  });

  test("with --mechanism seccomp (no Landlock) the denied program is blocked by ptrace", async () => {
    const r = await run(c, c.deniedThenNext.command, { enforcerOptions: ["--mechanism", "seccomp"] });
    expect(r.code, describeRun(r)).toBe(c.deniedThenNext.exit);
    for (const re of c.deniedThenNext.stdout) expect(r.stdout, describeRun(r)).toMatch(re);
    expect(r.stdout).not.toMatch(/forbidden ran/);
    const start = startEvent(r);
    expect(start.mechanisms).toMatchObject({ ptrace: true, landlock: 0, seccomp: true });
    const blocked = execEvents(r.events).filter((e) => e.verdict === "blocked");
    expect(blocked[0]?.exe, describeRun(r)).toBe(c.deniedThenNext.blockedExe);
    expect(blocked[0]?.mechanism).toBe("ptrace");
  });

  test("a denied COMMAND is refused before it starts (126, precheck)", async () => {
    const r = await run(c, c.deniedCommand);
    expect(r.code, describeRun(r)).toBe(126);
    expect(r.stdout).toBe("");
    const blocked = execEvents(r.events).filter((e) => e.verdict === "blocked");
    expect(blocked).toHaveLength(1);
    expect(blocked[0]?.mechanism).toBe("precheck");
    expect(blocked[0]?.argv).toEqual(c.deniedCommand);
  });

  test("docker stop: SIGTERM reaches the application and its exit status propagates", async () => {
    const name = docker.uniqueName(`${c.image}-stop`);
    const running = docker.start(runArgs(c, c.waitForTerm.command, { name }), 90_000);
    await running.waitFor((out) => c.waitForTerm.ready.test(out), 30_000);
    const stop = await docker.run(["stop", "--time", "20", name], 60_000);
    expect(stop.code, describeRun(stop)).toBe(0);
    const r = await running.result;
    expect(r.timedOut).toBe(false);
    const events = eventsOf(r);
    expect(r.code, describeRun(r)).toBe(c.waitForTerm.exit);
    if (c.waitForTerm.stdout !== undefined) expect(r.stdout).toMatch(c.waitForTerm.stdout);
    const exit = lifecycleEvents(events, "exit")[0];
    expect(exit?.event === "exit" ? exit.status : undefined).toBe(c.waitForTerm.exit);
    // well before the 20 s after which docker stop would have used SIGKILL
    expect(stop.ms).toBeLessThan(15_000);
  });

  // Docker's default seccomp profile lets a process trace its own (dumpable) child without any
  // capability, and the enforcer makes itself non-dumpable only after attaching, reading tracee
  // memory through /proc/PID/mem where process_vm_readv needs CAP_SYS_PTRACE. So SYS_PTRACE is
  // not even needed here (Fargate's platform may differ: the task definition adds it anyway).
  test("without SYS_PTRACE (Docker's default profile) the enforcer still traces and blocks", async () => {
    const r = await run(c, c.deniedThenNext.command, { ptrace: false });
    expect(r.code, describeRun(r)).toBe(c.deniedThenNext.exit);
    for (const re of c.deniedThenNext.stdout) expect(r.stdout, describeRun(r)).toMatch(re);
    expect(startEvent(r).mechanisms.ptrace).toBe(true);
    const blocked = execEvents(r.events).filter((e) => e.verdict === "blocked");
    expect(blocked[0]?.exe, describeRun(r)).toBe(c.deniedThenNext.blockedExe);
  });

  // A platform whose seccomp profile refuses ptrace(2) outright: the enforcer must refuse to
  // start the application unprotected, and say what to do.
  test("where ptrace is refused, the enforcer refuses to start with the SYS_PTRACE hint and exit 1", async () => {
    const r = await run(c, c.allowed.command, { dockerOptions: ["--security-opt", `seccomp=${noPtraceProfile}`] });
    expect(r.code, describeRun(r)).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/PTRACE_SEIZE\)\): Operation not permitted/);
    expect(r.stderr).toMatch(/add the SYS_PTRACE capability/);
    expect(r.stderr).toMatch(/--fail-open/);
    expect(lifecycleEvents(r.events, "start")).toEqual([]);
  });

  test("where ptrace is refused, --fail-open runs the application untraced, reported as failopen", async () => {
    const r = await run(c, c.allowed.command, {
      dockerOptions: ["--security-opt", `seccomp=${noPtraceProfile}`],
      enforcerOptions: ["--fail-open"],
    });
    expect(r.code, describeRun(r)).toBe(c.allowed.exit);
    expect(r.stdout).toMatch(c.allowed.stdout);
    const failopen = lifecycleEvents(r.events, "failopen")[0];
    expect(failopen?.verdict).toBe("alert");
    expect(failopen?.event === "failopen" ? failopen.reason : undefined).toMatch(/ptrace/);
    const start = startEvent(r);
    expect(start.pid1).toBe(true);
    expect(start.mechanisms.ptrace).toBe(false);
    expect(execEvents(r.events)).toEqual([]);
  });
});

describe.each(CASES.filter((c) => c.image !== "distroless-like"))("docker exec into $image", (c) => {
  // `docker exec` processes are not descendants of PID 1: the enforcer adopts them within
  // 50 ms, judges what they run, and decides everything they start from then on.
  test("a shell entered with docker exec is adopted: what it runs is decided and reported", async () => {
    const name = docker.uniqueName(`${c.image}-exec`);
    const running = docker.start(runArgs(c, ["sleep", "60"], { name }), 90_000);
    await running.waitFor((_out, err) => err.includes('"event":"start"'), 30_000);
    const denied = c.deniedCommand.map((a) => `'${a}'`).join(" ");
    const allowed = c.allowed.command.map((a) => `'${a}'`).join(" ");
    const r = await docker.run(["exec", name, "sh", "-c", `sleep 1; ${denied}; echo "denied=$?"; ${allowed}; echo "allowed=$?"`], 60_000);
    expect(r.stdout, describeRun(r)).toMatch(/^denied=126$/m);
    expect(r.stdout, describeRun(r)).toMatch(new RegExp(`^allowed=${c.allowed.exit}$`, "m"));
    await docker.run(["rm", "-f", name], 60_000);
    const done = await running.result;
    const events = eventsOf(done);
    const attach = execEvents(events).filter((e) => e.mechanism === "attach");
    expect(attach.length, describeRun(done)).toBeGreaterThan(0);
    const blocked = execEvents(events).filter((e) => e.verdict === "blocked" && e.mechanism === "ptrace");
    expect(blocked.length, describeRun(done)).toBeGreaterThan(0);
  });

  if (c.image === "debian")
    test("a forbidden program started directly with docker exec is refused, or killed within the scan period", async () => {
      const name = docker.uniqueName(`${c.image}-exec-kill`);
      const running = docker.start(runArgs(c, ["sleep", "60"], { name }), 90_000);
      await running.waitFor((_out, err) => err.includes('"event":"start"'), 30_000);
      const r = await docker.run(["exec", name, "perl", "-e", 'sleep 10; print "survived\\n"'], 60_000);
      await docker.run(["rm", "-f", name], 60_000);
      const done = await running.result;
      // Found while runc's exec helper still runs (attach.runtime), perl's exec is refused (126,
      // decided by ptrace); found after, perl is killed (137, decided at adoption).
      expect([126, 137], describeRun(r)).toContain(r.code);
      expect(r.stdout).not.toMatch(/survived/);
      expect(r.ms).toBeLessThan(5_000);
      const mechanism = r.code === 137 ? "attach" : "ptrace";
      const blocked = execEvents(eventsOf(done)).filter((e) => e.mechanism === mechanism && e.verdict === "blocked");
      expect(blocked[0]?.exe, describeRun(done)).toBe("/usr/bin/perl");
    });
});

describe("as a non-root USER (distroless :nonroot style, uid 65532)", () => {
  const c = CASES.find((x) => x.image === "distroless-like");
  if (c === undefined) throw new Error("no distroless-like case");

  // Docker (and ECS) give a non-root user no effective capabilities even with SYS_PTRACE added;
  // the enforcer traces its own child anyway (it stays dumpable until attached).
  test("the enforcer runs the application as uid 65532 and still blocks", async () => {
    const r = await run(c, c.allowed.command, { dockerOptions: ["--user", "65532:65532"] });
    expect(r.code, describeRun(r)).toBe(c.allowed.exit);
    expect(r.stdout).toMatch(/uid=65532/);
    expect(startEvent(r).pid1).toBe(true);
    expect(startEvent(r).mechanisms.ptrace).toBe(true);
    const denied = await run(c, c.deniedThenNext.command, { dockerOptions: ["--user", "65532:65532"] });
    expect(denied.code, describeRun(denied)).toBe(c.deniedThenNext.exit);
    const blocked = execEvents(denied.events).filter((e) => e.verdict === "blocked");
    expect(blocked[0]?.exe, describeRun(denied)).toBe(c.deniedThenNext.blockedExe);
  });
});
