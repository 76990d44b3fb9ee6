// vigil protect image end to end on the real Docker Engine: the nginx test image, saved with
// `docker save`, is protected (with a policy) into the local registry, pulled by the engine and
// run with --network none: the enforcer starts the image's own argv, nginx serves, a denied exec
// is blocked. The same through a docker-archive destination and `docker load`.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../cli/helpers.js";
import { Docker, ensureDockerEngine, runCommand } from "../helpers/docker.js";
import { startRegistry, type TestRegistry } from "../helpers/registry.js";

let reg: TestRegistry;
let docker: Docker;
let dir: string;
let nginx: string;
let certsDir: string;

const POLICY = ["vigil-policy 1", "name image-e2e", "mode enforce", "exec.deny /usr/bin/wget", "end", ""].join("\n");
const ARGV = ["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"];

beforeAll(async () => {
  docker = new Docker(await ensureDockerEngine());
  const built = await runCommand(join(process.cwd(), "scripts/test-images.sh"), ["nginx"], 1_200_000);
  if (built.code !== 0) throw new Error(built.stderr);
  nginx = built.stdout.trim().split(" ")[1] ?? "";
  reg = await startRegistry();
  dir = mkdtempSync(join(tmpdir(), "vigil-image-e2e-"));
  // The engine trusts the registry's CA for pulls (read per pull, no restart); credentials in a private config.
  certsDir = `/etc/docker/certs.d/${reg.host}`;
  mkdirSync(certsDir, { recursive: true });
  writeFileSync(join(certsDir, "ca.crt"), await import("node:fs").then((fs) => fs.readFileSync(reg.caFile ?? "")));
  const login = await docker.run(["--config", dir, "login", reg.host, "-u", reg.username ?? "", "-p", reg.password ?? ""]);
  if (login.code !== 0) throw new Error(login.stderr);
  writeFileSync(join(dir, "policy.compiled"), POLICY);
  const saved = await docker.run(["save", "-o", join(dir, "nginx.tar"), nginx], 120_000);
  if (saved.code !== 0) throw new Error(saved.stderr);
}, 1_200_000);

/** Images this file pulled into the engine (by digest, so they show as <none>): removed at the end. */
const pulledRefs: string[] = [];

afterAll(async () => {
  await docker?.removeAll();
  if (pulledRefs.length > 0) await docker.run(["rmi", ...pulledRefs]);
  if (certsDir !== undefined) rmSync(certsDir, { recursive: true, force: true });
  await reg?.stop();
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

/** Runs the image with --network none until the background wget has been tried; returns the enforcer's events. */
async function runProtected(image: string): Promise<{ events: Record<string, unknown>[]; logs: string }> {
  const name = docker.uniqueName("protect-image");
  const started = await docker.run([
    "run", "-d", "--name", name, "--network", "none", "--cap-add", "SYS_PTRACE",
    "-e", "NGINX_PORT=8080",
    "-e", "APP_BACKGROUND=sleep 0.5; /usr/bin/wget -q -O /dev/null http://127.0.0.1:8080/; echo wget-status=$?",
    image,
  ]);
  expect(started.code, started.stderr).toBe(0);
  let logs = "";
  for (let i = 0; i < 80 && !/wget-status=\d/.test(logs); i++) {
    await new Promise((r) => setTimeout(r, 250));
    const l = await docker.run(["logs", name]);
    logs = l.stdout + l.stderr;
  }
  const served = await docker.run(["exec", name, "/bin/busybox", "wget", "-q", "-O", "-", "http://127.0.0.1:8080/"]);
  await docker.run(["rm", "-f", name]);
  const events = logs.split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as Record<string, unknown>);
  return { events, logs: `${logs}\n(exec wget: ${served.code})\n${served.stderr}` };
}

function expectProtectedRun(r: { events: Record<string, unknown>[]; logs: string }): void {
  const start = r.events.find((e) => e["kind"] === "lifecycle" && e["event"] === "start");
  expect(start, r.logs).toMatchObject({ argv: ARGV });
  expect(r.logs).toMatch(/wget-status=126/);
  expect(r.logs).toMatch(/\(exec wget: 0\)/); // nginx served
  expect(r.events.some((e) => e["kind"] === "exec" && e["verdict"] === "blocked" && e["exe"] === "/usr/bin/wget"), r.logs).toBe(true);
}

describe("a protected image on the Docker Engine", () => {
  it("docker save → protect → registry → docker pull → run: the original argv under the enforcer, wget blocked", async () => {
    const ref = `${reg.host}/e2e/nginx:protected`;
    const r = await run(["protect", "image", `docker-archive:${join(dir, "nginx.tar")}`, ref, "--policy", join(dir, "policy.compiled"), "--registry-ca", reg.caFile ?? ""], {
      env: { VIGIL_REGISTRY_USERNAME: reg.username, VIGIL_REGISTRY_PASSWORD: reg.password },
    });
    expect(r.code, r.stderr).toBe(0);
    const pulled = await docker.run(["--config", dir, "pull", `${reg.host}/e2e/nginx@${r.stdout.trim()}`], 120_000);
    expect(pulled.code, pulled.stderr).toBe(0);
    pulledRefs.push(`${reg.host}/e2e/nginx@${r.stdout.trim()}`);
    const inspect = await docker.run(["image", "inspect", "--format", "{{json .Config.Entrypoint}} {{json .Config.Cmd}}", `${reg.host}/e2e/nginx@${r.stdout.trim()}`]);
    expect(inspect.stdout.trim()).toBe('["/vigil/enforcer","--","/docker-entrypoint.sh"] ["nginx","-g","daemon off;"]');
    expectProtectedRun(await runProtected(`${reg.host}/e2e/nginx@${r.stdout.trim()}`));
  }, 300_000);

  it("docker save → protect → docker-archive → docker load → run; unprotect gives back the engine's original image ID", async () => {
    const out = join(dir, "protected.tar");
    const r = await run(["protect", "image", `docker-archive:${join(dir, "nginx.tar")}`, `docker-archive:${out}:vigil-test/protected-nginx:e2e`, "--policy", join(dir, "policy.compiled")]);
    expect(r.code, r.stderr).toBe(0);
    const loaded = await docker.run(["load", "-i", out], 120_000);
    expect(loaded.code, loaded.stderr).toBe(0);
    expectProtectedRun(await runProtected("vigil-test/protected-nginx:e2e"));

    const back = join(dir, "back.tar");
    const u = await run(["unprotect", "image", `docker-archive:${out}`, `docker-archive:${back}:vigil-test/unprotected-nginx:e2e`]);
    expect(u.code, u.stderr).toBe(0);
    expect((await docker.run(["load", "-i", back], 120_000)).code).toBe(0);
    const ids = await docker.run(["image", "inspect", "--format", "{{.Id}}", nginx, "vigil-test/unprotected-nginx:e2e"]);
    const [orig, restored] = ids.stdout.trim().split("\n");
    expect(restored).toBe(orig);
    await docker.run(["rmi", "vigil-test/protected-nginx:e2e", "vigil-test/unprotected-nginx:e2e"]);
  }, 300_000);
});
