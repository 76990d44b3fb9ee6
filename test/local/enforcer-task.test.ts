// The enforcer in a task, volumes-from mode: a sidecar image with VOLUME /vigil (assembled here from
// this build's enforcer), nginx's entry point rewritten to start through /vigil/enforcer. nginx
// serves on loopback, a denied exec the app starts is blocked with an event, SIGTERM stops nginx
// gracefully and the task exits 0.

import { beforeAll, expect, it } from "vitest";
import { freePort, getLocal, getLocalWithRetry, leftovers, setupEngine, startLocal, type LocalImage } from "./helpers.js";

let img: Record<LocalImage, string>;

beforeAll(async () => {
  img = (await setupEngine()).images;
}, 1_200_000);

const POLICY = ["vigil-policy 1", "name local-run", "mode enforce", "exec.deny /usr/bin/wget", "exec.deny /usr/bin/nc*", "end", ""].join("\n");

it("nginx under the enforcer (volumes-from sidecar): serves on loopback, a denied exec is blocked, SIGTERM ends it with 0", async () => {
  const port = freePort();
  const run = startLocal(
    {
      family: "nginx-protected",
      containerDefinitions: [
        { name: "vigil", image: img.sidecar, essential: false },
        {
          name: "app",
          image: img.nginx,
          dependsOn: [{ containerName: "vigil", condition: "START" }],
          volumesFrom: [{ sourceContainer: "vigil", readOnly: true }],
          entryPoint: ["/vigil/enforcer", "--", "/docker-entrypoint.sh"],
          command: ["nginx", "-g", "daemon off;"],
          linuxParameters: { capabilities: { add: ["SYS_PTRACE"] } },
          environment: [
            { name: "NGINX_PORT", value: String(port) },
            { name: "VIGIL_POLICY", value: POLICY },
            { name: "APP_BACKGROUND", value: "sleep 0.5; /usr/bin/wget -q -O /dev/null http://127.0.0.1:1/; echo wget-status=$?" },
          ],
        },
      ],
    },
    { network: "host", timeoutMs: 90_000 },
  );
  const page = await getLocalWithRetry(port);
  expect(page.status).toBe(200);
  expect(page.body).toContain("hello from nginx");
  await run.waitFor("app", /wget-status=126/);
  // the event comes on stderr, a stream of its own: it may arrive after the status line
  await run.waitFor("app", /"verdict":"blocked"/);
  const events = run.lines.filter((l) => l.container === "app" && l.text.startsWith("{")).map((l) => JSON.parse(l.text) as Record<string, unknown>);
  expect(events.some((e) => e["kind"] === "exec" && e["verdict"] === "blocked" && e["exe"] === "/usr/bin/wget"), run.text("app")).toBe(true);
  // the task keeps serving after the blocked exec
  expect((await getLocal(port)).status).toBe(200);
  run.stop();
  const result = await run.result;
  expect(result.exitCode, run.text()).toBe(0);
  const by = Object.fromEntries(result.containers.map((c) => [c.name, c]));
  expect(by["vigil"]).toMatchObject({ exitCode: 0, reason: "exited by itself" });
  expect(by["app"]).toMatchObject({ exitCode: 0, reason: "stopped with the task" });
  expect(run.text("app")).toMatch(/signal 15 \(SIGTERM\) received.*exiting/);
  expect(await leftovers(run.runId)).toEqual([]);
}, 120_000);
