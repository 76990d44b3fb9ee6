// Enrollment with the console, end to end, with the commands a user runs:
//
//   1. a real console over HTTPS on 127.0.0.1 (`https://localhost:PORT`, a throwaway CA and a
//      certificate for DNS:localhost), with an enrollment token for the group "web";
//   2. `vigil sidecar build --ca ca.pem -o` + `docker load`: the CA bundle at /vigil/ca.pem;
//   3. `vigil protect ecs --console URL --token-secret ARN --policy FILE`: VIGIL_CONSOLE in the
//      environment, VIGIL_TOKEN as a secrets entry;
//   4. `vigil local run --network host --secret VIGIL_TOKEN` (the value from vigil's environment):
//      the Python test app (vigil-test/python, a command-injection hole on purpose) serves; its
//      environment holds no VIGIL_TOKEN; a denied exec it is made to run is blocked; the events,
//      the blocked one included, arrive in the console; the enforcer is in the fleet with the
//      container name, image and task ARN read from the local task metadata endpoint.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it, onTestFinished } from "vitest";
import { REPO, runCommand } from "../helpers/docker.js";
import { freshDir, run } from "../cli/helpers.js";
import { enforcers, eventually, makeTestCa, shippingConsole, storedEvents, type ShippingConsole, type TestCa } from "../shipping/helpers.js";
import { cleanEnv, httpGet, httpGetWithRetry, runIdOf, runProgram, spawnVigil } from "./e2e-helpers.js";
import { freePort, leftovers, setupEngine } from "./helpers.js";

const TOKEN_ARN = "arn:aws:ssm:eu-west-1:123456789012:parameter/vigil/token";
const POLICY = `apiVersion: vigil/v1
kind: Policy
metadata: { name: console-app }
spec:
  mode: enforce
  exec:
    deny: ["/usr/bin/perl*"]
`;

let client: string;
let python: string;
let ca: TestCa | undefined;
let vigilConsole: ShippingConsole | undefined;
let sidecar: string | undefined;
let sidecarDir: string | undefined;

beforeAll(async () => {
  ({ client } = await setupEngine());
  const r = await runCommand(join(REPO, "scripts/test-images.sh"), ["python"], 1_200_000);
  if (r.code !== 0) throw new Error(`scripts/test-images.sh python failed:\n${r.stderr}`);
  python = r.stdout.trim().split(" ")[1] ?? "";
  const testCa = await makeTestCa();
  ca = testCa;
  vigilConsole = await shippingConsole({ ca: testCa, group: "web" });

  // The sidecar with the console's CA, built by vigil and loaded into the engine.
  const dir = mkdtempSync(join(tmpdir(), "vigil-console-sidecar-"));
  sidecarDir = dir;
  const ref = `vigil-test/sidecar-console:p${process.pid}`;
  const built = await run(["sidecar", "build", "-o", join(dir, "sidecar.tar"), "--tag", ref, "--ca", testCa.caPem], { cwd: dir });
  if (built.code !== 0) throw new Error(`vigil sidecar build --ca failed:\n${built.stderr}`);
  const loaded = await runProgram(client, ["load", "-i", join(dir, "sidecar.tar")]);
  if (loaded.code !== 0 || !loaded.stdout.includes(ref)) throw new Error(`docker load failed:\n${loaded.stdout}\n${loaded.stderr}`);
  sidecar = ref;
}, 1_200_000);

afterAll(async () => {
  if (sidecar !== undefined) await runProgram(client, ["rmi", sidecar]);
  await vigilConsole?.close();
  ca?.remove();
  if (sidecarDir !== undefined) rmSync(sidecarDir, { recursive: true, force: true });
}, 120_000);

it("a task protected with --console ships its events (a blocked exec included) to the console, appears in the fleet by container name, and its app never sees VIGIL_TOKEN", async () => {
  const s = vigilConsole;
  if (s === undefined || sidecar === undefined) throw new Error("no console or sidecar");
  const dir = freshDir("vigil-console-run-");
  const port = freePort();
  const inspect = await runProgram(client, ["image", "inspect", "--format", "{{json .Config}}", python]);
  const config = JSON.parse(inspect.stdout) as { Entrypoint: string[] | null; Cmd: string[] | null };
  writeFileSync(join(dir, "image.json"), JSON.stringify({ config }));
  writeFileSync(join(dir, "policy.yaml"), POLICY);
  writeFileSync(
    join(dir, "task.json"),
    `${JSON.stringify(
      {
        family: "console-app",
        networkMode: "awsvpc",
        executionRoleArn: "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
        containerDefinitions: [{ name: "web", image: python, essential: true, environment: [{ name: "PORT", value: String(port) }] }],
      },
      null,
      2,
    )}\n`,
  );

  // protect ecs: the console in clear, the token only by reference.
  const protectedRun = await run(
    ["protect", "ecs", "task.json", "-o", "protected.json", "--offline", "--image-config", `${python}=image.json`, "--sidecar-image", sidecar, "--policy", "policy.yaml", "--console", s.url, "--token-secret", TOKEN_ARN],
    { cwd: dir },
  );
  expect(protectedRun.stderr).toBe("vigil: protected console-app/web (copy mode)\n");
  const protectedText = readFileSync(join(dir, "protected.json"), "utf8");
  expect(protectedText).not.toContain(s.token);
  const web = (JSON.parse(protectedText) as { containerDefinitions: Record<string, unknown>[] }).containerDefinitions[0] ?? {};
  expect(web["environment"]).toContainEqual({ name: "VIGIL_CONSOLE", value: s.url });
  expect(web["secrets"]).toEqual([{ name: "VIGIL_TOKEN", valueFrom: TOKEN_ARN }]);

  // local run: the secret's value from vigil's own environment, not the command line.
  const task = spawnVigil(["local", "run", "protected.json", "--network", "host", "--secret", "VIGIL_TOKEN", "--timeout", "150"], {
    cwd: dir,
    env: cleanEnv({ VIGIL_TOKEN: s.token }),
    killAfterMs: 170_000,
  });
  let ended = false;
  void task.closed.then(() => (ended = true));
  onTestFinished(async () => {
    if (!ended) task.child.kill("SIGTERM");
    await task.closed;
  });
  expect(await httpGetWithRetry(port, () => !ended)).toEqual({ status: 200, body: "hello from python\n" });
  const runId = runIdOf(task.stderr());

  // The application's environment: no token, no console settings; the metadata endpoint is there.
  const env = await httpGet(port, `/run?cmd=${encodeURIComponent("env")}`);
  expect(env.body).toMatch(/^status=0\n/);
  expect(env.body).not.toContain("VIGIL_TOKEN");
  expect(env.body).not.toContain(s.token);
  expect(env.body).not.toContain("VIGIL_CONSOLE");
  expect(env.body).toContain(`ECS_CONTAINER_METADATA_URI_V4=http://127.0.0.1:`);
  // Nor can it read the token from the enforcer's own environment block (PID 1).
  const environ = await httpGet(port, `/run?cmd=${encodeURIComponent("cat /proc/1/environ")}`);
  expect(environ.body).not.toContain(s.token);

  // A denied exec the app is made to run: blocked in the container, and reported to the console.
  const denied = await httpGet(port, `/run?cmd=${encodeURIComponent("perl -e 'print 1'")}`);
  expect(denied.body).toBe("status=126\nvigil: blocked exec of /usr/bin/perl (exec.deny[0]: /usr/bin/perl*)\n");
  const events = await eventually(
    "the blocked exec in the console",
    () => storedEvents(s),
    (list) => list.some((e) => e.event.kind === "exec" && (e.event as unknown as Record<string, unknown>)["verdict"] === "blocked"),
    30_000,
  );
  const fields = events.map((e) => e.event as unknown as Record<string, unknown>);
  const blocked = fields.filter((e) => e["verdict"] === "blocked").map((e) => [e["kind"], e["exe"], e["argv"]]);
  expect(blocked).toEqual([["exec", "/usr/bin/perl", ["perl", "-e", "print 1"]]]);
  expect(fields.some((e) => e["kind"] === "lifecycle")).toBe(true);
  expect(fields.some((e) => e["kind"] === "exec" && e["verdict"] === "allowed" && e["exe"] === "/usr/bin/env")).toBe(true);

  // The fleet: one enforcer, named by the task metadata endpoint.
  const fleet = await enforcers(s);
  expect(fleet).toHaveLength(1);
  expect(fleet[0]).toMatchObject({ group: "web", container: "web", image: python, taskArn: `arn:aws:ecs:local:000000000000:task/vigil-local/${runId}` });
  expect(new Set(events.map((e) => e.enforcerId))).toEqual(new Set([fleet[0]?.id]));

  // SIGTERM stops the task like ECS; the app exits 0 and nothing is left behind.
  task.child.kill("SIGTERM");
  const { code } = await task.closed;
  expect(code, task.stderr()).toBe(0);
  expect(task.stderr()).not.toContain(s.token);
  expect(task.stdout()).not.toContain(s.token);
  expect(await leftovers(runId)).toEqual([]);
}, 240_000);
