import { describe, expect, test } from "vitest";
import { argvSources, effectiveArgv, fieldState } from "../../src/protect/ecs/docker-argv.js";
import { knownAgent, repositoryPath } from "../../src/protect/ecs/agents.js";
import { parseImageConfig } from "../../src/protect/ecs/image-config-file.js";
import { checkEcs, planImageLookups, protectEcs, unprotectEcs } from "../../src/protect/ecs/protect.js";
import type { ImageRunConfig } from "../../src/protect/ecs/types.js";
import { argvOf, containerOf, errors, type Json, ok, protect, SIDECAR, taskJson } from "./ecs-helpers.js";

const ENFORCER = ["/vigil/enforcer", "--"];

describe("Docker's argv rules", () => {
  const image: ImageRunConfig = { entrypoint: ["/docker-entrypoint.sh"], cmd: ["nginx", "-g", "daemon off;"] };
  test.each([
    ["neither set: image ENTRYPOINT + image CMD", null, null, ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]],
    ["command only: image ENTRYPOINT + command", null, ["nginx", "-T"], ["/docker-entrypoint.sh", "nginx", "-T"]],
    ["entryPoint only: the image CMD is dropped", ["/bin/sh"], null, ["/bin/sh"]],
    ["both set", ["/bin/sh", "-c"], ["echo hi"], ["/bin/sh", "-c", "echo hi"]],
    ['entryPoint [""] drops the image ENTRYPOINT and CMD', [""], null, []],
    ['entryPoint [""] with command: the command alone', [""], ["nginx"], ["nginx"]],
    ["command [] counts as unset", null, [], ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]],
  ] as const)("%s", (_name, ep, cmd, expected) => {
    expect(effectiveArgv(ep, cmd, image)).toEqual(expected);
  });

  test("field states and sources", () => {
    expect([fieldState(null), fieldState([]), fieldState([""]), fieldState(["a"])]).toEqual(["absent", "empty", "blank", "set"]);
    expect(argvSources("absent", "absent")).toEqual({ entrypoint: "image", command: "image" });
    expect(argvSources("absent", "set")).toEqual({ entrypoint: "image", command: "task" });
    expect(argvSources("set", "absent")).toEqual({ entrypoint: "task", command: "none" });
    expect(argvSources("blank", "absent")).toEqual({ entrypoint: "none", command: "none" });
  });

  // For every combination, the protected container runs exactly [enforcer, --, ...original argv].
  const images: ImageRunConfig[] = [
    { entrypoint: ["/docker-entrypoint.sh"], cmd: ["nginx", "-g", "daemon off;"] },
    { entrypoint: null, cmd: ["httpd-foreground"] },
    { entrypoint: ["/app"], cmd: null },
    { entrypoint: ["/bin/sh", "-c", "exec nginx -g 'daemon off;'"], cmd: ["ignored?"] },
    { entrypoint: [""], cmd: ["python3"] },
  ];
  const entryPoints: (string[] | null)[] = [null, ["/bin/sh", "-c"], [""], ["tini", "--"]];
  const commands: (string[] | null)[] = [null, [], ["nginx", "-g", "daemon off;"], [""]];
  for (const [i, image] of images.entries()) {
    for (const ep of entryPoints) {
      for (const cmd of commands) {
        const before = effectiveArgv(ep, cmd, image);
        if (before.length === 0) continue;
        test(`argv kept: image ${i}, entryPoint ${JSON.stringify(ep)}, command ${JSON.stringify(cmd)}`, () => {
          const container: Record<string, Json> = { name: "app", image: "app:1" };
          if (ep !== null) container["entryPoint"] = ep;
          if (cmd !== null) container["command"] = cmd;
          const input = taskJson([container]);
          const text = ok(protect(input, { images: { "app:1": image } }));
          // The image config is still what the runtime merges with the protected definition.
          expect(argvOf(containerOf(text, "app"), image)).toEqual([...ENFORCER, ...before]);
          expect(ok(unprotectEcs(text))).toBe(input);
        });
      }
    }
  }

  test("a container that would run nothing is an error, as Docker refuses it", () => {
    const result = protect(taskJson([{ name: "app", image: "app:1", entryPoint: [""] }]));
    expect(errors(result)).toEqual([expect.stringContaining('containerDefinitions[0]: has no command')]);
  });

  test("entryPoint [] is rejected as ambiguous", () => {
    const result = protect(taskJson([{ name: "app", image: "app:1", entryPoint: [], command: ["x"] }]));
    expect(errors(result)).toEqual([expect.stringContaining("containerDefinitions[0].entryPoint: is an empty list")]);
  });

  test("a command given as one string says how to write it", () => {
    const result = protect(taskJson([{ name: "app", image: "app:1", command: "nginx -g daemon off;" }]));
    expect(result.diagnostics[0]).toMatchObject({
      path: "containerDefinitions[0].command",
      message: 'must be a list of strings, one per argument; received "nginx -g daemon off;"',
    });
  });
});

describe("the rewrite", () => {
  test('keeps "-g", "daemon off;" as two arguments, in JSON and YAML', () => {
    const json = ok(protect(taskJson([{ name: "app", image: "nginx", entryPoint: ["/docker-entrypoint.sh"], command: ["nginx", "-g", "daemon off;"] }])));
    expect(containerOf(json, "app")["entryPoint"]).toEqual([...ENFORCER, "/docker-entrypoint.sh"]);
    expect(containerOf(json, "app")["command"]).toEqual(["nginx", "-g", "daemon off;"]);
    const yaml = `Resources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      ContainerDefinitions:\n        - Name: app\n          Image: nginx\n          EntryPoint: [/docker-entrypoint.sh]\n          Command: [nginx, -g, "daemon off;"]\n`;
    const out = ok(protect(yaml));
    expect(out).toContain('          Command: [nginx, -g, "daemon off;"]\n');
    expect(out).toContain("          EntryPoint: [/vigil/enforcer, --, /docker-entrypoint.sh]\n");
  });

  test("adds SYS_PTRACE and touches nothing else in linuxParameters", () => {
    const linuxParameters = { initProcessEnabled: true, capabilities: { add: ["NET_ADMIN"], drop: ["ALL"] }, tmpfs: [{ containerPath: "/tmp", size: 64 }] };
    const text = ok(protect(taskJson([{ name: "app", image: "a", entryPoint: ["/a"], linuxParameters }])));
    expect(containerOf(text, "app")["linuxParameters"]).toEqual({ ...linuxParameters, capabilities: { add: ["NET_ADMIN", "SYS_PTRACE"], drop: ["ALL"] } });
  });

  test("does not add SYS_PTRACE twice", () => {
    const input = taskJson([{ name: "app", image: "a", entryPoint: ["/a"], linuxParameters: { capabilities: { add: ["SYS_PTRACE"] } } }]);
    const text = ok(protect(input));
    expect(containerOf(text, "app")["linuxParameters"]).toEqual({ capabilities: { add: ["SYS_PTRACE"] } });
    expect(ok(unprotectEcs(text))).toBe(input);
  });

  test("copy mode: task volume, init sidecar, read-only mount, dependsOn SUCCESS", () => {
    const text = ok(protect(taskJson([{ name: "app", image: "a", entryPoint: ["/a"] }])));
    const doc = JSON.parse(text) as { volumes: Json; containerDefinitions: Record<string, Json>[] };
    expect(doc.volumes).toEqual([{ name: "vigil" }]);
    expect(containerOf(text, "vigil")).toMatchObject({
      image: SIDECAR,
      essential: false,
      entryPoint: ["/vigil/enforcer", "--noop"],
      mountPoints: [{ sourceVolume: "vigil", containerPath: "/vigil", readOnly: false }],
    });
    expect(containerOf(text, "app")).toMatchObject({
      mountPoints: [{ sourceVolume: "vigil", containerPath: "/vigil", readOnly: true }],
      dependsOn: [{ containerName: "vigil", condition: "SUCCESS" }],
      environment: [{ name: "VIGIL_WORKLOAD", value: "web/app" }],
    });
    expect(containerOf(text, "app")["volumesFrom"]).toBeUndefined();
  });

  test("volumes-from mode: sidecar volume shared read-only, no task volume", () => {
    const text = ok(protect(taskJson([{ name: "app", image: "a", entryPoint: ["/a"], volumesFrom: [{ sourceContainer: "data" }] }, { name: "data", image: "d", essential: false }]), { mode: "volumes-from" }));
    expect((JSON.parse(text) as Record<string, Json>)["volumes"]).toBeUndefined();
    expect(containerOf(text, "app")["volumesFrom"]).toEqual([{ sourceContainer: "data" }, { sourceContainer: "vigil", readOnly: true }]);
    expect(containerOf(text, "vigil")["mountPoints"]).toBeUndefined();
  });

  test("passes the compiled policy inline and the workload name", () => {
    const text = ok(protect(taskJson([{ name: "app", image: "a", entryPoint: ["/a"], environment: [{ name: "A", value: "1" }] }]), { policy: "vigil-policy 1\nmode enforce\n" }));
    expect(containerOf(text, "app")["environment"]).toEqual([
      { name: "A", value: "1" },
      { name: "VIGIL_WORKLOAD", value: "web/app" },
      { name: "VIGIL_POLICY", value: "vigil-policy 1\nmode enforce\n" },
    ]);
  });

  test("the policy from SSM or Secrets Manager through secrets; unprotect and re-protect exact", () => {
    const arn = "arn:aws:ssm:us-east-1:123456789012:parameter/vigil/web-policy";
    const input = taskJson([{ name: "app", image: "a", entryPoint: ["/a"], secrets: [{ name: "DB_PASSWORD", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db" }] }], { executionRoleArn: "arn:aws:iam::123456789012:role/exec" });
    const result = protect(input, { policySecret: arn });
    const text = ok(result);
    expect(result.diagnostics).toEqual([]);
    expect(containerOf(text, "app")["secrets"]).toEqual([
      { name: "DB_PASSWORD", valueFrom: "arn:aws:secretsmanager:us-east-1:123456789012:secret:db" },
      { name: "VIGIL_POLICY", valueFrom: arn },
    ]);
    expect(containerOf(text, "app")["environment"]).toEqual([{ name: "VIGIL_WORKLOAD", value: "web/app" }]);
    expect(ok(unprotectEcs(text))).toBe(input);
    expect(ok(protect(text, { policySecret: arn }))).toBe(text);
    // Without an execution role ECS cannot read the parameter: a warning says so.
    const noRole = protect(taskJson([{ name: "app", image: "a", entryPoint: ["/a"] }]), { policySecret: arn });
    expect(noRole.diagnostics).toEqual([expect.objectContaining({ severity: "warning", path: "executionRoleArn" })]);
    expect(ok(unprotectEcs(ok(noRole)))).toBe(taskJson([{ name: "app", image: "a", entryPoint: ["/a"] }]));
    // A secret VIGIL_POLICY of the user's own conflicts.
    const own = protect(taskJson([{ name: "app", image: "a", entryPoint: ["/a"], secrets: [{ name: "VIGIL_POLICY", valueFrom: "x" }] }]), { policy: "vigil-policy 1\n" });
    expect(errors(own)).toEqual([expect.stringContaining("containerDefinitions[0].secrets[0]: already sets VIGIL_POLICY")]);
  });

  test("a user's own VIGIL_WORKLOAD is kept; a VIGIL_POLICY conflicting with --policy is an error", () => {
    const text = ok(protect(taskJson([{ name: "app", image: "a", entryPoint: ["/a"], environment: [{ name: "VIGIL_WORKLOAD", value: "mine" }] }])));
    expect(containerOf(text, "app")["environment"]).toEqual([{ name: "VIGIL_WORKLOAD", value: "mine" }]);
    const result = protect(taskJson([{ name: "app", image: "a", entryPoint: ["/a"], environment: [{ name: "VIGIL_POLICY", value: "x" }] }]), { policy: "vigil-policy 1\n" });
    expect(errors(result)).toEqual([expect.stringContaining("already sets VIGIL_POLICY")]);
  });

  test("EC2 task without task memory: the sidecar gets a memory limit", () => {
    const text = ok(protect(`${JSON.stringify({ family: "f", containerDefinitions: [{ name: "app", image: "a", memory: 256, entryPoint: ["/a"] }] })}\n`));
    expect(containerOf(text, "vigil")["memory"]).toBe(32);
  });
});

describe("null counts as unset (ECS console exports)", () => {
  const image: ImageRunConfig = { entrypoint: ["/docker-entrypoint.sh"], cmd: ["nginx", "-g", "daemon off;"] };
  const nulls = {
    name: "web",
    image: "nginx:1",
    entryPoint: null,
    command: null,
    linuxParameters: { initProcessEnabled: true, capabilities: null },
    environment: null,
    secrets: null,
    mountPoints: null,
    volumesFrom: null,
    dependsOn: null,
    dockerLabels: null,
  };

  test.each(["copy", "volumes-from"] as const)("every null field protect needs is filled in place, recorded, and null again after unprotect (%s)", (mode) => {
    const input = taskJson([nulls], { volumes: null });
    const result = protect(input, { mode, images: { "nginx:1": image }, policySecret: "arn:aws:ssm:us-east-1:1:parameter/p" });
    const out = ok(result);
    const web = containerOf(out, "web");
    expect(argvOf(web, image)).toEqual([...ENFORCER, "/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]);
    expect(web["linuxParameters"]).toEqual({ initProcessEnabled: true, capabilities: { add: ["SYS_PTRACE"] } });
    expect(Object.keys(web)).toEqual(Object.keys(nulls)); // filled where they were, nothing appended
    const record = JSON.parse((web["dockerLabels"] as Record<string, string>)["vigil.protect"] as string) as Record<string, unknown>;
    expect(record["created"]).toEqual(["add"]);
    expect(record["null"]).toEqual(["entryPoint", "command", "capabilities", mode === "copy" ? "mountPoints" : "volumesFrom", "dependsOn", "environment", "secrets", "dockerLabels"]);
    // The field the mode does not use stays null.
    expect(web[mode === "copy" ? "volumesFrom" : "mountPoints"]).toBeNull();
    expect(unprotectEcs(out).text).toBe(input);
    expect(protectEcs(out, { policySecret: "arn:aws:ssm:us-east-1:1:parameter/p" }).text).toBe(out);
  });

  test("a task-level volumes: null gets vigil's volume and null back", () => {
    const input = taskJson([{ name: "web", image: "nginx:1", command: ["nginx"] }], { volumes: null });
    const out = ok(protect(input, { mode: "copy", images: { "nginx:1": image } }));
    expect((JSON.parse(out) as { volumes: Json }).volumes).toEqual([{ name: "vigil" }]);
    expect(out).toContain('\\"volumes\\":\\"null\\"');
    expect(unprotectEcs(out).text).toBe(input);
  });

  test("a value that is neither null nor literal is still refused", () => {
    const result = protect(taskJson([{ name: "web", image: "nginx:1", command: ["nginx"], dockerLabels: "team=a" }]), { images: { "nginx:1": image } });
    expect(errors(result)).toEqual(["containerDefinitions[0].dockerLabels: is given through an unexpected value; vigil adds entries to it and needs it literal"]);
  });

  test("the read-only fields of a console export are removed and reported, as for a describe output", () => {
    const input = taskJson([{ name: "web", image: "nginx:1", command: ["nginx"] }], { taskDefinitionArn: "arn:aws:ecs:us-east-1:1:task-definition/web:3", revision: 3, status: "ACTIVE", compatibilities: ["EC2", "FARGATE"] });
    const result = protect(input, { images: { "nginx:1": image } });
    expect(result.report.kind).toBe("register");
    expect(result.report.removedReadOnly).toEqual(["taskDefinitionArn", "revision", "status", "compatibilities"]);
    const value = JSON.parse(ok(result)) as Record<string, Json>;
    for (const field of ["taskDefinitionArn", "revision", "status", "compatibilities"]) expect(value).not.toHaveProperty(field);
    // unprotect does not bring them back (they cannot be registered): the input less those lines.
    const expected = input.replace(/^ {2}"(?:taskDefinitionArn|revision|status)": [^\n]*\n/gm, "").replace(/^ {2}"compatibilities": \[\n(?: {4}.*\n)* {2}\],\n/m, "");
    expect(unprotectEcs(ok(result)).text).toBe(expected);
    expect(protect(taskJson([{ name: "web", image: "nginx:1", command: ["nginx"] }]), { images: { "nginx:1": image } }).report).not.toHaveProperty("removedReadOnly");
  });
});

describe("which containers", () => {
  const input = taskJson(
    [
      { name: "app", image: "a", entryPoint: ["/a"] },
      { name: "log_router", image: "public.ecr.aws/aws-observability/aws-for-fluent-bit:stable", firelensConfiguration: { type: "fluentbit" } },
      { name: "envoy", image: "840364872350.dkr.ecr.us-west-2.amazonaws.com/aws-appmesh-envoy:v1.27.3.0-prod" },
      { name: "datadog-agent", image: "public.ecr.aws/datadog/agent:7" },
      { name: "cwagent", image: "public.ecr.aws/cloudwatch-agent/cloudwatch-agent:latest" },
      { name: "xray", image: "amazon/aws-xray-daemon" },
      { name: "migrate", image: "a", essential: false, command: ["migrate"] },
    ],
  );

  test("essential application containers by default; agents and non-essential ones listed", () => {
    const result = protect(input);
    ok(result);
    expect(result.report.containers).toEqual([
      { task: "web", container: "log_router", outcome: "skipped-agent", agent: "FireLens log router (Fluent Bit / Fluentd)" },
      { task: "web", container: "envoy", outcome: "skipped-agent", agent: "Envoy / App Mesh proxy" },
      { task: "web", container: "datadog-agent", outcome: "skipped-agent", agent: "Datadog agent" },
      { task: "web", container: "cwagent", outcome: "skipped-agent", agent: "CloudWatch agent" },
      { task: "web", container: "xray", outcome: "skipped-agent", agent: "AWS X-Ray daemon" },
      { task: "web", container: "migrate", outcome: "skipped-not-essential" },
      { task: "web", container: "app", outcome: "protected" },
      { task: "web", container: "vigil", outcome: "sidecar", mode: "copy" },
    ]);
  });

  test('"firelensConfiguration": null (console JSON exports) does not make a container the FireLens router', () => {
    const result = protect(taskJson([{ name: "app", image: "a", entryPoint: ["/a"], firelensConfiguration: null }]));
    ok(result);
    expect(result.report.containers.filter((c) => c.container === "app")).toEqual([{ task: "web", container: "app", outcome: "protected" }]);
  });

  test("--container chooses exactly, agents included", () => {
    const result = protect(input, { containers: ["migrate"], images: { a: { entrypoint: ["/a"], cmd: null } } });
    const text = ok(result);
    expect(containerOf(text, "migrate")["entryPoint"]).toEqual([...ENFORCER, "/a"]);
    expect(containerOf(text, "app")["entryPoint"]).toEqual(["/a"]);
    expect(errors(protect(input, { containers: ["nope"] }))).toEqual([": --container nope: no container of that name"]);
  });

  test("agent detection by repository and, for intrinsic images, by name", () => {
    expect(repositoryPath("123.dkr.ecr.us-east-1.amazonaws.com/team/app:1.2@sha256:abc")).toBe("team/app");
    expect(repositoryPath("localhost:5000/envoyproxy/envoy:v1")).toBe("envoyproxy/envoy");
    expect(knownAgent("gcr.io/datadoghq/agent:7", "dd", false)).toBe("Datadog agent");
    expect(knownAgent("my/app", "envoy", false)).toBeNull();
    expect(knownAgent(null, "envoy", false)).toBe("Envoy / App Mesh proxy");
    expect(knownAgent("my/app", "app", true)).toBe("FireLens log router (Fluent Bit / Fluentd)");
  });

  test("nothing to protect is an error that says how to choose", () => {
    const result = protect(taskJson([{ name: "envoy", image: "envoyproxy/envoy:v1.30" }]));
    expect(result.diagnostics).toEqual([expect.objectContaining({ message: expect.stringContaining("no container to protect"), hint: "name the containers to protect with --container NAME" })]);
  });
});

describe("safe by construction", () => {
  const input = taskJson([{ name: "app", image: "nginx:1", command: ["nginx", "-g", "daemon off;"], linuxParameters: { initProcessEnabled: true } }]);
  const images = { "nginx:1": { entrypoint: ["/docker-entrypoint.sh"], cmd: ["nginx", "-g", "daemon off;"] } };

  test("protecting twice gives the same bytes, without asking for the image again", () => {
    const once = ok(protect(input, { images, policy: "vigil-policy 1\n" }));
    expect(ok(protect(once, { policy: "vigil-policy 1\n" }))).toBe(once);
  });

  test("a new sidecar image changes only that line", () => {
    const once = ok(protect(input, { images }));
    const upgraded = ok(protect(once, { sidecarImage: "registry.example/vigil/sidecar:0.2.0" }));
    const changed = upgraded.split("\n").filter((line, i) => line !== once.split("\n")[i]);
    expect(changed).toEqual(['      "image": "registry.example/vigil/sidecar:0.2.0",']);
  });

  test("switching mode re-applies cleanly and unprotect still restores the original", () => {
    const copy = ok(protect(input, { images }));
    const volumesFrom = ok(protect(copy, { mode: "volumes-from" }));
    expect(containerOf(volumesFrom, "app")["volumesFrom"]).toEqual([{ sourceContainer: "vigil", readOnly: true }]);
    expect(ok(unprotectEcs(volumesFrom))).toBe(input);
    // Without --mode, a protected task keeps its mode.
    expect(ok(protect(volumesFrom, {}))).toBe(volumesFrom);
  });

  test("a policy dropped on re-protect is reported", () => {
    const withPolicy = ok(protect(input, { images, policy: "vigil-policy 1\n" }));
    const result = protect(withPolicy, {});
    expect(result.diagnostics).toEqual([expect.objectContaining({ severity: "warning", message: expect.stringContaining("had a policy") })]);
  });

  test("--check: exit-worthy findings for unprotected containers only", () => {
    expect(checkEcs(input).unprotected).toEqual([{ task: "web", container: "app" }]);
    expect(checkEcs(ok(protect(input, { images }))).unprotected).toEqual([]);
  });

  test("a hand-edited protected entry point is reported, not silently undone", () => {
    const text = ok(protect(input, { images })).replace('"/vigil/enforcer",', '"/other",');
    expect(errors(unprotectEcs(text))).toEqual([expect.stringContaining("was changed after vigil protect")]);
  });

  test("planImageLookups asks only for what is needed, with the task's platform", () => {
    const arm = taskJson(
      [
        { name: "a", image: "img:1" },
        { name: "b", image: "img:1", command: ["x"] },
        { name: "c", image: "other:2", entryPoint: ["/c"] },
      ],
      { runtimePlatform: { cpuArchitecture: "ARM64", operatingSystemFamily: "LINUX" } },
    );
    expect(planImageLookups(arm, {})).toEqual([{ key: "img:1", image: "img:1", platform: { os: "linux", architecture: "arm64" }, containers: ["web/a", "web/b"] }]);
    expect(planImageLookups(ok(protect(arm, { images: { "img:1": { entrypoint: ["/e"], cmd: null } } })), {})).toEqual([]);
  });
});

describe("validation", () => {
  test("Windows tasks and images", () => {
    const result = protect(taskJson([{ name: "app", image: "mcr.microsoft.com/windows/servercore/iis", entryPoint: ["powershell"] }], { runtimePlatform: { operatingSystemFamily: "WINDOWS_SERVER_2022_CORE" } }));
    expect(errors(result)).toEqual([
      "runtimePlatform.operatingSystemFamily: is WINDOWS_SERVER_2022_CORE: Windows tasks are not supported",
      'containerDefinitions[0].image: "mcr.microsoft.com/windows/servercore/iis" is a Windows image: Windows containers are not supported',
    ]);
    expect(errors(protect(taskJson([{ name: "app", image: "x" }]), { images: { x: { entrypoint: ["/x"], cmd: null, os: "windows" } } }))).toEqual([
      "containerDefinitions[0].image: is a Windows image: Windows containers are not supported",
    ]);
  });

  test("a container or volume already named vigil", () => {
    expect(errors(protect(taskJson([{ name: "app", image: "a", entryPoint: ["/a"] }, { name: "vigil", image: "mine", essential: false }])))).toEqual([
      'containerDefinitions[1].name: a container named "vigil" exists and is not vigil\'s sidecar',
    ]);
    expect(errors(protect(taskJson([{ name: "app", image: "a", entryPoint: ["/a"] }], { volumes: [{ name: "vigil" }] })))).toEqual([
      'volumes[0]: a volume named "vigil" exists and was not added by vigil',
    ]);
  });

  test("pidMode", () => {
    const task = (pidMode: string): string => taskJson([{ name: "app", image: "a", entryPoint: ["/a"] }], { pidMode });
    expect(errors(protect(task("host")))).toEqual([expect.stringMatching(/^pidMode: is "host"/)]);
    expect(errors(protect(task("task")))).toEqual([expect.stringMatching(/^pidMode: is "task"/)]);
    const allowed = protect(task("task"), { allowSharedPid: true });
    expect(allowed.text).not.toBeNull();
    expect(allowed.diagnostics.map((d) => d.severity)).toEqual(["warning"]);
  });

  test("the container limit", () => {
    const ten = Array.from({ length: 10 }, (_, i) => ({ name: `c${i}`, image: "a", entryPoint: ["/a"] }));
    expect(errors(protect(taskJson(ten)))).toEqual([expect.stringContaining("the task would have 11 containers; ECS allows at most 10")]);
  });

  test("the size limit", () => {
    const containers = Array.from({ length: 5 }, (_, i) => ({ name: `c${i}`, image: "a", entryPoint: ["/a"] }));
    const result = protect(taskJson(containers), { policy: `vigil-policy 1\n${"# padding\n".repeat(1500)}` });
    expect(result.text).toBeNull();
    expect(errors(result)).toEqual([expect.stringMatching(/^: the protected task definition is \d+ bytes of JSON; ECS accepts at most 65536$/)]);
  });

  test("a mount at /vigil", () => {
    const result = protect(taskJson([{ name: "app", image: "a", entryPoint: ["/a"], mountPoints: [{ sourceVolume: "x", containerPath: "/vigil" }] }], { volumes: [{ name: "x" }] }));
    expect(errors(result)).toEqual(["containerDefinitions[0].mountPoints[0]: mounts a volume at /vigil, where vigil mounts the enforcer"]);
  });

  test("a missing image config names the image, the platform and what to pass", () => {
    const result = protect(taskJson([{ name: "app", image: "nginx:1.27" }]));
    expect(result.diagnostics).toEqual([
      {
        severity: "error",
        path: "containerDefinitions[0].image",
        message: "the task definition does not set entryPoint, so the image's ENTRYPOINT and CMD is needed and was not read (linux/amd64)",
        hint: "pass --image-config nginx:1.27=FILE (a JSON image config with Entrypoint and Cmd), or set entryPoint and command in the task definition",
      },
    ]);
  });

  test("no sidecar image", () => {
    const result = protectEcs(taskJson([{ name: "app", image: "a", entryPoint: ["/a"] }]), {});
    expect(result.diagnostics[0]?.message).toBe("web: which sidecar image? none was given and the task has no vigil sidecar yet");
  });

  test("errors are collected, not stopped at the first", () => {
    const result = protect(taskJson([{ name: "a", image: "x", command: "one string" }, { name: "b", image: "y" }], { pidMode: "host" }));
    expect(errors(result)).toHaveLength(3);
  });
});

describe("formats", () => {
  test("one-line JSON (Terraform's jsonencode) stays on one line and round-trips", () => {
    const input = JSON.stringify([{ name: "app", image: "a", entryPoint: ["/a"], essential: true }]);
    const out = ok(protect(input, { mode: "volumes-from" }));
    expect(out.includes("\n")).toBe(false);
    expect(ok(unprotectEcs(out))).toBe(input);
  });

  test("tab-indented JSON keeps its tabs", () => {
    const input = `${JSON.stringify({ family: "f", memory: "512", containerDefinitions: [{ name: "app", image: "a", entryPoint: ["/a"] }] }, null, "\t")}\n`;
    const out = ok(protect(input));
    expect(out).toContain('\t\t\t"entryPoint": [\n\t\t\t\t"/vigil/enforcer",');
    expect(ok(unprotectEcs(out))).toBe(input);
  });
});

describe("describe-task-definition output", () => {
  test("read-only fields go, tags stay", () => {
    const describe = JSON.stringify({
      taskDefinition: {
        taskDefinitionArn: "arn:aws:ecs:us-east-1:1:task-definition/web:3",
        family: "web",
        revision: 3,
        status: "ACTIVE",
        compatibilities: ["EC2", "FARGATE"],
        requiresAttributes: [{ name: "x" }],
        registeredAt: "2024-01-01T00:00:00Z",
        registeredBy: "arn:aws:iam::1:user/a",
        memory: "512",
        containerDefinitions: [{ name: "app", image: "a", entryPoint: ["/a"] }],
      },
      tags: [{ key: "team", value: "web" }],
    });
    const out = JSON.parse(ok(protect(describe))) as Record<string, Json>;
    expect(Object.keys(out)).toEqual(["family", "memory", "containerDefinitions", "tags", "volumes"]);
    expect(out["tags"]).toEqual([{ key: "team", value: "web" }]);
  });
});

describe("image config files", () => {
  test("the shapes people have at hand", () => {
    expect(parseImageConfig('{"Entrypoint":["/e"],"Cmd":null}')).toEqual({ entrypoint: ["/e"], cmd: null });
    expect(parseImageConfig('{"os":"linux","config":{"Cmd":["c"]}}')).toEqual({ entrypoint: null, cmd: ["c"], os: "linux" });
    expect(parseImageConfig('[{"Os":"linux","Config":{"Entrypoint":["/e"],"Cmd":["c"]}}]')).toEqual({ entrypoint: ["/e"], cmd: ["c"], os: "linux" });
    expect(parseImageConfig('{"entrypoint":null,"cmd":["c"]}')).toEqual({ entrypoint: null, cmd: ["c"] });
    expect(parseImageConfig('{"Cmd":"nginx -g"}')).toBe("Entrypoint and Cmd must be lists of strings or null");
    expect(parseImageConfig("{}")).toMatch(/^has neither Entrypoint nor Cmd/);
  });
});
