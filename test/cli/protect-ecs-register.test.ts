// vigil protect ecs --from FAMILY[:REV] --register through the AWS SDK against a local endpoint
// speaking the ECS JSON protocol.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { startFakeEcs, type FakeEcs } from "../helpers/fake-ecs.js";
import { run } from "./helpers.js";

const fixtures = fileURLToPath(new URL("../fixtures/ecs/", import.meta.url));
const webserver = JSON.parse(readFileSync(join(fixtures, "webserver-fargate.json"), "utf8")) as Record<string, unknown>;
const SIDECAR = ["--sidecar-image", "registry.example/vigil/sidecar:0.1.0", "--offline"];

let ecs: FakeEcs;
let env: Record<string, string>;

beforeEach(async () => {
  ecs = await startFakeEcs();
  ecs.families.set("webserver", [webserver]);
  ecs.tags.set("webserver", [{ key: "team", value: "web" }]);
  env = { AWS_ACCESS_KEY_ID: "AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY: "secret", AWS_REGION: "us-east-1", AWS_ENDPOINT_URL_ECS: ecs.url, AWS_CONFIG_FILE: "/nonexistent", AWS_SHARED_CREDENTIALS_FILE: "/nonexistent" };
});

afterEach(async () => {
  await ecs.close();
});

describe("vigil protect ecs --from", () => {
  test("reads the latest revision and prints the protected register form", async () => {
    const result = await run(["protect", "ecs", "--from", "webserver", ...SIDECAR], { env });
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(out["taskDefinitionArn"]).toBeUndefined();
    expect(out["revision"]).toBeUndefined();
    expect(out["tags"]).toEqual([{ key: "team", value: "web" }]);
    expect((out["containerDefinitions"] as { entryPoint?: string[] }[])[0]?.entryPoint).toEqual(["/vigil/enforcer", "--", "sh", "-c"]);
    expect(ecs.requests).toHaveLength(1);
    expect(ecs.requests[0]).toMatchObject({
      target: "AmazonEC2ContainerServiceV20141113.DescribeTaskDefinition",
      contentType: "application/x-amz-json-1.1",
      body: { taskDefinition: "webserver", include: ["TAGS"] },
    });
    expect(ecs.requests[0]?.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/ecs\/aws4_request/);
  });

  test("--register registers the protected revision; protecting that again registers the same definition", async () => {
    const first = await run(["protect", "ecs", "--from", "webserver:1", "--register", ...SIDECAR], { env });
    expect(first).toMatchObject({ code: 0, stdout: "arn:aws:ecs:us-east-1:123456789012:task-definition/webserver:2\n" });
    expect(first.stderr).toContain("vigil: registered arn:aws:ecs:us-east-1:123456789012:task-definition/webserver:2\n");
    const registered = ecs.families.get("webserver")?.[1] as Record<string, unknown>;
    const app = (registered["containerDefinitions"] as Record<string, unknown>[])[0];
    expect(app?.["entryPoint"]).toEqual(["/vigil/enforcer", "--", "sh", "-c"]);
    expect(app?.["linuxParameters"]).toEqual({ capabilities: { add: ["SYS_PTRACE"] } });
    expect(ecs.tags.get("webserver")).toEqual([{ key: "team", value: "web" }]);

    const second = await run(["protect", "ecs", "--from", "webserver", "--register", "--offline"], { env });
    expect(second.stdout).toBe("arn:aws:ecs:us-east-1:123456789012:task-definition/webserver:3\n");
    expect(ecs.families.get("webserver")?.[2]).toEqual(registered);
    expect(ecs.requests.map((r) => r.target.split(".")[1])).toEqual(["DescribeTaskDefinition", "RegisterTaskDefinition", "DescribeTaskDefinition", "RegisterTaskDefinition"]);
  });

  test("--check on a registered revision", async () => {
    expect((await run(["protect", "ecs", "--from", "webserver", "--check"], { env })).code).toBe(1);
    await run(["protect", "ecs", "--from", "webserver", "--register", ...SIDECAR], { env });
    expect((await run(["protect", "ecs", "--from", "webserver", "--check"], { env })).code).toBe(0);
  });

  test("ECS errors are user errors that say what failed", async () => {
    const result = await run(["protect", "ecs", "--from", "nope:3", ...SIDECAR], { env });
    expect(result.code).toBe(2);
    expect(result.stderr).toBe(
      "vigil: error: describe-task-definition nope:3: ClientException: Unable to describe task definition.\ncheck the task definition name, the region and your AWS credentials\n",
    );
    const noRegion = await run(["protect", "ecs", "--from", "webserver", ...SIDECAR], { env: { ...env, AWS_REGION: "", AWS_DEFAULT_REGION: "" } });
    expect(noRegion.stderr).toContain("no AWS region: pass --region or set AWS_REGION");
  });

  test("usage", async () => {
    expect((await run(["protect", "ecs", "task.json", "--register"])).stderr).toContain("--register needs --from");
    expect((await run(["protect", "ecs", "task.json", "--from", "x"])).stderr).toContain("give INPUT or --from, not both");
  });
});
