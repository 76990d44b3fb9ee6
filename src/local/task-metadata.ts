// A minimal ECS task metadata endpoint v4 for `vigil local run`, so that what reads it on Fargate
// (the enforcer registering with the console: TaskARN, Name, Image) reads the same locally.
//
//   GET /v4/<run>-<container>        → the container's metadata (Name, DockerId, Image, …)
//   GET /v4/<run>-<container>/task   → the task's (TaskARN, Family, Revision, Containers, …)
//
// On Fargate the endpoint is at 169.254.170.2, inside the task's network; here it listens on
// 127.0.0.1 of this machine, which the task reaches only with --network host. Documents are built
// by pure functions; the server only answers GETs from what the run has recorded.

import http from "node:http";
import type { AddressInfo } from "node:net";
import type { ContainerPlan, TaskPlan } from "./plan.js";

export const METADATA_VARIABLE = "ECS_CONTAINER_METADATA_URI_V4";

/** What the run knows of a container once it is created. */
export interface ContainerFacts {
  dockerId: string;
  imageId: string;
  createdAt: string;
  startedAt: string | null;
  /** null while it runs. */
  exitCode: number | null;
}

/** The task's ARN as the metadata shows it: region "local", account 000000000000, cluster vigil-local. */
export function localTaskArn(plan: TaskPlan): string {
  return `arn:aws:ecs:local:000000000000:task/vigil-local/${plan.runId}`;
}

/** The path of a container's endpoint (what ECS_CONTAINER_METADATA_URI_V4 points at). */
export function metadataPath(plan: TaskPlan, container: string): string {
  return `/v4/${plan.runId}-${container}`;
}

export function containerMetadata(plan: TaskPlan, c: ContainerPlan, facts: ContainerFacts): Record<string, unknown> {
  const running = facts.exitCode === null && facts.startedAt !== null;
  const status = facts.exitCode !== null ? "STOPPED" : running ? "RUNNING" : "CREATED";
  return {
    DockerId: facts.dockerId,
    Name: c.name,
    DockerName: c.dockerName,
    Image: c.image,
    ImageID: facts.imageId,
    Labels: {
      "com.amazonaws.ecs.cluster": "vigil-local",
      "com.amazonaws.ecs.container-name": c.name,
      "com.amazonaws.ecs.task-arn": localTaskArn(plan),
      "com.amazonaws.ecs.task-definition-family": plan.family,
      "com.amazonaws.ecs.task-definition-version": revisionOf(plan),
    },
    DesiredStatus: "RUNNING",
    KnownStatus: status,
    ...(facts.exitCode === null ? {} : { ExitCode: facts.exitCode }),
    Limits: { CPU: c.definition.cpu ?? 0, ...(c.definition.memory === null ? {} : { Memory: c.definition.memory }) },
    CreatedAt: facts.createdAt,
    ...(facts.startedAt === null ? {} : { StartedAt: facts.startedAt }),
    Type: "NORMAL",
    ContainerARN: `arn:aws:ecs:local:000000000000:container/vigil-local/${plan.runId}/${c.name}`,
    Networks: [{ NetworkMode: "awsvpc", IPv4Addresses: ["127.0.0.1"] }],
  };
}

export function taskMetadata(plan: TaskPlan, facts: ReadonlyMap<string, ContainerFacts>): Record<string, unknown> {
  return {
    Cluster: "vigil-local",
    TaskARN: localTaskArn(plan),
    Family: plan.family,
    Revision: revisionOf(plan),
    DesiredStatus: "RUNNING",
    KnownStatus: "RUNNING",
    Containers: plan.containers.flatMap((c) => {
      const f = facts.get(c.name);
      return f === undefined ? [] : [containerMetadata(plan, c, f)];
    }),
    LaunchType: "FARGATE",
    AvailabilityZone: "local",
  };
}

/** The task definition's revision when the input says (a describe output), else "0". */
function revisionOf(plan: TaskPlan): string {
  return plan.revision ?? "0";
}

export interface MetadataServer {
  /** http://127.0.0.1:PORT */
  base: string;
  /** Records (or updates) what is known of a container. */
  record(container: string, facts: Partial<ContainerFacts> & { dockerId?: string }): void;
  close(): Promise<void>;
}

/** Serves the metadata of `plan`'s containers on 127.0.0.1 (an ephemeral port). */
export async function startMetadataServer(plan: TaskPlan): Promise<MetadataServer> {
  const facts = new Map<string, ContainerFacts>();
  const byPath = new Map(plan.containers.map((c) => [metadataPath(plan, c.name), c]));
  const server = http.createServer((req, res) => {
    const send = (status: number, body: unknown): void => {
      const text = JSON.stringify(body);
      res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text) }).end(text);
    };
    if (req.method !== "GET") return send(405, { error: "only GET" });
    const path = (req.url ?? "").split("?")[0] ?? "";
    const task = path.endsWith("/task");
    const c = byPath.get(task ? path.slice(0, -"/task".length) : path);
    const f = c === undefined ? undefined : facts.get(c.name);
    if (c === undefined || f === undefined) return send(404, { error: `no container at ${path}` });
    send(200, task ? taskMetadata(plan, facts) : containerMetadata(plan, c, f));
  });
  server.keepAliveTimeout = 1_000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  server.unref();
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    record: (container, update) => {
      const now = new Date().toISOString();
      const was = facts.get(container) ?? { dockerId: "", imageId: "", createdAt: now, startedAt: null, exitCode: null };
      facts.set(container, { ...was, ...update });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
