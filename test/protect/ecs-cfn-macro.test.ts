import { describe, expect, test } from "vitest";
import { createMacroHandler, type MacroEvent } from "../../src/protect/ecs/cfn-macro.js";
import type { ImagePlatform } from "../../src/protect/ecs/types.js";

const fragment = {
  AWSTemplateFormatVersion: "2010-09-09",
  Parameters: { AppImage: { Type: "String" } },
  Resources: {
    Task: {
      Type: "AWS::ECS::TaskDefinition",
      Properties: {
        Family: { "Fn::Sub": "${AWS::StackName}-app" },
        Memory: "512",
        RuntimePlatform: { CpuArchitecture: "ARM64", OperatingSystemFamily: "LINUX" },
        ContainerDefinitions: [
          { Name: "app", Image: { Ref: "AppImage" } },
          { Name: "router", Image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", FirelensConfiguration: { Type: "fluentbit" } },
        ],
      },
    },
  },
};

const event = (overrides: Partial<MacroEvent> = {}): MacroEvent => ({
  requestId: "req-1",
  region: "us-east-1",
  accountId: "123456789012",
  transformId: "123456789012::Vigil",
  fragment,
  params: { SidecarImage: "123456789012.dkr.ecr.us-east-1.amazonaws.com/vigil-sidecar:0.1.0" },
  templateParameterValues: { AppImage: "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:7" },
  ...overrides,
});

describe("CloudFormation macro", () => {
  test("protects the template, reading a Ref'd image through the resolver with the task's platform", async () => {
    const asked: [string, ImagePlatform][] = [];
    const handler = createMacroHandler({
      env: {},
      resolver: async (ref, platform) => {
        asked.push([ref, platform]);
        return { entrypoint: ["/app/server"], cmd: ["--port", "80"] };
      },
    });
    const response = await handler(event());
    expect(response.status).toBe("success");
    expect(asked).toEqual([["123456789012.dkr.ecr.us-east-1.amazonaws.com/app:7", { os: "linux", architecture: "arm64" }]]);
    const out = response.fragment as typeof fragment & { Resources: { Task: { Properties: { ContainerDefinitions: Record<string, unknown>[]; Volumes: unknown } } } };
    const [app, router, sidecar] = out.Resources.Task.Properties.ContainerDefinitions;
    expect(app).toMatchObject({ Image: { Ref: "AppImage" }, EntryPoint: ["/vigil/enforcer", "--", "/app/server"], Command: ["--port", "80"] });
    expect(router).toEqual(fragment.Resources.Task.Properties.ContainerDefinitions[1]);
    expect(sidecar).toMatchObject({ Name: "vigil", Essential: false });
    expect(out.Resources.Task.Properties.Volumes).toEqual([{ Name: "vigil" }]);
    expect(out.Parameters).toEqual(fragment.Parameters);
  });

  test("options from the function's environment; the policy is compiled", async () => {
    const handler = createMacroHandler({
      env: { VIGIL_SIDECAR_IMAGE: "sidecar:1", VIGIL_MODE: "volumes-from", VIGIL_POLICY: "apiVersion: vigil/v1\nkind: Policy\nspec:\n  exec:\n    deny: [/usr/bin/nc]\n" },
      resolver: null,
    });
    const response = await handler(event({ params: {}, templateParameterValues: {}, fragment: { Resources: { T: { Type: "AWS::ECS::TaskDefinition", Properties: { ContainerDefinitions: [{ Name: "a", Image: "a", EntryPoint: ["/a"] }] } } } } }));
    expect(response.status).toBe("success");
    const app = (response.fragment as { Resources: { T: { Properties: { ContainerDefinitions: Record<string, unknown>[] } } } }).Resources.T.Properties.ContainerDefinitions[0];
    expect(app?.["VolumesFrom"]).toEqual([{ SourceContainer: "vigil", ReadOnly: true }]);
    expect((app?.["Environment"] as { Name: string; Value: string }[]).find((e) => e.Name === "VIGIL_POLICY")?.Value).toMatch(/^vigil-policy 1\n/);
  });

  test("failures name the field and what to do", async () => {
    const handler = createMacroHandler({ env: {}, resolver: null });
    const response = await handler(event({ templateParameterValues: {} }));
    expect(response).toEqual({
      requestId: "req-1",
      status: "failure",
      errorMessage:
        "vigil: Resources.Task.Properties.ContainerDefinitions[0].Image: is given through Ref, so vigil cannot read the image's ENTRYPOINT and CMD (give the image as a literal or a template parameter, or set EntryPoint and Command in the template)",
    });
    expect((await handler(event({ params: { Mode: "inline" } }))).errorMessage).toBe('vigil: Mode must be copy or volumes-from; received "inline"');
  });
});
