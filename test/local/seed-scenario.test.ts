// The seed scenario, end to end, with the real commands a user runs:
//
//   1. the nginx test image (its own ENTRYPOINT/CMD) is pushed to the TLS test registry
//      (scripts/registry.sh), which the engine trusts through /etc/docker/certs.d;
//   2. `vigil sidecar build` makes the sidecar image: `-o` + `docker load`, or `--push` to the
//      registry (then the engine pulls it);
//   3. `vigil protect ecs` rewrites a task definition with no entryPoint/command, reading the
//      image's config from the registry;
//   4. `vigil local run` (the CLI, as a child process) pulls the app image with the credentials
//      of DOCKER_CONFIG and runs the task: nginx serves on loopback (--network host), an exec the
//      policy denies, started by the application, fails with 126 and is reported `blocked`; the
//      sidecar exited 0 and the task keeps serving; SIGTERM to vigil stops nginx gracefully and
//      the task exits 0, leaving nothing behind.
//
// In volumes-from mode, in copy mode, and with a FireLens-like log router that protect leaves
// alone and that still runs.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from "vitest";
import { freshDir, run } from "../cli/helpers.js";
import { cleanEnv, containerLines, eventsOf, httpGet, httpGetWithRetry, runIdOf, runProgram, spawnVigil, startEngineRegistry, type EngineRegistry } from "./e2e-helpers.js";
import { freePort, leftovers, setupEngine, type LocalImage } from "./helpers.js";

let client: string;
let img: Record<LocalImage, string>;
let reg: EngineRegistry | undefined;
let appImage: string;
let loadedSidecar: string;
let pushedSidecar: string;
let sidecarDir: string | undefined;

const POLICY_YAML = `apiVersion: vigil/v1
kind: Policy
metadata: { name: seed }
spec:
  mode: enforce
  exec:
    deny: ["/usr/bin/wget", "/usr/bin/nc*"]
`;

async function docker(args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const r = await runProgram(client, args, { env });
  if (r.code !== 0) throw new Error(`docker ${args.join(" ")} failed (${String(r.code)}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

beforeAll(async () => {
  ({ client, images: img } = await setupEngine());
  reg = await startEngineRegistry();
  const dockerEnv = { ...process.env, DOCKER_CONFIG: reg.dockerConfig };

  // The application image, in the registry only.
  appImage = `${reg.host}/vigil-test/nginx:seed`;
  await docker(["tag", img.nginx, appImage]);
  await docker(["push", appImage], dockerEnv);
  await docker(["rmi", appImage]);

  // The sidecar through `docker load` …
  const dir = mkdtempSync(join(tmpdir(), "vigil-seed-"));
  sidecarDir = dir;
  loadedSidecar = "vigil-test/sidecar-seed:loaded";
  const built = await run(["sidecar", "build", "-o", join(dir, "sidecar.tar"), "--tag", loadedSidecar], { cwd: dir });
  if (built.code !== 0) throw new Error(`vigil sidecar build -o failed:\n${built.stderr}`);
  const loaded = await docker(["load", "-i", join(dir, "sidecar.tar")]);
  if (!loaded.includes(loadedSidecar)) throw new Error(`docker load did not load ${loadedSidecar}:\n${loaded}`);

  // … and through the registry (the engine pulls it during the run).
  pushedSidecar = `${reg.host}/vigil/sidecar:seed`;
  const pushed = await run(["sidecar", "build", "--push", pushedSidecar, "--ca-file", reg.ca], { cwd: dir, env: reg.vigilEnv });
  if (pushed.code !== 0) throw new Error(`vigil sidecar build --push failed:\n${pushed.stderr}`);
}, 1_200_000);

afterAll(async () => {
  if (client !== undefined) {
    for (const ref of [appImage, pushedSidecar, loadedSidecar]) if (ref !== undefined) await runProgram(client, ["rmi", ref]);
  }
  await reg?.stop();
  if (sidecarDir !== undefined) rmSync(sidecarDir, { recursive: true, force: true });
}, 120_000);


interface Scenario {
  title: string;
  mode: "volumes-from" | "copy";
  sidecar: "loaded" | "pushed";
  logRouter: boolean;
}

const SCENARIOS: Scenario[] = [
  { title: "volumes-from mode (sidecar from docker load)", mode: "volumes-from", sidecar: "loaded", logRouter: false },
  { title: "copy mode (sidecar from docker load)", mode: "copy", sidecar: "loaded", logRouter: false },
  { title: "volumes-from mode with a FireLens log router left unwrapped (sidecar pulled from the registry)", mode: "volumes-from", sidecar: "pushed", logRouter: true },
];

describe.each(SCENARIOS)("seed scenario: $title", (s) => {
  it("protect ecs reads the image's ENTRYPOINT/CMD from the registry; local run serves, blocks the denied exec with an event, and stops with 0 on SIGTERM", async () => {
    if (reg === undefined) throw new Error("no registry");
    const dir = freshDir("vigil-seed-");
    const port = freePort();
    const sidecarImage = s.sidecar === "loaded" ? loadedSidecar : pushedSidecar;
    const logRouter = {
      name: "log_router",
      image: img.scratch,
      essential: true,
      firelensConfiguration: { type: "fluentbit", options: { "enable-ecs-log-metadata": "true" } },
      command: ["sh", "-c", 'trap "echo log router stopping; exit 0" TERM; echo log router up; while :; do sleep 1; done'],
    };
    const app: Record<string, unknown> = {
      name: "app",
      image: appImage,
      essential: true,
      environment: [
        { name: "NGINX_PORT", value: String(port) },
        // A command the application runs (as one an attacker made it run would be): a denied program.
        { name: "APP_BACKGROUND", value: "sleep 0.5; /usr/bin/wget -q -O /dev/null http://127.0.0.1:1/; echo wget-status=$?" },
      ],
    };
    if (s.logRouter) {
      app["dependsOn"] = [{ containerName: "log_router", condition: "START" }];
      app["logConfiguration"] = { logDriver: "awsfirelens", options: { Name: "stdout" } };
    }
    const task = { family: `seed-${s.mode}${s.logRouter ? "-firelens" : ""}`, networkMode: "awsvpc", requiresCompatibilities: ["FARGATE"], containerDefinitions: s.logRouter ? [app, logRouter] : [app] };
    writeFileSync(join(dir, "task.json"), `${JSON.stringify(task, null, 2)}\n`);
    writeFileSync(join(dir, "policy.yaml"), POLICY_YAML);

    // protect: no --image-config, so the app image's config comes from the registry (TLS, basic auth).
    const protect = await run(
      ["protect", "ecs", "task.json", "-o", "protected.json", "--mode", s.mode, "--sidecar-image", sidecarImage, "--policy", "policy.yaml", "--registry-ca", reg.ca],
      { cwd: dir, env: reg.vigilEnv },
    );
    expect(protect.code, protect.stderr).toBe(0);
    const protectedTask = JSON.parse(readFileSync(join(dir, "protected.json"), "utf8")) as { containerDefinitions: Record<string, unknown>[]; volumes?: unknown[] };
    const byName = Object.fromEntries(protectedTask.containerDefinitions.map((c) => [c["name"] as string, c]));
    expect(byName["app"]?.["entryPoint"]).toEqual(["/vigil/enforcer", "--", "/docker-entrypoint.sh"]);
    expect(byName["app"]?.["command"]).toEqual(["nginx", "-g", "daemon off;"]);
    expect(byName["vigil"]).toMatchObject({ image: sidecarImage, essential: false });
    if (s.mode === "volumes-from") expect(byName["app"]?.["volumesFrom"]).toEqual([{ sourceContainer: "vigil", readOnly: true }]);
    else expect(protectedTask.volumes).toEqual([{ name: "vigil" }]);
    // The log router is left exactly as it was.
    if (s.logRouter) expect(byName["log_router"]).toEqual(logRouter);

    // The run must pull: the app image (and the pushed sidecar) are only in the registry.
    await runProgram(client, ["rmi", appImage]);
    if (s.sidecar === "pushed") await runProgram(client, ["rmi", pushedSidecar]);

    const vigil = spawnVigil(["local", "run", "protected.json", "--network", "host", "--timeout", "150"], {
      cwd: dir,
      // The engine gets the registry's credentials from vigil, which reads them from Docker's config.
      env: cleanEnv({ DOCKER_CONFIG: reg.dockerConfig }),
    });
    let alive = true;
    void vigil.closed.then(() => (alive = false));
    // Whatever fails below, the task is stopped the way a user would stop it (and cleans up).
    onTestFinished(async () => {
      if (alive) vigil.child.kill("SIGTERM");
      await vigil.closed;
    });
    try {
      const page = await httpGetWithRetry(port, () => alive);
      expect(page.status).toBe(200);
      expect(page.body).toContain("hello from nginx");
      // stdout and stderr are separate streams: wait for the status line and the event both.
      await vigil.waitFor((out, err) => containerLines(out, "app").includes("wget-status=126") && eventsOf(err, "app").some((e) => e["verdict"] === "blocked"), 30_000);
      if (s.logRouter) await vigil.waitFor((out) => containerLines(out, "log_router").includes("log router up"), 30_000);
    } catch (error) {
      vigil.child.kill("SIGTERM");
      await vigil.closed;
      throw new Error(`${String(error)}\nstdout:\n${vigil.stdout()}\nstderr:\n${vigil.stderr()}`);
    }
    const stderr = vigil.stderr();
    expect(stderr).toContain(`pulling ${appImage}`);
    if (s.sidecar === "pushed") expect(stderr).toContain(`pulling ${pushedSidecar}`);
    const events = eventsOf(stderr, "app");
    // The enforcer started the image's own entry point with the image's own command.
    expect(events.find((e) => e["kind"] === "lifecycle" && e["event"] === "start")?.["argv"], stderr).toEqual(["/docker-entrypoint.sh", "nginx", "-g", "daemon off;"]);
    expect(events.find((e) => e["kind"] === "exec")?.["script"], stderr).toBe("/docker-entrypoint.sh");
    expect(events.some((e) => e["kind"] === "exec" && e["exe"] === "/usr/sbin/nginx" && e["verdict"] === "allowed"), stderr).toBe(true);
    expect(events.filter((e) => e["kind"] === "exec" && e["verdict"] === "blocked").map((e) => e["exe"]), stderr).toEqual(["/usr/bin/wget"]);
    // The sidecar has done its work and exited 0; the task keeps running and serving.
    expect(stderr).toContain("vigil: exited with code 0 (exited by itself)");
    expect((await httpGet(port)).status).toBe(200);
    if (s.logRouter) {
      // Not wrapped: no enforcer in the log router, so no events there.
      expect(eventsOf(stderr, "log_router")).toEqual([]);
      expect(stderr).toMatch(/warning: .*firelensConfiguration: not emulated/);
    }

    vigil.child.kill("SIGTERM");
    const { code } = await vigil.closed;
    const all = `${vigil.stdout()}\n${vigil.stderr()}`;
    expect(code, all).toBe(0);
    expect(vigil.stderr()).toContain("task stopping: stop requested (SIGTERM)");
    // nginx stopped on its own terms (SIGTERM relayed by the enforcer), not killed.
    expect(containerLines(vigil.stderr(), "app").join("\n")).toMatch(/signal 15 \(SIGTERM\) received.*exiting/);
    expect(containerLines(vigil.stderr(), "app").join("\n")).toMatch(/\bexit\b/);
    expect(vigil.stderr()).toMatch(/ vigil +no +0 +- +exited by itself/);
    expect(vigil.stderr()).toMatch(/ app +yes +0 +- +stopped with the task/);
    if (s.logRouter) {
      expect(containerLines(vigil.stdout(), "log_router")).toContain("log router stopping");
      expect(vigil.stderr()).toMatch(/ log_router +yes +0 +- +stopped with the task/);
    }
    expect(vigil.stderr()).toContain("task stopped: stop requested (SIGTERM); exit code 0");
    expect(await leftovers(runIdOf(vigil.stderr()))).toEqual([]);
  }, 240_000);
});
