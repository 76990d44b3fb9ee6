// The local task metadata endpoint v4 (src/local/task-metadata.ts): the documents, the server on
// 127.0.0.1, and the variable each container gets.

import http from "node:http";
import { describe, expect, onTestFinished, test } from "vitest";
import { containerCreateBody, planTask, type TaskPlan } from "../../src/local/plan.js";
import { localTaskArn, METADATA_VARIABLE, metadataPath, startMetadataServer } from "../../src/local/task-metadata.js";
import { parseTaskDefinition } from "../../src/local/task-definition.js";

function plan(extra: Record<string, unknown> = {}, network: "none" | "host" = "host"): TaskPlan {
  const td = parseTaskDefinition({
    family: "shop",
    ...extra,
    containerDefinitions: [
      { name: "web", image: "registry.example/web:1", essential: true, memory: 256, environment: [{ name: "A", value: "1" }] },
      { name: "own", image: "own:1", essential: false, environment: [{ name: METADATA_VARIABLE, value: "http://mine" }] },
    ],
  });
  if (td.value === null) throw new Error(JSON.stringify(td.diagnostics.list));
  const planned = planTask({ taskDefinition: td.value, runId: "r1", network, envFiles: new Map(), extraEnvFiles: [], secrets: new Map(), volumeOverrides: new Map() });
  if (planned.plan === null) throw new Error(JSON.stringify(planned.diagnostics));
  return planned.plan;
}

function get(url: string, method = "GET"): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, timeout: 5_000 }, (res) => {
      let text = "";
      res.setEncoding("utf8").on("data", (c: string) => (text += c)).on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on("error", reject).end();
  });
}

describe("task metadata endpoint v4", () => {
  test("container and task documents, as the enforcer reads them (Name, Image, TaskARN)", async () => {
    const p = plan({ revision: 7 });
    const server = await startMetadataServer(p);
    onTestFinished(() => server.close());
    expect(server.base).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const base = `${server.base}${metadataPath(p, "web")}`;
    // Unknown until the container exists.
    expect(await get(base)).toMatchObject({ status: 404 });
    server.record("web", { dockerId: "d".repeat(64), imageId: "sha256:abc", createdAt: "2025-01-01T00:00:00.000Z" });
    server.record("web", { startedAt: "2025-01-01T00:00:01.000Z" });
    const container = await get(base);
    expect(container).toMatchObject({
      status: 200,
      body: { DockerId: "d".repeat(64), Name: "web", Image: "registry.example/web:1", ImageID: "sha256:abc", KnownStatus: "RUNNING", Limits: { Memory: 256 }, StartedAt: "2025-01-01T00:00:01.000Z" },
    });
    const task = await get(`${base}/task`);
    expect(task).toMatchObject({ status: 200, body: { TaskARN: "arn:aws:ecs:local:000000000000:task/vigil-local/r1", Family: "shop", Revision: "7", LaunchType: "FARGATE" } });
    expect((task.body as { Containers: { Name: string }[] }).Containers.map((c) => c.Name)).toEqual(["web"]);
    server.record("web", { exitCode: 0 });
    expect(await get(base)).toMatchObject({ body: { KnownStatus: "STOPPED", ExitCode: 0 } });
    expect(await get(`${server.base}/v4/r1-nobody`)).toMatchObject({ status: 404 });
    expect(await get(base, "POST")).toMatchObject({ status: 405 });
    expect(localTaskArn(p)).toBe("arn:aws:ecs:local:000000000000:task/vigil-local/r1");
  });

  test("without a revision in the input the task says 0", async () => {
    const p = plan();
    const server = await startMetadataServer(p);
    onTestFinished(() => server.close());
    server.record("web", { dockerId: "x" });
    expect(await get(`${server.base}${metadataPath(p, "web")}/task`)).toMatchObject({ body: { Revision: "0" } });
  });

  test("each container gets ECS_CONTAINER_METADATA_URI_V4, unless it sets its own", () => {
    const p = plan();
    const [web, own] = p.containers;
    if (web === undefined || own === undefined) throw new Error("two containers expected");
    const image = { Id: "sha256:abc" };
    const runtime = (name: string): string[] => [`${METADATA_VARIABLE}=http://127.0.0.1:9/v4/r1-${name}`];
    expect(containerCreateBody(p, web, image, runtime("web"))["Env"]).toEqual(["A=1", `${METADATA_VARIABLE}=http://127.0.0.1:9/v4/r1-web`]);
    expect(containerCreateBody(p, own, image, runtime("own"))["Env"]).toEqual([`${METADATA_VARIABLE}=http://mine`]);
    expect(containerCreateBody(p, web, image)["Env"]).toEqual(["A=1"]);
  });
});

describe("a console on this machine", () => {
  test("--network none warns that the task cannot reach it; --network host does not", () => {
    const td = parseTaskDefinition({ family: "f", containerDefinitions: [{ name: "app", image: "a", environment: [{ name: "VIGIL_CONSOLE", value: "https://localhost:8443" }] }] });
    if (td.value === null) throw new Error("bad task definition");
    const input = { taskDefinition: td.value, runId: "r", envFiles: new Map(), extraEnvFiles: [], secrets: new Map(), volumeOverrides: new Map() };
    const none = planTask({ ...input, network: "none" }).diagnostics.filter((d) => d.path.endsWith(".environment"));
    expect(none).toEqual([expect.objectContaining({ severity: "warning", path: "containerDefinitions[0].environment", message: expect.stringContaining("with --network none the task has its own loopback") })]);
    expect(planTask({ ...input, network: "host" }).diagnostics.filter((d) => d.path.endsWith(".environment"))).toEqual([]);
  });
});
