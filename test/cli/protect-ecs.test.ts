import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, test } from "vitest";
import { freshDir, run } from "./helpers.js";

const fixtures = fileURLToPath(new URL("../fixtures/ecs/", import.meta.url));
const policies = fileURLToPath(new URL("../fixtures/policies/", import.meta.url));
const SIDECAR = ["--sidecar-image", "registry.example/vigil/sidecar:0.1.0"];
const firelens = readFileSync(join(fixtures, "firelens-nginx.json"), "utf8");
const nginxConfig = `public.ecr.aws/nginx/nginx:1.27=${join(fixtures, "image-configs/nginx-docker-inspect.json")}`;

describe("vigil protect ecs", () => {
  test("reads stdin, writes stdout, reports what it did on stderr", async () => {
    const result = await run(["protect", "ecs", "-", ...SIDECAR, "--offline", "--image-config", nginxConfig], { stdin: firelens });
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout) as { containerDefinitions: { name: string; entryPoint?: string[]; command?: string[] }[] };
    expect(out.containerDefinitions.find((c) => c.name === "app")).toMatchObject({ entryPoint: ["/vigil/enforcer", "--", "/docker-entrypoint.sh"], command: ["nginx", "-g", "daemon off;"] });
    expect(result.stderr).toBe(
      "vigil: protected firelens-example-cloudwatch/app (copy mode)\nvigil: left alone (known agents): firelens-example-cloudwatch/log_router (FireLens log router (Fluent Bit / Fluentd))\n",
    );
  });

  test("-o writes the file atomically; protect again and unprotect round-trip", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "task.json"), firelens);
    expect((await run(["protect", "ecs", "task.json", "-o", "task.json", ...SIDECAR, "--offline", "--image-config", nginxConfig], { cwd: dir })).code).toBe(0);
    const once = readFileSync(join(dir, "task.json"), "utf8");
    expect(once).toContain('"/vigil/enforcer"');
    expect((await run(["protect", "ecs", "task.json", "-o", "task.json", "--offline"], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(dir, "task.json"), "utf8")).toBe(once);
    expect(await run(["unprotect", "ecs", "task.json", "-o", "plain.json"], { cwd: dir })).toEqual({ code: 0, stdout: "", stderr: "vigil: unprotected firelens-example-cloudwatch/app\n" });
    expect(readFileSync(join(dir, "plain.json"), "utf8")).toBe(firelens);
    expect(readdirSync(dir).sort()).toEqual(["plain.json", "task.json"]);
  });

  test("errors: every one with file, path and hint; exit 2; nothing written", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "task.json"), firelens);
    const result = await run(["protect", "ecs", "task.json", "-o", "out.json", ...SIDECAR, "--offline"], { cwd: dir });
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: [
        "vigil: error: task.json: containerDefinitions[1].image: the task definition does not set entryPoint, so the image's ENTRYPOINT is needed and was not read (linux/amd64)",
        "  pass --image-config public.ecr.aws/nginx/nginx:1.27=FILE (a JSON image config with Entrypoint and Cmd), or set entryPoint and command in the task definition",
        "vigil: protect ecs: 1 error; nothing was written",
        "",
      ].join("\n"),
    });
    expect(existsSync(join(dir, "out.json"))).toBe(false);
  });

  test("YAML errors carry line and column", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "t.yaml"), "Resources:\n  T:\n    Type: AWS::ECS::TaskDefinition\n    Properties:\n      ContainerDefinitions:\n        - Name: app\n          Image: a\n          Command: nginx -g 'daemon off;'\n");
    const result = await run(["protect", "ecs", "t.yaml", ...SIDECAR, "--offline"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stderr.split("\n")[0]).toBe(
      "vigil: error: t.yaml:8:20: Resources.T.Properties.ContainerDefinitions[0].Command: must be a list of strings, one per argument; received \"nginx -g 'daemon off;'\"",
    );
  });

  test("--check exits 1 on unprotected containers, 0 once protected", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "task.json"), firelens);
    expect(await run(["protect", "ecs", "task.json", "--check"], { cwd: dir })).toEqual({ code: 1, stdout: "not protected: firelens-example-cloudwatch/app\n", stderr: "" });
    await run(["protect", "ecs", "task.json", "-o", "task.json", ...SIDECAR, "--offline", "--image-config", nginxConfig], { cwd: dir });
    expect(await run(["protect", "ecs", "task.json", "--check"], { cwd: dir })).toEqual({ code: 0, stdout: "protected: every selected container\n", stderr: "" });
  });

  test("--diff shows the change and writes nothing", async () => {
    const dir = freshDir();
    const task = join(fixtures, "webserver-fargate.json");
    const result = await run(["protect", "ecs", task, "--diff", ...SIDECAR, "--offline", "--mode", "volumes-from"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain(`--- ${task}\n+++ ${task} (protected)\n@@ `);
    expect(result.stdout).toContain('+                "/vigil/enforcer",\n+                "--",\n                 "sh",\n');
    expect(readdirSync(dir)).toEqual([]);
  });

  test("--policy compiles the policy into VIGIL_POLICY", async () => {
    const compiled = readFileSync(join(policies, "web.compiled"), "utf8");
    const result = await run(["protect", "ecs", join(fixtures, "webserver-fargate.json"), ...SIDECAR, "--offline", "--policy", join(policies, "web.yaml")]);
    expect(result.code).toBe(0);
    const app = (JSON.parse(result.stdout) as { containerDefinitions: { environment?: { name: string; value: string }[] }[] }).containerDefinitions[0];
    expect(app?.environment?.find((e) => e.name === "VIGIL_POLICY")?.value).toBe(compiled);
  });

  test("--image-config accepts inline JSON and container names for intrinsic images", async () => {
    const result = await run(["protect", "ecs", join(fixtures, "cloudformation-service.yaml"), ...SIDECAR, "--offline", "--image-config", 'job={"Entrypoint":["/e"],"Cmd":null}']);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("            - /vigil/enforcer\n            - --\n            - /e\n");
  });

  test("usage errors", async () => {
    expect((await run(["protect", "ecs"])).stderr).toContain("protect ecs: no input given");
    expect((await run(["protect", "ecs", "x.json", "--mode", "inline"])).stderr).toContain('--mode must be copy or volumes-from; received "inline"');
    expect((await run(["protect", "ecs", "x.json", "--image-config", "nginx"])).stderr).toContain("--image-config nginx: expected IMAGE=FILE");
    expect((await run(["protect", "k8s", "x"])).stderr).toContain('protect: unknown target "k8s"');
    expect((await run(["protect", "ecs", "/nonexistent/task.json"])).stderr).toContain("cannot read /nonexistent/task.json: no such file");
    expect((await run(["unprotect", "ecs", "x.json", "--policy", "p"])).stderr).toContain("unprotect ecs: unknown option --policy");
    expect((await run(["protect", "ecs", "x.json", "--policy", "p", "--policy-from", "arn"])).stderr).toContain("give --policy or --policy-from, not both");
  });
});
