// Properties over generated task definitions: unprotect(protect(x)) == x (byte for byte),
// protect(protect(x)) == protect(x), and every protected container runs the original argv behind
// the enforcer.

import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { stringify } from "yaml";
import { effectiveArgv } from "../../src/protect/ecs/docker-argv.js";
import { protectEcs, unprotectEcs } from "../../src/protect/ecs/protect.js";
import type { ImageRunConfig } from "../../src/protect/ecs/types.js";
import type { Json } from "./ecs-helpers.js";

const arg = fc.oneof(
  fc.constantFrom("nginx", "-g", "daemon off;", "--port=8080", "", " ", "a b", "$HOME", "'quoted'", '"dq"', "ümlaut", "a,b", "\\", "#not-a-comment", "- dash"),
  fc.string({ maxLength: 8 }),
);
const argList = fc.array(arg, { minLength: 1, maxLength: 4 });
const blank: fc.Arbitrary<string[]> = fc.constant([""]).map((x) => [...x]);
const maybeList = fc.option(fc.oneof(argList, blank, fc.constant([] as string[])), { nil: undefined });

const imageConfig: fc.Arbitrary<ImageRunConfig> = fc.record({
  entrypoint: fc.option(fc.oneof(argList, blank), { nil: null }),
  cmd: fc.option(argList, { nil: null }),
});

const container = fc.record(
  {
    image: fc.constantFrom("app:1", "app:2", "registry.example/team/worker@sha256:0123"),
    essential: fc.option(fc.boolean(), { nil: undefined }),
    entryPoint: maybeList,
    command: maybeList,
    environment: fc.option(fc.array(fc.record({ name: fc.constantFrom("A", "B", "PATH"), value: fc.string({ maxLength: 5 }) }), { maxLength: 2 }), { nil: undefined }),
    linuxParameters: fc.option(
      fc.record(
        {
          initProcessEnabled: fc.boolean(),
          capabilities: fc.record({ add: fc.subarray(["NET_ADMIN", "SYS_PTRACE", "CHOWN"]), drop: fc.subarray(["NET_RAW", "ALL"]) }, { requiredKeys: [] }),
        },
        { requiredKeys: [] },
      ),
      { nil: undefined },
    ),
    mountPoints: fc.option(fc.constant([{ sourceVolume: "data", containerPath: "/data", readOnly: false }]), { nil: undefined }),
    volumesFrom: fc.option(fc.constant([] as Json[]), { nil: undefined }),
    dependsOn: fc.option(fc.constant([{ containerName: "c0", condition: "START" }]), { nil: undefined }),
    secrets: fc.option(fc.constant([{ name: "TOKEN", valueFrom: "arn:aws:secretsmanager:us-east-1:1:secret:t" }] as Json[]), { nil: undefined }),
    dockerLabels: fc.option(fc.dictionary(fc.constantFrom("team", "app"), fc.string({ maxLength: 4 })), { nil: undefined }),
  },
  { requiredKeys: ["image"] },
);

const taskDefinition = fc.record({
  containers: fc.array(container, { minLength: 1, maxLength: 4 }),
  volumes: fc.option(fc.constant([{ name: "data" }] as Json[]), { nil: undefined }),
  arm: fc.boolean(),
  images: fc.record({ "app:1": imageConfig, "app:2": imageConfig, "registry.example/team/worker@sha256:0123": imageConfig }),
  mode: fc.constantFrom("copy" as const, "volumes-from" as const),
  policy: fc.constantFrom<{ policy?: string; policySecret?: string }>({}, { policy: "vigil-policy 1\nmode enforce\n" }, { policySecret: "arn:aws:ssm:us-east-1:1:parameter/p" }),
  indent: fc.constantFrom(2, 4),
  cloudFormation: fc.boolean(),
});

type Generated = typeof taskDefinition extends fc.Arbitrary<infer T> ? T : never;

function render(g: Generated): { text: string; containers: Record<string, Json>[] } {
  const containers = g.containers.map((c, i) => {
    const out: Record<string, Json> = { name: `c${i}` };
    for (const [k, v] of Object.entries(c)) if (v !== undefined) out[k] = v as Json;
    return out;
  });
  const task: Record<string, Json> = {
    family: "generated",
    ...(g.arm ? { runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" } } : {}),
    containerDefinitions: containers,
    ...(g.volumes === undefined ? {} : { volumes: g.volumes }),
  };
  if (!g.cloudFormation) return { text: `${JSON.stringify(task, null, g.indent)}\n`, containers };
  const pascal = (value: Json, labels = false): Json => {
    if (Array.isArray(value)) return value.map((v) => pascal(v));
    if (value === null || typeof value !== "object") return value;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [labels ? k : k.charAt(0).toUpperCase() + k.slice(1), pascal(v, k === "dockerLabels")]));
  };
  const template = { AWSTemplateFormatVersion: "2010-09-09", Resources: { Task: { Type: "AWS::ECS::TaskDefinition", Properties: pascal(task) } } };
  return { text: stringify(template, { indent: g.indent, lineWidth: 0 }), containers };
}

describe("properties of protect/unprotect on generated task definitions", () => {
  test("unprotect(protect(x)) == x, protect(protect(x)) == protect(x), argv kept", () => {
    let protectedCount = 0;
    fc.assert(
      fc.property(taskDefinition, (g) => {
        const { text, containers } = render(g);
        const options = {
          mode: g.mode,
          sidecarImage: "registry.example/vigil/sidecar:1",
          imageConfigs: new Map(Object.entries(g.images)),
          ...g.policy,
        };
        const once = protectEcs(text, options);
        if (once.text === null) {
          // Only the documented refusals: nothing to protect, ambiguous [] entry point, no command.
          for (const d of once.diagnostics.filter((x) => x.severity === "error")) {
            expect(d.message).toMatch(/no container to protect|is an empty list|has no command/);
          }
          return;
        }
        protectedCount++;
        expect(unprotectEcs(once.text).text).toBe(text);
        expect(protectEcs(once.text, { ...options, imageConfigs: new Map() }).text).toBe(once.text);
        if (!g.cloudFormation) {
          const after = (JSON.parse(once.text) as { containerDefinitions: Record<string, Json>[] }).containerDefinitions;
          for (const line of once.report.containers.filter((c) => c.outcome === "protected")) {
            const original = containers.find((c) => c["name"] === line.container) as Record<string, Json>;
            const image = g.images[original["image"] as keyof typeof g.images];
            const now = after.find((c) => c["name"] === line.container) as Record<string, Json>;
            const asList = (v: Json | undefined): string[] | null => (v === undefined ? null : (v as string[]));
            expect(effectiveArgv(asList(now["entryPoint"]), asList(now["command"]), image)).toEqual([
              "/vigil/enforcer",
              "--",
              ...effectiveArgv(asList(original["entryPoint"]), asList(original["command"]), image),
            ]);
          }
        }
      }),
      { numRuns: 300, seed: 20261204 },
    );
    expect(protectedCount).toBeGreaterThan(100);
  });
});
