// End to end: a plain task definition (no entryPoint, no command) is protected by protectEcs in
// both delivery modes, with the image's ENTRYPOINT/CMD taken from the engine's own inspect of the
// image, and run with Fargate semantics on the local Docker Engine (vigil local run's runner).
// nginx serves, runs under the enforcer (a denied exec is blocked), and the task stops cleanly.

import { beforeAll, describe, expect, it } from "vitest";
import { protectEcs } from "../../src/protect/ecs/protect.js";
import type { DeliveryMode } from "../../src/protect/ecs/types.js";
import { docker, freePort, getLocalWithRetry, leftovers, setupEngine, startLocal, type LocalImage } from "../local/helpers.js";

let img: Record<LocalImage, string>;

beforeAll(async () => {
  img = (await setupEngine()).images;
}, 1_200_000);

const POLICY = ["vigil-policy 1", "name protect-e2e", "mode enforce", "exec.deny /usr/bin/wget", "end", ""].join("\n");

describe.each(["copy", "volumes-from"] as DeliveryMode[])("a protected task in %s mode", (mode) => {
  it("runs nginx with its own argv under the enforcer", async () => {
    const port = freePort();
    const plain = {
      family: `protect-e2e-${mode}`,
      containerDefinitions: [
        {
          name: "app",
          image: img.nginx,
          essential: true,
          environment: [
            { name: "NGINX_PORT", value: String(port) },
            { name: "APP_BACKGROUND", value: "sleep 0.5; /usr/bin/wget -q -O /dev/null http://127.0.0.1:1/; echo wget-status=$?" },
          ],
        },
      ],
    };
    const inspect = await docker.imageInspect(img.nginx);
    const imageConfig = { entrypoint: inspect?.Config?.Entrypoint ?? null, cmd: inspect?.Config?.Cmd ?? null };
    expect(imageConfig.cmd).not.toBeNull();
    const result = protectEcs(JSON.stringify(plain, null, 2), { mode, sidecarImage: img.sidecar, policy: POLICY, imageConfigs: new Map([[img.nginx, imageConfig]]) });
    expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const protectedTask = JSON.parse(result.text as string) as { containerDefinitions: Record<string, unknown>[] };

    const run = startLocal(protectedTask, { network: "host", timeoutMs: 90_000 });
    expect((await getLocalWithRetry(port)).status).toBe(200);
    await run.waitFor("app", /wget-status=126/);
    // stdout and stderr are separate streams in the container log: the event may come a little later
    await run.waitFor("app", /"verdict":"blocked".*"exe":"\/usr\/bin\/wget"/);
    const events = run.lines.filter((l) => l.container === "app" && l.text.startsWith("{")).map((l) => JSON.parse(l.text) as Record<string, unknown>);
    // The enforcer ran the image's own entry point (a #! script, so the kernel runs its
    // interpreter) with the image's own command, each argument intact.
    const firstExec = events.find((e) => e["kind"] === "exec");
    expect(firstExec, run.text("app")).toMatchObject({
      script: "/docker-entrypoint.sh",
      argv: ["/bin/sh", ...(imageConfig.entrypoint ?? []), ...(imageConfig.cmd ?? [])],
    });
    expect(imageConfig.cmd).toEqual(["nginx", "-g", "daemon off;"]);
    expect(events.some((e) => e["kind"] === "exec" && e["verdict"] === "blocked" && e["exe"] === "/usr/bin/wget"), run.text("app")).toBe(true);
    run.stop();
    const ended = await run.result;
    expect(ended.exitCode, run.text()).toBe(0);
    const by = Object.fromEntries(ended.containers.map((c) => [c.name, c]));
    expect(by["vigil"]).toMatchObject({ exitCode: 0, reason: "exited by itself" });
    expect(by["app"]).toMatchObject({ exitCode: 0, reason: "stopped with the task" });
    expect(await leftovers(run.runId)).toEqual([]);
  }, 180_000);
});
