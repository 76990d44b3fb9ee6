// Every task definition and template under test/fixtures/ecs/ goes through protect, check,
// re-protect and unprotect with the expected report and diagnostics (see the README there).

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { parseImageConfig } from "../../src/protect/ecs/image-config-file.js";
import { checkEcs, protectEcs, unprotectEcs } from "../../src/protect/ecs/protect.js";
import type { DeliveryMode, ImageRunConfig } from "../../src/protect/ecs/types.js";

const dir = fileURLToPath(new URL("../fixtures/ecs/", import.meta.url));
const read = (name: string): string => readFileSync(join(dir, name), "utf8");
const config = (name: string): ImageRunConfig => {
  const parsed = parseImageConfig(read(`image-configs/${name}`));
  if (typeof parsed === "string") throw new Error(parsed);
  return parsed;
};

interface Case {
  file: string;
  images?: Record<string, string>;
  protected: string[];
  skipped?: string[];
  warnings?: RegExp[];
  errors?: RegExp[];
  /** unprotect restores the input byte for byte, except a describe output, which becomes the register form on purpose. */
  exact?: "bytes" | "value";
}

const cases: Case[] = [
  { file: "webserver-fargate.json", protected: ["webserver/fargate-app"] },
  {
    file: "firelens-nginx.json",
    images: { "public.ecr.aws/nginx/nginx:1.27": "nginx-docker-inspect.json" },
    protected: ["firelens-example-cloudwatch/app"],
    skipped: ["firelens-example-cloudwatch/log_router"],
  },
  {
    file: "appmesh-envoy-xray.json",
    images: { "123456789012.dkr.ecr.us-west-2.amazonaws.com/colorteller:v2": "colorteller-oci.json" },
    protected: ["colorteller/app"],
    skipped: ["colorteller/envoy", "colorteller/xray-daemon"],
  },
  { file: "datadog-agent.json", protected: ["datadog-fargate-app/api"], skipped: ["datadog-fargate-app/datadog-agent"] },
  {
    file: "describe-output.json",
    images: { wordpress: "wordpress.json", mysql: "mysql.json" },
    protected: ["hello_world/wordpress", "hello_world/mysql"],
    exact: "value",
  },
  {
    file: "terraform-container-definitions.json",
    images: { "ghcr.io/example/worker:1.4.2": "worker.json" },
    protected: ["containerDefinitions/worker"],
    warnings: [/copy mode needs a task volume named "vigil"/],
  },
  {
    file: "cloudformation-service.yaml",
    images: { "container:job": "job.json" },
    protected: ["WebTaskDefinition/web", "JobTaskDefinition/job"],
    skipped: ["WebTaskDefinition/xray"],
  },
  { file: "cloudformation-task.json", protected: ["TaskDefinition/orders"] },
  { file: "windows-iis.json", protected: [], errors: [/Windows tasks are not supported/, /is a Windows image/] },
];

describe.each(["copy", "volumes-from"] as DeliveryMode[])("corpus, %s mode", (mode) => {
  test.each(cases)("$file", (c) => {
    const input = read(c.file);
    const imageConfigs = new Map(Object.entries(c.images ?? {}).map(([k, v]) => [k, config(v)]));
    const options = { mode, sidecarImage: "123456789012.dkr.ecr.us-east-1.amazonaws.com/vigil-sidecar:0.1.0", imageConfigs };
    const result = protectEcs(input, options);
    const messages = (severity: string): string[] => result.diagnostics.filter((d) => d.severity === severity).map((d) => d.message);
    if (c.errors !== undefined) {
      expect(result.text).toBeNull();
      expect(messages("error")).toEqual(c.errors.map((re) => expect.stringMatching(re)));
      return;
    }
    expect(messages("error")).toEqual([]);
    expect(messages("warning")).toEqual(mode === "copy" ? (c.warnings ?? []).map((re) => expect.stringMatching(re)) : []);
    const out = result.text as string;
    const lines = (outcome: string): string[] => result.report.containers.filter((l) => l.outcome === outcome).map((l) => `${l.task}/${l.container}`);
    expect(lines("protected").sort()).toEqual([...c.protected].sort());
    expect(lines("skipped-agent").sort()).toEqual([...(c.skipped ?? [])].sort());

    expect(checkEcs(input).unprotected.length).toBeGreaterThan(0);
    expect(checkEcs(out).unprotected).toEqual([]);
    expect(protectEcs(out, { mode }).text).toBe(out);
    const restored = unprotectEcs(out).text as string;
    if (c.exact !== "value") {
      expect(restored).toBe(input);
      return;
    }
    const inputValue = JSON.parse(input) as Record<string, unknown>;
    expect(JSON.parse(restored)).toEqual(c.file === "describe-output.json" ? registerForm(inputValue) : inputValue);
    // From then on, byte for byte.
    expect(unprotectEcs(protectEcs(restored, options).text as string).text).toBe(restored);
  });
});

function registerForm(describe: Record<string, unknown>): Record<string, unknown> {
  const task = { ...(describe["taskDefinition"] as Record<string, unknown>) };
  for (const field of ["taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities", "registeredAt", "registeredBy"]) delete task[field];
  return { ...task, tags: describe["tags"] };
}
