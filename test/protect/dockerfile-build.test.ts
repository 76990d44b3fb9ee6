// Rewritten Dockerfiles build with `docker build` on the real engine (no network, local images
// only) and the built image starts its original argv under the enforcer: with a base image's own
// SHELL read from the real registry, and with a policy built in (a denied exec is blocked).

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../cli/helpers.js";
import { Docker, ensureDockerEngine, runCommand } from "../helpers/docker.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";

let docker: Docker;
let dir: string;
let images: Record<string, string>;
let reg: TestRegistry;
const SIDECAR = `vigil-test/sidecar-build:${process.pid}`;
const built: string[] = [];

beforeAll(async () => {
  docker = new Docker(await ensureDockerEngine());
  const r = await runCommand(join(process.cwd(), "scripts/test-images.sh"), ["scratch", "nginx"], 1_200_000);
  if (r.code !== 0) throw new Error(r.stderr);
  images = Object.fromEntries(r.stdout.trim().split("\n").map((l) => l.split(" ") as [string, string]));
  dir = mkdtempSync(join(tmpdir(), "vigil-df-build-"));
  const s = await run(["sidecar", "build", "-o", join(dir, "sidecar.tar"), "--tag", SIDECAR]);
  if (s.code !== 0) throw new Error(s.stderr);
  const loaded = await docker.run(["load", "-i", join(dir, "sidecar.tar")], 120_000);
  if (loaded.code !== 0) throw new Error(loaded.stderr);
  built.push(SIDECAR);
  reg = await startRegistry();
}, 1_200_000);

afterAll(async () => {
  await docker?.removeAll();
  if (built.length > 0) await docker.run(["rmi", "-f", ...built]);
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  await reg?.stop();
});

async function buildProtected(name: string, dockerfile: string, extra: string[] = [], env: Record<string, string> = {}): Promise<string> {
  const ctx = mkdtempSync(join(dir, `${name}-`));
  writeFileSync(join(ctx, "Dockerfile"), dockerfile);
  const p = await run(["protect", "dockerfile", join(ctx, "Dockerfile"), "-o", join(ctx, "Dockerfile.vigil"), "--sidecar-image", SIDECAR, ...extra], { env });
  expect(p.code, p.stderr).toBe(0);
  const tag = `vigil-test/df-${name}:${process.pid}`;
  for (const [file, t] of [["Dockerfile.vigil", tag], ["Dockerfile", `${tag}-original`]] as const) {
    const b = await runCommand("env", ["DOCKER_BUILDKIT=0", docker.client, "build", "--network", "none", "-q", "-t", t, "-f", join(ctx, file), ctx], 300_000);
    expect(b.code, b.stderr).toBe(0);
    built.push(t);
  }
  return tag;
}

function events(stderr: string): Record<string, unknown>[] {
  return stderr
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function startEvent(stderr: string): Record<string, unknown> | undefined {
  return events(stderr).find((e) => e["kind"] === "lifecycle" && e["event"] === "start");
}

describe("protected Dockerfiles build and run", () => {
  it("shell-form ENTRYPOINT over continuation lines: same /bin/sh -c command, under the enforcer", async () => {
    const tag = await buildProtected("shell", `FROM ${images["scratch"]}\nENV GREETING=hi\nENTRYPOINT echo "$GREETING from" \\\n    $0 "$@"\nCMD ["ignored-by-sh"]\n`);
    const r = await docker.run(["run", "--rm", "--network", "none", "--cap-add", "SYS_PTRACE", tag]);
    const original = await docker.run(["run", "--rm", "--network", "none", `${tag}-original`]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toBe("hi from ignored-by-sh\n"); // sh -c TEXT ARG0: Docker's shell form
    expect(r.stdout).toBe(original.stdout);
    expect(startEvent(r.stderr)).toMatchObject({ argv: ["/bin/sh", "-c", 'echo "$GREETING from"     $0 "$@"', "ignored-by-sh"] });
  }, 300_000);

  it("a stage that inherits nginx's ENTRYPOINT and CMD (base config from docker inspect): nginx starts with its argv", async () => {
    const inspect = await docker.run(["image", "inspect", images["nginx"] ?? ""]);
    writeFileSync(join(dir, "nginx-inspect.json"), inspect.stdout);
    const tag = await buildProtected("inherit", `ARG BASE=${images["nginx"]}\nFROM $BASE\nRUN ["/bin/busybox", "true"]\n`, ["--base-config", join(dir, "nginx-inspect.json")]);
    const name = docker.uniqueName("df-inherit");
    const started = await docker.run(["run", "-d", "--name", name, "--network", "none", "--cap-add", "SYS_PTRACE", tag]);
    expect(started.code, started.stderr).toBe(0);
    let logs = "";
    for (let i = 0; i < 40 && startEvent(logs) === undefined; i++) {
      await new Promise((r) => setTimeout(r, 250));
      logs = (await docker.run(["logs", name])).stderr;
    }
    await docker.run(["rm", "-f", name]);
    expect(startEvent(logs), logs).toMatchObject({ argv: ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"] });
  }, 300_000);

  it("a shell-form ENTRYPOINT FROM an image with its own SHELL (read from the real registry) runs with that shell", async () => {
    // The base: the scratch test image plus SHELL ["/bin/sh", "-e", "-c"], copied unchanged into the
    // registry (unprotect of an unprotected image is a plain copy) and tagged locally too, so the
    // build finds it without pulling.
    const baseTag = `vigil-test/df-shellbase:${process.pid}`;
    const baseCtx = mkdtempSync(join(dir, "shellbase-"));
    writeFileSync(join(baseCtx, "Dockerfile"), `FROM ${images["scratch"]}\nSHELL ["/bin/sh", "-e", "-c"]\n`);
    const b = await runCommand("env", ["DOCKER_BUILDKIT=0", docker.client, "build", "--network", "none", "-q", "-t", baseTag, baseCtx], 300_000);
    expect(b.code, b.stderr).toBe(0);
    built.push(baseTag);
    expect((await docker.run(["save", "-o", join(baseCtx, "base.tar"), baseTag], 120_000)).code).toBe(0);
    const env = { VIGIL_REGISTRY_USERNAME: reg.username ?? "", VIGIL_REGISTRY_PASSWORD: reg.password ?? "" };
    const ref = `${reg.host}/df/shellbase:v1`;
    const pushed = await run(["unprotect", "image", `docker-archive:${join(baseCtx, "base.tar")}`, ref, "--registry-ca", reg.caFile ?? ""], { env });
    expect(pushed.code, pushed.stderr).toBe(0);
    expect((await docker.run(["tag", baseTag, ref])).code).toBe(0);
    built.push(ref);

    const tag = await buildProtected("base-shell", `FROM ${ref}\nENTRYPOINT false; echo after-false\n`, ["--registry-ca", reg.caFile ?? ""], env);
    const r = await docker.run(["run", "--rm", "--network", "none", "--cap-add", "SYS_PTRACE", tag]);
    const original = await docker.run(["run", "--rm", "--network", "none", `${tag}-original`]);
    expect(original.code).toBe(1); // sh -e: `false` ends it
    expect(original.stdout).toBe("");
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toBe("");
    expect(startEvent(r.stderr)).toMatchObject({ argv: ["/bin/sh", "-e", "-c", "false; echo after-false"] });
  }, 300_000);

  it("--policy: the compiled policy is built in and a denied exec is blocked", async () => {
    const policy = join(dir, "df-policy.yaml");
    writeFileSync(policy, ["apiVersion: vigil/v1", "kind: Policy", "metadata: { name: df-policy }", "spec:", "  mode: enforce", "  exec:", '    deny: ["/usr/local/bin/probe"]', ""].join("\n"));
    // probe: a copy of busybox (not a link to it), so denying it denies nothing else.
    const dockerfile = `FROM ${images["scratch"]}\nRUN ["/bin/busybox", "sh", "-c", "/bin/busybox mkdir -p /usr/local/bin && /bin/busybox cp /bin/busybox /usr/local/bin/probe"]\nENTRYPOINT /usr/local/bin/probe true; echo probe-status=$?\n`;
    const tag = await buildProtected("policy", dockerfile, ["--policy", policy]);
    const r = await docker.run(["run", "--rm", "--network", "none", "--cap-add", "SYS_PTRACE", tag]);
    const original = await docker.run(["run", "--rm", "--network", "none", `${tag}-original`]);
    expect(original.stdout).not.toContain("probe-status=126");
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("probe-status=126");
    expect(events(r.stderr).some((e) => e["kind"] === "exec" && e["verdict"] === "blocked" && e["exe"] === "/usr/local/bin/probe"), r.stderr).toBe(true);
    const env = await docker.run(["image", "inspect", "--format", "{{json .Config.Env}}", tag]);
    expect(env.stdout).toContain("VIGIL_POLICY_FILE=/vigil/policy");
  }, 300_000);
});
