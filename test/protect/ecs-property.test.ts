// Properties over generated task definitions: unprotect(protect(x)) == x (byte for byte),
// protect(protect(x)) == protect(x), and every protected container runs the original argv behind
// the enforcer. The JSON is written in generated layouts (indent, `"key":value` or `"key": value`,
// trailing spaces after `{`/`[`, empty collections written across lines, one line) and fields are
// absent or `null` (ECS console exports write `null` for every unset field).

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
/** Absent, `null` (unset, as console exports write it) or a value. */
const unset = <T>(value: fc.Arbitrary<T>): fc.Arbitrary<T | null | undefined> => fc.oneof(fc.constant(undefined), fc.constant(null), value);
const maybeList = unset(fc.oneof(argList, blank, fc.constant([] as string[])));

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
    environment: unset(fc.array(fc.record({ name: fc.constantFrom("A", "B", "PATH"), value: fc.string({ maxLength: 5 }) }), { maxLength: 2 })),
    linuxParameters: unset(
      fc.record(
        {
          initProcessEnabled: fc.boolean(),
          capabilities: unset(fc.record({ add: unset(fc.subarray(["NET_ADMIN", "SYS_PTRACE", "CHOWN"])), drop: fc.subarray(["NET_RAW", "ALL"]) }, { requiredKeys: [] })),
        },
        { requiredKeys: [] },
      ),
    ),
    mountPoints: unset(fc.constant([{ sourceVolume: "data", containerPath: "/data", readOnly: false }])),
    volumesFrom: unset(fc.constant([] as Json[])),
    dependsOn: unset(fc.constant([{ containerName: "c0", condition: "START" }])),
    secrets: unset(fc.constant([{ name: "TOKEN", valueFrom: "arn:aws:secretsmanager:us-east-1:1:secret:t" }] as Json[])),
    dockerLabels: unset(fc.dictionary(fc.constantFrom("team", "app"), fc.string({ maxLength: 4 }))),
  },
  { requiredKeys: ["image"] },
);

const taskDefinition = fc.record({
  containers: fc.array(container, { minLength: 1, maxLength: 4 }),
  volumes: unset(fc.constant([{ name: "data" }] as Json[])),
  arm: fc.boolean(),
  images: fc.record({ "app:1": imageConfig, "app:2": imageConfig, "registry.example/team/worker@sha256:0123": imageConfig }),
  mode: fc.constantFrom("copy" as const, "volumes-from" as const),
  policy: fc.constantFrom<{ policy?: string; policySecret?: string }>({}, { policy: "vigil-policy 1\nmode enforce\n" }, { policySecret: "arn:aws:ssm:us-east-1:1:parameter/p" }),
  indent: fc.constantFrom(2, 4),
  layout: fc.record({
    indent: fc.constantFrom<string | null>("  ", "   ", "\t", null),
    colon: fc.constantFrom(": ", ":", " : "),
    afterOpen: fc.constantFrom("", "  "),
    comma: fc.constantFrom(",", ", "),
    empty: fc.constantFrom("", " ", "newline", "blank-line"),
    finalNewline: fc.boolean(),
  }),
  cloudFormation: fc.boolean(),
});

type Layout = { indent: string | null; colon: string; afterOpen: string; comma: string; empty: string; finalNewline: boolean };

/** JSON in a given layout (the layouts of real files: see test/fixtures/ecs/real-world/). */
function printLayout(value: Json, layout: Layout, level = 0): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const [open, close] = Array.isArray(value) ? ["[", "]"] : ["{", "}"];
  const entries = Array.isArray(value)
    ? value.map((v) => printLayout(v, layout, level + 1))
    : Object.entries(value)
        .filter(([, v]) => v !== undefined)
        .map(([k, v]) => `${JSON.stringify(k)}${layout.colon}${printLayout(v, layout, level + 1)}`);
  const at = (n: number): string => (layout.indent ?? "").repeat(n);
  if (entries.length === 0) {
    if (layout.indent === null) return `${open}${close}`;
    const inside = { "": "", " ": " ", newline: `\n${at(level)}`, "blank-line": `  \n\n${at(level)}` }[layout.empty];
    return `${open}${inside}${close}`;
  }
  if (layout.indent === null) return `${open}${entries.join(layout.comma)}${close}`;
  return `${open}${layout.afterOpen}\n${at(level + 1)}${entries.join(`,\n${at(level + 1)}`)}\n${at(level)}${close}`;
}

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
  if (!g.cloudFormation) return { text: `${printLayout(task, g.layout)}${g.layout.finalNewline ? "\n" : ""}`, containers };
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
            const asList = (v: Json | undefined): string[] | null => (v === undefined || v === null ? null : (v as string[]));
            expect(effectiveArgv(asList(now["entryPoint"]), asList(now["command"]), image)).toEqual([
              "/vigil/enforcer",
              "--",
              ...effectiveArgv(asList(original["entryPoint"]), asList(original["command"]), image),
            ]);
          }
        }
      }),
      { numRuns: 500, seed: 20261204 },
    );
    expect(protectedCount).toBeGreaterThan(150);
  });
});
