// Pure parts of vigil local run: the multiplexed stream, environment files, planning.

import { describe, expect, it } from "vitest";
import { StreamDemuxer } from "../../src/local/docker-stream.js";
import { dockerEndpoint } from "../../src/local/docker-host.js";
import { mergeEnvironment, parseEnvFile } from "../../src/local/env-file.js";
import { containerCreateBody, planTask, type PlanInput } from "../../src/local/plan.js";
import { parseTaskDefinition } from "../../src/local/task-definition.js";

const frame = (stream: number, text: string): Buffer => {
  const data = Buffer.from(text);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(data.length, 4);
  return Buffer.concat([h, data]);
};

describe("multiplexed stream", () => {
  it("reassembles frames split anywhere", () => {
    const all = Buffer.concat([frame(1, "out\n"), frame(2, "err\n"), frame(1, "more")]);
    for (let cut = 0; cut <= all.length; cut++) {
      const d = new StreamDemuxer();
      const frames = [...d.push(all.subarray(0, cut)), ...d.push(all.subarray(cut))];
      expect(frames.map((f) => `${f.stream}:${f.data.toString()}`)).toEqual(["stdout:out\n", "stderr:err\n", "stdout:more"]);
      expect(d.leftover).toBe(0);
    }
  });
});

describe("DOCKER_HOST", () => {
  it("unix, tcp and the default", () => {
    expect(dockerEndpoint(undefined)).toEqual({ kind: "unix", socketPath: "/var/run/docker.sock" });
    expect(dockerEndpoint("unix:///run/d.sock")).toEqual({ kind: "unix", socketPath: "/run/d.sock" });
    expect(dockerEndpoint("tcp://127.0.0.1:2375")).toEqual({ kind: "tcp", host: "127.0.0.1", port: 2375 });
    expect(() => dockerEndpoint("ssh://x")).toThrow(/only unix/);
  });
});

describe("environment files", () => {
  it("VARIABLE=VALUE lines, comments, no quote processing; environment wins, the first file wins, secrets win", () => {
    expect(parseEnvFile("# c\nA=1\n\nB=\"q\" x=y\nbad line\n")).toEqual({
      vars: [["A", "1"], ["B", '"q" x=y']],
      problems: [{ line: 5, message: 'expected VARIABLE=VALUE; received "bad line"' }],
    });
    expect(mergeEnvironment([{ name: "B", value: "env" }], [[["A", "f1"], ["B", "f1"]], [["A", "f2"], ["C", "f2"]]], [{ name: "S", value: "s" }])).toEqual([
      "A=f1", "B=env", "C=f2", "S=s",
    ]);
  });
});

function plan(td: unknown, extra: Partial<PlanInput> = {}) {
  const parsed = parseTaskDefinition(td);
  if (parsed.value === null) throw new Error("parse");
  return planTask({ taskDefinition: parsed.value, runId: "r1", network: "none", envFiles: new Map(), extraEnvFiles: [], secrets: new Map(), volumeOverrides: new Map(), ...extra });
}

describe("planning", () => {
  it("rejects what ECS rejects, all at once", () => {
    const { plan: p, diagnostics } = plan({
      containerDefinitions: [
        { name: "a", image: "x", dependsOn: [{ containerName: "b", condition: "SUCCESS" }] },
        { name: "b", image: "x", dependsOn: [{ containerName: "a", condition: "HEALTHY" }], volumesFrom: [{ sourceContainer: "nope" }] },
      ],
      volumes: [{ name: "efs", efsVolumeConfiguration: { fileSystemId: "fs-1" } }],
    });
    expect(p).toBeNull();
    expect(diagnostics.filter((d) => d.severity === "error").map((d) => `${d.path}: ${d.message}`)).toEqual([
      "volumes[0].efsVolumeConfiguration: this storage cannot be mounted locally",
      'containerDefinitions[0].dependsOn[0].condition: SUCCESS cannot be used on an essential container ("b")',
      'containerDefinitions[1].dependsOn[0].condition: HEALTHY needs a healthCheck on "a"',
      'containerDefinitions[1].volumesFrom[0].sourceContainer: no container named "nope" in this task',
      "containerDefinitions: dependency cycle: a -> b -> a (dependsOn and volumesFrom)",
    ]);
  });

  it("an EFS volume runs with --volume NAME=DIR", () => {
    const { plan: p } = plan(
      { containerDefinitions: [{ name: "a", image: "x", mountPoints: [{ sourceVolume: "efs", containerPath: "/d" }] }], volumes: [{ name: "efs", efsVolumeConfiguration: { fileSystemId: "fs-1" } }] },
      { volumeOverrides: new Map([["efs", "/srv/efs"]]) },
    );
    expect(p?.volumes).toEqual([{ name: "efs", dockerName: null, hostPath: "/srv/efs" }]);
  });

  it("create body: entryPoint/command as Docker merges them, the shared namespace, read-only volumesFrom, copy-up only at image VOLUMEs", () => {
    const { plan: p } = plan({
      family: "web",
      pidMode: "task",
      volumes: [{ name: "data" }],
      containerDefinitions: [
        { name: "vigil", image: "sidecar", essential: false },
        {
          name: "app",
          image: "nginx",
          entryPoint: ["/vigil/enforcer", "--", "/docker-entrypoint.sh"],
          command: ["nginx", "-g", "daemon off;"],
          volumesFrom: [{ sourceContainer: "vigil", readOnly: true }],
          mountPoints: [{ sourceVolume: "data", containerPath: "/var/cache" }, { sourceVolume: "data", containerPath: "/other", readOnly: true }],
          linuxParameters: { capabilities: { add: ["SYS_PTRACE"], drop: ["NET_RAW"] }, initProcessEnabled: true },
          user: "101:101",
          ulimits: [{ name: "nofile", softLimit: 1024, hardLimit: 2048 }],
        },
      ],
    });
    if (p === null) throw new Error("plan");
    const app = p.containers[1];
    if (app === undefined) throw new Error("app");
    const body = containerCreateBody(p, app, { Id: "sha256:1", Config: { Volumes: { "/var/cache": {} } } });
    expect(body).toMatchObject({
      Image: "nginx",
      Entrypoint: ["/vigil/enforcer", "--", "/docker-entrypoint.sh"],
      Cmd: ["nginx", "-g", "daemon off;"],
      User: "101:101",
      HostConfig: {
        NetworkMode: "container:vigil-web-r1-pause",
        PidMode: "container:vigil-web-r1-pause",
        VolumesFrom: ["vigil-web-r1-vigil:ro"],
        CapAdd: ["SYS_PTRACE"],
        CapDrop: ["NET_RAW"],
        Init: true,
        Ulimits: [{ Name: "nofile", Soft: 1024, Hard: 2048 }],
        Mounts: [
          { Type: "volume", Source: "vigil-web-r1-vol-data", Target: "/var/cache", ReadOnly: false, VolumeOptions: { NoCopy: false } },
          { Type: "volume", Source: "vigil-web-r1-vol-data", Target: "/other", ReadOnly: true, VolumeOptions: { NoCopy: true } },
        ],
      },
    });
    // no task command: the image's ENTRYPOINT and CMD are Docker's (and ECS's) to merge
    const side = p.containers[0];
    if (side === undefined) throw new Error("side");
    const sideBody = containerCreateBody(p, side, { Id: "sha256:2" });
    expect(sideBody["Entrypoint"]).toBeUndefined();
    expect(sideBody["Cmd"]).toBeUndefined();
  });
});
