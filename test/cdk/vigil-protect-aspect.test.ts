// The CDK Aspect: synthesize a stack with Fargate task definitions and check the template.

import { App, Aspects, Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { ContainerImage, FargateTaskDefinition, CpuArchitecture, OperatingSystemFamily } from "aws-cdk-lib/aws-ecs";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { VigilProtect } from "../../src/cdk/vigil-protect-aspect.js";

// Synthesis writes a cloud assembly; without an outdir CDK leaves a cdk.outXXXX folder in the
// system temp dir for every App.
const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs) rmSync(dir, { recursive: true, force: true });
});

function stack(): { app: App; stack: Stack } {
  const outdir = mkdtempSync(join(tmpdir(), "vigil-cdk-"));
  outdirs.push(outdir);
  const app = new App({ outdir });
  const s = new Stack(app, "Web");
  const web = new FargateTaskDefinition(s, "WebTask", {
    cpu: 256,
    memoryLimitMiB: 512,
    runtimePlatform: { cpuArchitecture: CpuArchitecture.ARM64, operatingSystemFamily: OperatingSystemFamily.LINUX },
  });
  web.addContainer("web", {
    image: ContainerImage.fromRegistry("public.ecr.aws/nginx/nginx:1.27"),
    command: ["nginx", "-g", "daemon off;"],
    linuxParameters: undefined,
  });
  web.addFirelensLogRouter("router", { image: ContainerImage.fromRegistry("public.ecr.aws/aws-observability/aws-for-fluent-bit:stable"), firelensConfig: { type: "fluentbit" as never } });
  const job = new FargateTaskDefinition(s, "JobTask");
  job.addContainer("job", { image: ContainerImage.fromRegistry("worker:1"), entryPoint: ["/job"], command: ["--once"] });
  return { app, stack: s };
}

describe("VigilProtect aspect", () => {
  test("protects every task definition in the stack", () => {
    const { stack: s } = stack();
    Aspects.of(s).add(
      new VigilProtect({
        sidecarImage: "123456789012.dkr.ecr.us-east-1.amazonaws.com/vigil-sidecar:0.1.0",
        imageConfigs: { "public.ecr.aws/nginx/nginx:1.27": { entrypoint: ["/docker-entrypoint.sh"], cmd: ["nginx", "-g", "daemon off;"] } },
        policy: "apiVersion: vigil/v1\nkind: Policy\nspec:\n  exec:\n    deny: [/usr/bin/nc]\n",
      }),
    );
    const template = Template.fromStack(s);
    const defs = template.findResources("AWS::ECS::TaskDefinition");
    const byName = (containers: Record<string, unknown>[], name: string): Record<string, unknown> | undefined => containers.find((c) => c["Name"] === name);
    const [webId, jobId] = Object.keys(defs).sort((a, b) => (a.startsWith("Job") ? 1 : -1) - (b.startsWith("Job") ? 1 : -1));
    const web = defs[webId as string]?.Properties as { ContainerDefinitions: Record<string, unknown>[]; Volumes: unknown };
    expect(byName(web.ContainerDefinitions, "web")).toMatchObject({
      EntryPoint: ["/vigil/enforcer", "--", "/docker-entrypoint.sh"],
      Command: ["nginx", "-g", "daemon off;"],
      LinuxParameters: { Capabilities: { Add: ["SYS_PTRACE"] } },
      MountPoints: [{ SourceVolume: "vigil", ContainerPath: "/vigil", ReadOnly: true }],
      DependsOn: expect.arrayContaining([{ ContainerName: "vigil", Condition: "SUCCESS" }]),
    });
    const env = byName(web.ContainerDefinitions, "web")?.["Environment"] as { Name: string; Value: string }[];
    expect(env.find((e) => e.Name === "VIGIL_POLICY")?.Value).toMatch(/^vigil-policy 1\n/);
    expect(byName(web.ContainerDefinitions, "router")?.["EntryPoint"]).toBeUndefined();
    expect(byName(web.ContainerDefinitions, "vigil")).toMatchObject({ Essential: false, Image: "123456789012.dkr.ecr.us-east-1.amazonaws.com/vigil-sidecar:0.1.0" });
    expect(web.Volumes).toEqual([{ Name: "vigil" }]);
    const job = defs[jobId as string]?.Properties as { ContainerDefinitions: Record<string, unknown>[] };
    expect(byName(job.ContainerDefinitions, "job")).toMatchObject({ EntryPoint: ["/vigil/enforcer", "--", "/job"], Command: ["--once"] });
  });

  test("problems become synth errors on the task definition", () => {
    const { stack: s } = stack();
    Aspects.of(s).add(new VigilProtect({ sidecarImage: "sidecar:1" }));
    const errors = Annotations.fromStack(s).findError("*", Match.stringLikeRegexp("vigil: "));
    expect(errors.map((e) => e.entry.data)).toEqual([
      expect.stringContaining("ContainerDefinitions[0].Image: the task definition does not set EntryPoint, so the image's ENTRYPOINT is needed and was not read (linux/arm64)"),
    ]);
  });

  test("a policy that does not compile is refused at construction", () => {
    expect(() => new VigilProtect({ sidecarImage: "s", policy: "apiVersion: vigil/v1\nkind: Policy\nspec:\n  exec:\n    alow: []\n" })).toThrow(/the policy does not compile/);
  });
  test("enrolls with the console: VIGIL_CONSOLE in the environment, the token through secrets", () => {
    const { stack: s } = stack();
    const tokenSecret = "arn:aws:ssm:us-east-1:123456789012:parameter/vigil/enrollment-token";
    Aspects.of(s).add(
      new VigilProtect({
        sidecarImage: "123456789012.dkr.ecr.us-east-1.amazonaws.com/vigil-sidecar:0.1.0",
        containers: ["job"],
        console: { url: "https://vigil.example.internal", tokenSecret },
      }),
    );
    const defs = Template.fromStack(s).findResources("AWS::ECS::TaskDefinition");
    const job = Object.values(defs)
      .flatMap((d) => (d.Properties as { ContainerDefinitions: Record<string, unknown>[] }).ContainerDefinitions)
      .find((c) => c["Name"] === "job");
    expect(job).toMatchObject({
      Environment: expect.arrayContaining([{ Name: "VIGIL_CONSOLE", Value: "https://vigil.example.internal" }]),
      Secrets: expect.arrayContaining([{ Name: "VIGIL_TOKEN", ValueFrom: tokenSecret }]),
    });
    expect(JSON.stringify(job)).not.toContain("vgt_");
  });

  test("a console URL the enforcer would refuse fails the synthesis with the reason", () => {
    const { stack: s } = stack();
    Aspects.of(s).add(new VigilProtect({ sidecarImage: "sidecar:1", containers: ["job"], console: { url: "https://10.0.0.5", tokenSecret: "arn:aws:ssm:us-east-1:1:parameter/t" } }));
    const errors = Annotations.fromStack(s).findError("*", Match.stringLikeRegexp("DNS name"));
    expect(errors.length).toBeGreaterThan(0);
  });
});
