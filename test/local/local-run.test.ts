// vigil local run on the real Docker Engine (dockerd --bridge=none): Fargate's task semantics.

import { beforeAll, describe, expect, it } from "vitest";
import { freePort, leftovers, runLocal, setupEngine, startLocal, volumesOf, type LocalImage } from "./helpers.js";

let img: Record<LocalImage, string>;

beforeAll(async () => {
  img = (await setupEngine()).images;
}, 1_200_000);

const sh = (script: string): string[] => ["sh", "-c", script];
// PID 1 ignores SIGTERM unless it handles it: this one exits 0 on SIGTERM.
const untilTerm = (msg: string): string[] => sh(`trap 'echo ${msg} got SIGTERM; exit 0' TERM; echo ${msg} up; while :; do sleep 0.1; done`);

describe("essential", () => {
  it("an essential container's exit stops the task, with its exit code; others get SIGTERM, then SIGKILL after stopTimeout", async () => {
    const { result, text, run } = await runLocal({
      family: "essential",
      containerDefinitions: [
        { name: "app", image: img.scratch, command: sh("sleep 1; echo app done; exit 7") },
        { name: "polite", image: img.scratch, essential: false, command: untilTerm("polite") },
        { name: "stubborn", image: img.scratch, essential: false, stopTimeout: 2, command: ["sleep", "600"] },
        { name: "quick", image: img.scratch, essential: false, command: sh("echo quick; exit 0") },
      ],
    });
    expect(result.exitCode, text()).toBe(7);
    expect(result.stopCause).toBe("essential-exit");
    const by = Object.fromEntries(result.containers.map((c) => [c.name, c]));
    expect(by["app"]).toMatchObject({ exitCode: 7, reason: "exited by itself (failed)" });
    expect(by["polite"]).toMatchObject({ exitCode: 0, reason: "stopped with the task" });
    expect(by["stubborn"]).toMatchObject({ exitCode: 137, reason: "killed (SIGKILL) after stopTimeout 2s" });
    // a non-essential container's exit did not stop the task
    expect(by["quick"]).toMatchObject({ exitCode: 0, reason: "exited by itself" });
    expect(text("polite")).toContain("polite got SIGTERM");
    expect(text("app")).toContain("app | app done");
    expect(await leftovers(run.runId)).toEqual([]);
  });
});

describe("dependsOn", () => {
  it("START, SUCCESS and COMPLETE order the start; a task volume carries the data", async () => {
    const { result, text } = await runLocal({
      family: "order",
      volumes: [{ name: "shared" }],
      containerDefinitions: [
        { name: "init", image: img.scratch, essential: false, mountPoints: [{ sourceVolume: "shared", containerPath: "/data" }], command: sh("sleep 1; echo from-init > /data/x; echo init wrote") },
        { name: "fails", image: img.scratch, essential: false, command: sh("exit 3") },
        {
          name: "app",
          image: img.scratch,
          dependsOn: [{ containerName: "init", condition: "SUCCESS" }, { containerName: "fails", condition: "COMPLETE" }],
          mountPoints: [{ sourceVolume: "shared", containerPath: "/data", readOnly: true }],
          command: sh("cat /data/x; (echo y > /data/y) 2>/dev/null && echo wrote || echo read-only"),
        },
      ],
    });
    expect(result.exitCode, text()).toBe(0);
    expect(text("app")).toBe("app | from-init\napp | read-only");
    const all = text();
    expect(all.indexOf("init: exited with code 0")).toBeLessThan(all.indexOf("app: started"));
    expect(all.indexOf("fails: exited with code 3")).toBeLessThan(all.indexOf("app: started"));
  });

  it("SUCCESS with a failing dependency: the dependent never starts and the task fails (nothing left behind)", async () => {
    const { result, text, run } = await runLocal({
      family: "success",
      containerDefinitions: [
        { name: "init", image: img.scratch, essential: false, command: sh("exit 4") },
        { name: "app", image: img.scratch, dependsOn: [{ containerName: "init", condition: "SUCCESS" }], command: sh("echo should not run") },
      ],
    });
    expect(result.exitCode, text()).toBe(125);
    expect(result.containers[1]).toMatchObject({ status: "not-started", reason: "dependency init exited with code 4; SUCCESS needs 0" });
    expect(text("app")).toBe("");
    expect(await leftovers(run.runId)).toEqual([]);
  });

  it("HEALTHY waits for the health check (run through exec)", async () => {
    const { result, text } = await runLocal({
      family: "healthy",
      containerDefinitions: [
        {
          name: "db",
          image: img.scratch,
          essential: false,
          healthCheck: { command: ["CMD-SHELL", "test -f /ready"], interval: 5, timeout: 2, retries: 3 },
          command: sh("trap 'exit 0' TERM; sleep 2; echo > /ready; echo db ready; while :; do sleep 0.1; done"),
        },
        { name: "app", image: img.scratch, dependsOn: [{ containerName: "db", condition: "HEALTHY" }], command: sh("echo app runs") },
      ],
    });
    expect(result.exitCode, text()).toBe(0);
    const all = text();
    expect(all.indexOf("db: health: healthy")).toBeGreaterThan(0);
    expect(all.indexOf("db: health: healthy")).toBeLessThan(all.indexOf("app: started"));
    expect(result.containers[0]).toMatchObject({ health: "healthy", exitCode: 0 });
  }, 60_000);
});

describe("volumes", () => {
  it("volumesFrom readOnly: the image VOLUME's content is there and cannot be written", async () => {
    const { result, text } = await runLocal({
      family: "volumes-from",
      containerDefinitions: [
        { name: "vigil", image: img.sidecar, essential: false },
        {
          name: "app",
          image: img.scratch,
          dependsOn: [{ containerName: "vigil", condition: "COMPLETE" }],
          volumesFrom: [{ sourceContainer: "vigil", readOnly: true }],
          command: sh("ls /vigil; /vigil/enforcer --version >/dev/null && echo runs; (echo x > /vigil/x) 2>/dev/null && echo wrote || echo read-only"),
        },
      ],
    });
    expect(result.exitCode, text()).toBe(0);
    expect(text("app")).toBe("app | enforcer\napp | runs\napp | read-only");
    expect(result.containers[0]).toMatchObject({ exitCode: 0, reason: "exited by itself" });
  });
});

describe("network", () => {
  it("containers share the task's localhost: one serves on 127.0.0.1:PORT, the other fetches it", async () => {
    const port = freePort();
    const { result, text } = await runLocal(
      {
        family: "localhost",
        containerDefinitions: [
          { name: "web", image: img.nginx, essential: false, environment: [{ name: "NGINX_PORT", value: String(port) }] },
          {
            name: "client",
            image: img.nginx,
            entryPoint: [],
            dependsOn: [{ containerName: "web", condition: "START" }],
            command: sh(`for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1:${port}/ && exit 0; sleep 0.5; done; exit 1`),
          },
        ],
      },
      { timeoutMs: 60_000 },
    );
    expect(result.exitCode, text()).toBe(0);
    expect(text("client")).toContain("hello from nginx");
    // nginx exits 0 on SIGTERM (fast shutdown)
    expect(result.containers[0]).toMatchObject({ exitCode: 0, reason: "stopped with the task" });
  });
});

describe("stopping and cleanup", () => {
  it("a stop request (Ctrl-C/SIGTERM) stops the task like ECS; the essential container's code is the task's", async () => {
    const run = startLocal({
      family: "stop",
      containerDefinitions: [
        { name: "app", image: img.scratch, command: untilTerm("app") },
        { name: "side", image: img.scratch, essential: false, dependsOn: [{ containerName: "app", condition: "START" }], command: untilTerm("side") },
      ],
    });
    await run.waitFor("side", /side up/);
    await run.waitFor("app", /app up/);
    run.stop();
    const result = await run.result;
    expect(result.exitCode, run.text()).toBe(0);
    expect(result.stopCause).toBe("stop-request");
    // dependencies are reversed for shutdown: side (depends on app) stops first
    const all = run.text();
    expect(all.indexOf("side: exited")).toBeLessThan(all.indexOf("app: exited"));
    expect(await leftovers(run.runId)).toEqual([]);
  });

  it("--timeout stops the task with exit code 124", async () => {
    const { result } = await runLocal(
      { family: "timeout", containerDefinitions: [{ name: "app", image: img.scratch, command: untilTerm("app") }] },
      { timeoutMs: 1500 },
    );
    expect(result).toMatchObject({ exitCode: 124, stopCause: "timeout" });
  });

  it("a failure half-way (an image that does not exist for the 2nd container) leaves no container and no volume", async () => {
    const run = startLocal(
      {
        family: "halfway",
        volumes: [{ name: "scratch" }],
        containerDefinitions: [
          { name: "vigil", image: img.sidecar, essential: false, command: ["/vigil/enforcer", "--", "/vigil/enforcer", "--noop"] },
          { name: "first", image: img.scratch, essential: false, volumesFrom: [{ sourceContainer: "vigil" }], mountPoints: [{ sourceVolume: "scratch", containerPath: "/s" }], command: untilTerm("first") },
          { name: "second", image: "vigil-test/does-not-exist:nope", dependsOn: [{ containerName: "first", condition: "START" }] },
        ],
      },
      { pull: "missing" },
    );
    const seen: string[] = [];
    await run.waitFor("first", /first up/);
    for (const id of run.started.values()) seen.push(...(await volumesOf(id).catch(() => [])));
    const result = await run.result;
    expect(result.exitCode, run.text()).toBe(125);
    expect(result.stopCause).toBe("failure");
    expect(result.containers[2]?.reason).toMatch(/failed to start: image vigil-test\/does-not-exist:nope is not on this Docker Engine and could not be pulled/);
    expect(result.containers[1]).toMatchObject({ exitCode: 0, reason: "stopped with the task" });
    expect(seen.length).toBeGreaterThanOrEqual(2); // the sidecar's anonymous /vigil and the task volume
    expect(result.leftovers).toEqual([]);
    expect(await leftovers(run.runId, seen)).toEqual([]);
  });
});
