// vigil protect ecs reading ENTRYPOINT/CMD from a real registry (Debian's docker-registry on
// 127.0.0.1, TLS from a test CA, basic auth from the environment): images with ENTRYPOINT only,
// CMD only, both, neither, a shell-form CMD and a multi-arch index. The rewritten task runs the
// same argv behind the enforcer.

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { buildIndex, type BuiltImage } from "../../src/oci/image.js";
import { pushImage, pushIndex } from "../../src/oci/push.js";
import { effectiveArgv } from "../../src/protect/ecs/docker-argv.js";
import { RegistryClient } from "../../src/registry/client.js";
import { freshDir, run } from "../cli/helpers.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";
import { testImage } from "../registry/images.js";

const amd64 = { os: "linux", architecture: "amd64" };
const arm64 = { os: "linux", architecture: "arm64", variant: "v8" };
const images: Record<string, { config: { Entrypoint?: string[]; Cmd?: string[] } }> = {
  "entrypoint-only": { config: { Entrypoint: ["/app/server", "--port", "80"] } },
  "cmd-only": { config: { Cmd: ["nginx", "-g", "daemon off;"] } },
  both: { config: { Entrypoint: ["/docker-entrypoint.sh"], Cmd: ["nginx", "-g", "daemon off;"] } },
  neither: { config: {} },
  "shell-cmd": { config: { Cmd: ["/bin/sh", "-c", "echo \"$HOME\" && exec app --flag='x y'"] } },
};

let reg: TestRegistry;

beforeAll(async () => {
  reg = await startRegistry();
  const client = new RegistryClient(reg.host, { caFile: reg.caFile, auth: { username: reg.username ?? "", password: reg.password ?? "" } });
  for (const [name, { config }] of Object.entries(images)) await pushImage(client, `protect/${name}`, testImage(config) as BuiltImage, "v1");
  await pushIndex(client, "protect/multi", buildIndex([testImage({ Cmd: ["/app/amd64"] }, amd64), testImage({ Entrypoint: ["/app/arm64"], Cmd: ["--arm"] }, arm64)]), "v1");
}, 120_000);

afterAll(async () => {
  await reg?.stop();
});

describe("protect ecs with image configs from a registry", () => {
  test("every image shape, both architectures", async () => {
    const dir = freshDir();
    const containers = Object.keys(images).map((name) => ({ name, image: `${reg.host}/protect/${name}:v1`, essential: true }));
    // "neither" runs nothing unless the task gives a command.
    const neither = containers.find((c) => c.name === "neither") as Record<string, unknown>;
    neither["command"] = ["/bin/true"];
    const task = (arch: string, list: Record<string, unknown>[]): string =>
      `${JSON.stringify({ family: `reg-${arch}`, runtimePlatform: { cpuArchitecture: arch, operatingSystemFamily: "LINUX" }, memory: "512", containerDefinitions: list }, null, 2)}\n`;
    writeFileSync(join(dir, "amd64.json"), task("X86_64", containers));
    writeFileSync(join(dir, "arm64.json"), task("ARM64", [{ name: "multi", image: `${reg.host}/protect/multi:v1` }]));
    writeFileSync(join(dir, "amd64-multi.json"), task("X86_64", [{ name: "multi", image: `${reg.host}/protect/multi:v1` }]));
    const env = { VIGIL_REGISTRY_USERNAME: reg.username, VIGIL_REGISTRY_PASSWORD: reg.password, DOCKER_CONFIG: dir, HOME: dir };
    const protect = async (file: string): Promise<{ name: string; entryPoint?: string[]; command?: string[] }[]> => {
      const result = await run(["protect", "ecs", file, "--sidecar-image", "registry.example/vigil/sidecar:1", "--registry-ca", reg.caFile ?? ""], { cwd: dir, env });
      expect(result.stderr).not.toContain("error");
      expect(result.code).toBe(0);
      return (JSON.parse(result.stdout) as { containerDefinitions: { name: string; entryPoint?: string[]; command?: string[] }[] }).containerDefinitions;
    };

    const amd = await protect("amd64.json");
    for (const original of containers) {
      const name = original.name;
      const image = { entrypoint: images[name]?.config.Entrypoint ?? null, cmd: images[name]?.config.Cmd ?? null };
      const now = amd.find((c) => c.name === name);
      const before = effectiveArgv(null, (original as { command?: string[] }).command ?? null, image);
      expect(effectiveArgv(now?.entryPoint ?? null, now?.command ?? null, image)).toEqual(["/vigil/enforcer", "--", ...before]);
    }
    expect(amd.find((c) => c.name === "cmd-only")).toMatchObject({ entryPoint: ["/vigil/enforcer", "--"], command: ["nginx", "-g", "daemon off;"] });
    expect(amd.find((c) => c.name === "shell-cmd")?.command).toEqual(["/bin/sh", "-c", "echo \"$HOME\" && exec app --flag='x y'"]);

    expect((await protect("arm64.json"))[0]).toMatchObject({ entryPoint: ["/vigil/enforcer", "--", "/app/arm64"], command: ["--arm"] });
    expect((await protect("amd64-multi.json"))[0]).toMatchObject({ entryPoint: ["/vigil/enforcer", "--"], command: ["/app/amd64"] });
  });

  test("an image the registry does not have is reported with what to pass", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "t.json"), JSON.stringify({ family: "f", memory: "512", containerDefinitions: [{ name: "app", image: `${reg.host}/protect/missing:v1` }] }));
    const env = { VIGIL_REGISTRY_USERNAME: reg.username, VIGIL_REGISTRY_PASSWORD: reg.password, DOCKER_CONFIG: dir, HOME: dir };
    const result = await run(["protect", "ecs", "t.json", "--sidecar-image", "s:1", "--registry-ca", reg.caFile ?? ""], { cwd: dir, env });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`vigil: error: t.json: cannot read the image config of ${reg.host}/protect/missing:v1 (linux/amd64) for f/app: `);
    expect(result.stderr).toContain(`  pass --image-config ${reg.host}/protect/missing:v1=FILE, or set entryPoint and command in the task definition\n`);
  });
});
