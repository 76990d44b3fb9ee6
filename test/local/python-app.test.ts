// A Python web app (vigil-test/python: Debian's python3, CMD ["python3", "/app/app.py"]) protected
// by protect ecs in volumes-from mode and run with Fargate semantics: it serves on loopback; a
// request exploiting its command-injection hole makes it exec a denied program (perl), which
// fails with 126 and is reported blocked, while an allowed one runs; SIGTERM stops it with 0.

import { beforeAll, expect, it, onTestFinished } from "vitest";
import { protectEcs } from "../../src/protect/ecs/protect.js";
import { REPO, runCommand } from "../helpers/docker.js";
import { httpGet, httpGetWithRetry } from "./e2e-helpers.js";
import { docker, freePort, leftovers, setupEngine, startLocal, type LocalImage } from "./helpers.js";
import { join } from "node:path";

let img: Record<LocalImage, string>;
let python: string;

beforeAll(async () => {
  img = (await setupEngine()).images;
  const r = await runCommand(join(REPO, "scripts/test-images.sh"), ["python"], 1_200_000);
  if (r.code !== 0) throw new Error(`scripts/test-images.sh python failed:\n${r.stderr}`);
  python = r.stdout.trim().split(" ")[1] ?? "";
}, 1_200_000);

const POLICY = ["vigil-policy 1", "name python-app", "mode enforce", "exec.deny /usr/bin/perl*", "end", ""].join("\n");

it("a protected Python app serves, its injected exec of a denied program is blocked with an event, SIGTERM ends it with 0", async () => {
  const port = freePort();
  const inspect = await docker.imageInspect(python);
  const imageConfig = { entrypoint: inspect?.Config?.Entrypoint ?? null, cmd: inspect?.Config?.Cmd ?? null };
  expect(imageConfig.cmd).toEqual(["python3", "/app/app.py"]);
  const plain = { family: "python-app", containerDefinitions: [{ name: "web", image: python, essential: true, environment: [{ name: "PORT", value: String(port) }] }] };
  const result = protectEcs(JSON.stringify(plain), { mode: "volumes-from", sidecarImage: img.sidecar, policy: POLICY, imageConfigs: new Map([[python, imageConfig]]) });
  expect(result.diagnostics.filter((d) => d.severity === "error")).toEqual([]);

  const run = startLocal(JSON.parse(result.text as string), { network: "host", timeoutMs: 120_000 });
  onTestFinished(async () => {
    run.stop();
    await run.result;
  });
  let ended = false;
  void run.result.finally(() => (ended = true));
  const page = await httpGetWithRetry(port, () => !ended);
  expect(page).toEqual({ status: 200, body: "hello from python\n" });

  // allowed: the app runs a program as usual
  expect(await httpGet(port, `/run?cmd=${encodeURIComponent("id -u")}`)).toEqual({ status: 200, body: "status=0\n0\n" });
  // denied: the exec fails with 126 (the enforcer's message is the program's output), the app goes on
  const denied = await httpGet(port, `/run?cmd=${encodeURIComponent("perl -e 'print 1'")}`);
  expect(denied.body).toBe("status=126\nvigil: blocked exec of /usr/bin/perl (exec.deny[0]: /usr/bin/perl*)\n");
  expect((await httpGet(port)).status).toBe(200);

  const events = run.lines.filter((l) => l.container === "web" && l.text.startsWith("{")).map((l) => JSON.parse(l.text) as Record<string, unknown>);
  expect(events.find((e) => e["kind"] === "lifecycle" && e["event"] === "start")?.["argv"]).toEqual(["python3", "/app/app.py"]);
  const blocked = events.filter((e) => e["verdict"] === "blocked");
  expect(blocked.map((e) => [e["exe"], e["argv"]]), run.text("web")).toEqual([["/usr/bin/perl", ["perl", "-e", "print 1"]]]);
  const app = events.find((e) => e["kind"] === "exec" && e["exe"] === "/usr/bin/python3.11");
  expect(blocked[0]?.["ppid"]).toBe(app?.["pid"]);

  run.stop();
  const ended2 = await run.result;
  expect(ended2.exitCode, run.text()).toBe(0);
  expect(run.text("web")).toContain("python app: signal 15, stopping");
  expect(run.text("web")).toContain("python app: stopped");
  const by = Object.fromEntries(ended2.containers.map((c) => [c.name, c]));
  expect(by["vigil"]).toMatchObject({ exitCode: 0, reason: "exited by itself" });
  expect(by["web"]).toMatchObject({ exitCode: 0, reason: "stopped with the task" });
  expect(await leftovers(run.runId)).toEqual([]);
}, 180_000);
