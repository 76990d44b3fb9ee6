import { describe, expect, test } from "vitest";
import { parseDocument } from "yaml";
import { unprotectEcs } from "../../src/protect/ecs/protect.js";
import { errors, ok, protect } from "./ecs-helpers.js";

const template = `# Service stack
AWSTemplateFormatVersion: "2010-09-09"
Parameters:
  Image: { Type: String }
Resources:
  Web: # the web tier
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: !Sub "\${AWS::StackName}-web"
      ContainerDefinitions:
        - Name: web
          Image: !Ref Image   # from the pipeline
          EntryPoint: [/docker-entrypoint.sh]
          Command:
            - nginx
            - -g
            - !Sub "daemon off; env \${AWS::Region};"
          Environment:
            - Name: DB
              Value: !ImportValue db-host
  Worker:
    Type: AWS::ECS::TaskDefinition
    Properties:
      ContainerDefinitions:
        - Name: worker
          Image: !Join [":", [!Ref Image, worker]]
  Queue:
    Type: AWS::SQS::Queue
`;

describe("CloudFormation", () => {
  test("every task definition, intrinsics and comments kept, only additions in the diff", () => {
    const out = ok(protect(template, { images: { "container:worker": { entrypoint: ["/w"], cmd: ["run"] } } }));
    expect(out).toContain("# Service stack\n");
    expect(out).toContain("  Web: # the web tier\n");
    expect(out).toContain("          Image: !Ref Image   # from the pipeline\n");
    expect(out).toContain('            - !Sub "daemon off; env ${AWS::Region};"\n');
    expect(out).toContain("              Value: !ImportValue db-host\n");
    expect(out).toContain('          Image: !Join [":", [!Ref Image, worker]]\n');
    expect(out).toContain("          EntryPoint: [/vigil/enforcer, --, /docker-entrypoint.sh]\n");
    // Only lines were added (plus the rewritten EntryPoint line).
    const before = template.split("\n");
    const removed = before.filter((line) => !out.split("\n").includes(line));
    expect(removed).toEqual(["          EntryPoint: [/docker-entrypoint.sh]"]);
    const js = parseDocument(out).toJS() as { Resources: Record<string, { Properties: { ContainerDefinitions: Record<string, unknown>[]; Volumes?: unknown } }> };
    const worker = js.Resources["Worker"]?.Properties.ContainerDefinitions[0];
    expect(worker?.["EntryPoint"]).toEqual(["/vigil/enforcer", "--", "/w"]);
    expect(worker?.["Command"]).toEqual(["run"]);
    expect(js.Resources["Worker"]?.Properties.Volumes).toEqual([{ Name: "vigil" }]);
    expect(ok(unprotectEcs(out))).toBe(template);
    expect(ok(protect(out))).toBe(out);
  });

  test("an image through an intrinsic without a config says what to pass", () => {
    const result = protect(template);
    expect(result.diagnostics).toEqual([
      {
        severity: "error",
        path: "Resources.Worker.Properties.ContainerDefinitions[0].Image",
        line: 26,
        col: 18,
        message: "is given through !Join, so vigil cannot read the image's ENTRYPOINT and CMD",
        hint: "pass --image-config worker=FILE (a JSON image config with Entrypoint and Cmd), or set EntryPoint and Command in the template",
      },
    ]);
  });

  test("an intrinsic where vigil must see a list is an error with a position", () => {
    const bad = `Resources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      ContainerDefinitions:\n        - Name: app\n          Image: a\n          Command: !Split [",", !Ref Cmd]\n          EntryPoint: [/a]\n`;
    expect(protect(bad).diagnostics[0]).toMatchObject({ path: "Resources.T.Properties.ContainerDefinitions[0].Command", line: 8, col: 20, message: expect.stringContaining("is given through !Split") });
    const conditional = `Resources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      ContainerDefinitions: !If [Prod, [], []]\n`;
    expect(errors(protect(conditional))).toEqual([expect.stringContaining("ContainerDefinitions: is given through !If")]);
  });

  test("JSON templates: Fn:: intrinsics kept", () => {
    const json = `${JSON.stringify(
      {
        Resources: {
          T: {
            Type: "AWS::ECS::TaskDefinition",
            Properties: {
              ContainerDefinitions: [{ Name: "app", Image: { "Fn::Sub": "${AWS::AccountId}.dkr.ecr.amazonaws.com/app" }, EntryPoint: ["/app"], Command: [{ "Fn::Join": ["", ["--region=", { Ref: "AWS::Region" }]] }] }],
            },
          },
        },
      },
      null,
      2,
    )}\n`;
    const out = ok(protect(json));
    const app = (JSON.parse(out) as { Resources: { T: { Properties: { ContainerDefinitions: Record<string, unknown>[] } } } }).Resources.T.Properties.ContainerDefinitions[0];
    expect(app?.["Image"]).toEqual({ "Fn::Sub": "${AWS::AccountId}.dkr.ecr.amazonaws.com/app" });
    expect(app?.["Command"]).toEqual([{ "Fn::Join": ["", ["--region=", { Ref: "AWS::Region" }]] }]);
    expect(app?.["EntryPoint"]).toEqual(["/vigil/enforcer", "--", "/app"]);
    expect(ok(unprotectEcs(out))).toBe(json);
  });

  test("--container naming containers of one task removes protection from the others, with a warning", () => {
    const all = ok(protect(template, { images: { "container:worker": { entrypoint: ["/w"], cmd: ["run"] } } }));
    const result = protect(all, { containers: ["web"] });
    expect(result.diagnostics).toEqual([expect.objectContaining({ severity: "warning", message: "Worker was protected and no container of it is selected now, so its protection was removed" })]);
    expect(result.text).not.toContain("/w\n");
  });

  test("a template without task definitions", () => {
    expect(errors(protect("Resources:\n  Q:\n    Type: AWS::SQS::Queue\n"))).toEqual(["Resources: the template has no AWS::ECS::TaskDefinition resource"]);
  });
});
