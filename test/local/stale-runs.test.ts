// What a killed `vigil local run` leaves behind is removed by the next one: every run labels its
// containers and volumes with its owner (machine, boot, PID namespace, pid, start time); at start,
// runs whose owner is certainly gone are removed and named. Runs still alive, of another machine,
// or without owner labels are left alone. And a run whose output pipe closes stops cleanly
// instead of dying of EPIPE.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { LABEL_RUN } from "../../src/local/plan.js";
import {
  currentOwner,
  LABEL_OWNER_BOOT,
  LABEL_OWNER_HOST,
  LABEL_OWNER_PID,
  LABEL_OWNER_PIDNS,
  LABEL_OWNER_START,
  ownerLabels,
  ownerState,
  processStart,
} from "../../src/local/stale-runs.js";
import { freshDir } from "../cli/helpers.js";
import { runIdOf, runProgram, spawnVigil, type Spawned } from "./e2e-helpers.js";
import { docker, leftovers, setupEngine, type LocalImage } from "./helpers.js";

describe("ownerState", () => {
  const self = { pid: 100, start: "5000", host: "box", bootId: "boot-1", pidNamespace: "pid:[1]" };
  const labels = (o: Partial<typeof self> = {}): Record<string, string> => ownerLabels({ ...self, pid: 200, start: "6000", ...o });
  const running = (table: Record<number, string>) => (pid: number): string | null => table[pid] ?? null;

  it("gone: no such pid, or the pid belongs to a process started at another time, or another boot", () => {
    expect(ownerState(labels(), self, running({}))).toEqual({ state: "gone", why: "vigil (pid 200) is no longer running" });
    expect(ownerState(labels(), self, running({ 200: "7000" }))).toMatchObject({ state: "gone", why: expect.stringContaining("another process") });
    expect(ownerState(labels({ bootId: "boot-0" }), self, running({ 200: "6000" }))).toMatchObject({ state: "gone", why: expect.stringContaining("last booted") });
  });

  it("alive: the same process; itself", () => {
    expect(ownerState(labels(), self, running({ 200: "6000" }))).toEqual({ state: "alive" });
    expect(ownerState(ownerLabels(self), self, running({}))).toEqual({ state: "alive" });
  });

  it("unknown (left alone): another machine, another PID namespace, no owner labels", () => {
    expect(ownerState(labels({ host: "other" }), self, running({}))).toMatchObject({ state: "unknown" });
    expect(ownerState(labels({ pidNamespace: "pid:[2]" }), self, running({}))).toMatchObject({ state: "unknown" });
    expect(ownerState({ [LABEL_RUN]: "x" }, self, running({}))).toMatchObject({ state: "unknown" });
  });

  it("reads this process's own identity", () => {
    const me = currentOwner();
    expect(me.pid).toBe(process.pid);
    expect(me.start).toMatch(/^\d+$/);
    expect(processStart(process.pid)).toBe(me.start);
    expect(me.bootId).toMatch(/^[0-9a-f-]{36}$/);
    expect(me.pidNamespace).toMatch(/^pid:\[\d+\]$/);
  });
});

describe("on the engine", () => {
  let client: string;
  let img: Record<LocalImage, string>;

  beforeAll(async () => {
    ({ client, images: img } = await setupEngine());
  }, 1_200_000);

  /** A task with a sidecar's anonymous volume (volumesFrom) and a task volume: containers and volumes to leave behind. */
  function longTask(family: string): unknown {
    return {
      family,
      volumes: [{ name: "data" }],
      containerDefinitions: [
        { name: "vigil", image: img.sidecar, essential: false },
        {
          name: "app",
          image: img.scratch,
          // a line every 300 ms, so vigil keeps writing; sh as PID 1 ignores SIGTERM (SIGKILL after stopTimeout)
          command: ["sh", "-c", "echo app up; while :; do sleep 0.3; echo tick; done"],
          volumesFrom: [{ sourceContainer: "vigil", readOnly: true }],
          dependsOn: [{ containerName: "vigil", condition: "SUCCESS" }],
          mountPoints: [{ sourceVolume: "data", containerPath: "/data" }],
          stopTimeout: 1,
        },
      ],
    };
  }

  function startRun(dir: string, family: string): Spawned {
    const file = join(dir, `${family}.json`);
    writeFileSync(file, JSON.stringify(longTask(family)));
    const p = spawnVigil(["local", "run", file, "--timeout", "120"], { cwd: dir });
    onTestFinished(async () => {
      p.child.kill("SIGTERM");
      await p.closed;
    });
    return p;
  }

  it("a SIGKILLed run's containers and volumes are removed by the next run, which says so; a live run's are not", async () => {
    const dir = freshDir("vigil-stale-");
    const victim = startRun(dir, "victim");
    const bystander = startRun(dir, "bystander");
    await victim.waitFor((out) => out.includes("app   | app up"), 60_000);
    await bystander.waitFor((out) => out.includes("app   | app up"), 60_000);
    const victimRun = runIdOf(victim.stderr());
    const bystanderRun = runIdOf(bystander.stderr());

    victim.child.kill("SIGKILL");
    expect((await victim.closed).signal).toBe("SIGKILL");
    const left = await leftovers(victimRun);
    // the pause, sidecar and app containers, and the task volume (anonymous volumes are found through the containers)
    expect(left.filter((l) => l.startsWith("container")).length, left.join("\n")).toBe(3);
    expect(left.filter((l) => l.startsWith("volume")).length, left.join("\n")).toBe(1);
    const [app] = await docker.containerList(`${LABEL_RUN}=${victimRun}`);
    expect(app?.Labels[LABEL_OWNER_PID]).toBe(String(victim.child.pid));
    for (const l of [LABEL_OWNER_START, LABEL_OWNER_HOST, LABEL_OWNER_BOOT, LABEL_OWNER_PIDNS]) expect(app?.Labels[l]).toMatch(/./);
    const anonymous = (await docker.containerList(`${LABEL_RUN}=${victimRun}`)).flatMap((c) => (c.Mounts ?? []).filter((m) => m.Type === "volume").map((m) => m.Name ?? ""));
    expect(anonymous.length).toBeGreaterThanOrEqual(2);

    // Something of no run of ours (no owner labels): left alone.
    const foreign = `vigil-test-foreign-${process.pid}`;
    const created = await runProgram(client, ["create", "--name", foreign, "--label", `${LABEL_RUN}=foreign${process.pid}`, "--network", "none", img.scratch, "true"]);
    expect(created.code, created.stderr).toBe(0);
    onTestFinished(async () => void (await runProgram(client, ["rm", "-f", foreign])));

    const next = join(dir, "next.json");
    writeFileSync(next, JSON.stringify({ family: "next", containerDefinitions: [{ name: "app", image: img.scratch, command: ["sh", "-c", "echo hi"] }] }));
    const cleaner = spawnVigil(["local", "run", next], { cwd: dir });
    const { code } = await cleaner.closed;
    expect(code, cleaner.stderr()).toBe(0);
    const said = cleaner.stderr().split("\n").filter((l) => l.includes("left behind"));
    expect(said, cleaner.stderr()).toHaveLength(1);
    expect(said[0]).toContain(`removed what run ${victimRun} (task victim) left behind: vigil (pid ${victim.child.pid}) is no longer running: container `);
    for (const c of ["app", "vigil", "pause"]) expect(said[0]).toContain(`container vigil-victim-${victimRun}-${c}`);
    expect(said[0]).toContain(`volume vigil-victim-${victimRun}-vol-data`);
    for (const v of anonymous) expect(said[0]).toContain(`volume ${v}`);
    expect(cleaner.stdout()).toBe("app   | hi\n");
    expect(await leftovers(victimRun, anonymous)).toEqual([]);

    // The live run and the foreign container are untouched; the live run still stops cleanly.
    expect((await leftovers(bystanderRun)).length).toBe(4);
    expect((await runProgram(client, ["inspect", foreign])).code).toBe(0);
    bystander.child.kill("SIGTERM");
    expect((await bystander.closed).code, bystander.stderr()).toBe(137);
    expect(await leftovers(bystanderRun)).toEqual([]);
  }, 180_000);

  it("a run whose output is no longer read (EPIPE) stops the task and cleans up instead of dying", async () => {
    const dir = freshDir("vigil-epipe-");
    const p = startRun(dir, "epipe");
    await p.waitFor((out) => out.includes("app   | app up"), 60_000);
    const runId = runIdOf(p.stderr());
    p.child.stdout?.destroy();
    p.child.stderr?.destroy();
    const { code, signal } = await p.closed;
    expect(signal).toBeNull();
    expect(code).toBe(137); // sh ignores SIGTERM as PID 1: SIGKILL after stopTimeout 1 s
    expect(await leftovers(runId)).toEqual([]);
  }, 120_000);
});
