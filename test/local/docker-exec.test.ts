// `docker exec` (what ECS Exec does) into a task container run by vigil local run: the exec'd
// process is not a descendant of the enforcer, which adopts it within 5 ms (docs/enforcer-cli.md,
// "Processes entered from outside"). A shell entered this way that then runs a denied program is
// blocked with an event; a denied program exec'd directly is killed once adopted; allowed commands
// work as before; the task itself is unaffected.

import { beforeAll, expect, it, onTestFinished } from "vitest";
import { runProgram } from "./e2e-helpers.js";
import { setupEngine, leftovers, startLocal, type LocalImage, type LocalRun } from "./helpers.js";

let client: string;
let img: Record<LocalImage, string>;

beforeAll(async () => {
  ({ client, images: img } = await setupEngine());
}, 1_200_000);

const POLICY = ["vigil-policy 1", "name docker-exec", "mode enforce", "exec.deny /usr/bin/wget", "exec.deny /usr/bin/nc*", "end", ""].join("\n");

function startProtectedNginx(policy = POLICY): LocalRun {
  const run = startLocal(
    {
      family: "docker-exec",
      containerDefinitions: [
        { name: "vigil", image: img.sidecar, essential: false },
        {
          name: "app",
          image: img.nginx,
          dependsOn: [{ containerName: "vigil", condition: "SUCCESS" }],
          volumesFrom: [{ sourceContainer: "vigil", readOnly: true }],
          entryPoint: ["/vigil/enforcer", "--", "/docker-entrypoint.sh"],
          command: ["nginx", "-g", "daemon off;"],
          linuxParameters: { capabilities: { add: ["SYS_PTRACE"] } },
          environment: [{ name: "VIGIL_POLICY", value: policy }],
        },
      ],
    },
    { network: "none", timeoutMs: 120_000 },
  );
  onTestFinished(async () => {
    run.stop();
    await run.result;
  });
  return run;
}

function events(run: LocalRun): Record<string, unknown>[] {
  return run.lines.filter((l) => l.container === "app" && l.text.startsWith("{")).map((l) => JSON.parse(l.text) as Record<string, unknown>);
}

async function waitForEvent(run: LocalRun, predicate: (e: Record<string, unknown>) => boolean, ms = 10_000): Promise<Record<string, unknown>> {
  const until = Date.now() + ms;
  for (;;) {
    const e = events(run).find(predicate);
    if (e !== undefined) return e;
    if (Date.now() > until) throw new Error(`no such event:\n${run.text("app")}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

it("docker exec sh -c '…': the entered shell is adopted, the denied program it runs fails with 126 and is reported blocked; allowed commands still work", async () => {
  const run = startProtectedNginx();
  await run.waitFor("app", /start worker process/);
  const id = run.started.get("app") ?? "";
  expect(id).not.toBe("");

  // An allowed command through docker exec behaves as without the enforcer.
  const ok = await runProgram(client, ["exec", id, "sh", "-c", "sleep 1; cat /usr/share/nginx/html/index.html"]);
  expect(ok.code, ok.stderr).toBe(0);
  expect(ok.stdout).toContain("hello from nginx");

  // The shell sleeps first: the enforcer looks every 5 ms, and adopts it before it runs wget.
  const denied = await runProgram(client, ["exec", id, "sh", "-c", "sleep 1; /usr/bin/wget -q -O /dev/null http://127.0.0.1:1/; echo wget-status=$?"]);
  expect(denied.code, denied.stderr).toBe(0);
  expect(denied.stdout).toBe("wget-status=126\n");
  expect(denied.stderr).toContain("vigil: blocked exec of /usr/bin/wget");

  // Adopted as the shell ("attach"), or — when the scan catches the process docker exec starts
  // before it has exec'd the shell — adopted earlier, with the shell's exec seen through ptrace.
  const adopted = await waitForEvent(run, (e) => e["kind"] === "exec" && Array.isArray(e["argv"]) && (e["argv"] as string[]).includes("sleep 1; /usr/bin/wget -q -O /dev/null http://127.0.0.1:1/; echo wget-status=$?"));
  expect(adopted).toMatchObject({ verdict: "allowed", exe: "/bin/busybox" });
  expect(["attach", "ptrace"]).toContain(adopted["mechanism"]);
  expect(events(run).some((e) => e["mechanism"] === "attach"), run.text("app")).toBe(true);
  const blocked = await waitForEvent(run, (e) => e["kind"] === "exec" && e["verdict"] === "blocked");
  expect(blocked).toMatchObject({ exe: "/usr/bin/wget", rule: "exec.deny[0]", ppid: adopted["pid"] });

  // The task is unaffected: nginx still runs, and stops cleanly.
  const alive = await runProgram(client, ["exec", id, "sh", "-c", "sleep 0.3; kill -0 $(cat /run/nginx.pid) && echo nginx-alive"]);
  expect(alive.stdout).toBe("nginx-alive\n");
  run.stop();
  const result = await run.result;
  expect(result.exitCode, run.text()).toBe(0);
  expect(await leftovers(run.runId)).toEqual([]);
}, 120_000);

it("docker exec of a denied program itself: refused or killed once adopted, and reported blocked", async () => {
  const run = startProtectedNginx();
  await run.waitFor("app", /start worker process/);
  const id = run.started.get("app") ?? "";
  // busybox nc listening: would run forever. The enforcer looks every 50 ms: it finds the process
  // either before runc's exec helper runs nc (then the exec is refused: 126, decided by ptrace) or
  // after (then nc is killed: 137, decided at adoption).
  const started = Date.now();
  const r = await runProgram(client, ["exec", id, "/usr/bin/nc", "-l", "-p", "9999"], { killAfterMs: 30_000 });
  const took = Date.now() - started;
  expect([126, 137], `${r.stdout}\n${r.stderr}`).toContain(r.code);
  expect(r.stderr).toBe("vigil: blocked exec of /usr/bin/nc (exec.deny[1]: /usr/bin/nc*)\n");
  expect(took).toBeLessThan(5_000);
  const blocked = await waitForEvent(run, (e) => e["kind"] === "exec" && e["verdict"] === "blocked" && e["exe"] === "/usr/bin/nc");
  expect(blocked).toMatchObject({ mechanism: r.code === 137 ? "attach" : "ptrace", rule: "exec.deny[1]" });
  run.stop();
  expect((await run.result).exitCode, run.text()).toBe(0);
}, 120_000);

// security-review 5b: the session also gets the application's seccomp filter, so files.* rules apply to it.
it("docker exec sh -c '…': the session cannot append to /etc/passwd (files.readOnly: EPERM and a file event), nor can what it starts; its other writes work", async () => {
  const policy = ["vigil-policy 1", "name docker-exec-files", "mode enforce", "files.readOnly /etc/passwd", "exec.deny /usr/bin/wget", "end", ""].join("\n");
  const run = startProtectedNginx(policy);
  await run.waitFor("app", /start worker process/);
  const id = run.started.get("app") ?? "";
  expect(id).not.toBe("");
  const r = await runProgram(client, [
    "exec",
    id,
    "sh",
    "-c",
    "sleep 1; echo 'hacked:x:0:0::/:/bin/sh' >> /etc/passwd; echo passwd=$?; sh -c 'echo x >> /etc/passwd'; echo child=$?; echo mine > /tmp/own && cat /tmp/own; grep -c hacked /etc/passwd",
  ]);
  expect(r.stdout.trim().split("\n"), r.stderr).toEqual(["passwd=1", "child=1", "mine", "0"]);
  const attached = await waitForEvent(run, (e) => e["mechanism"] === "attach");
  expect(attached["filter"]).toBe(true);
  const refused = await waitForEvent(run, (e) => e["kind"] === "file" && e["path"] === "/etc/passwd");
  expect(refused).toMatchObject({ verdict: "blocked", rule: "files.readOnly[0]" });
  await waitForEvent(run, (e) => e["kind"] === "file" && e["path"] === "/etc/passwd" && e["pid"] !== refused["pid"]); // the child's
  run.stop();
  expect((await run.result).exitCode, run.text()).toBe(0);
  expect(await leftovers(run.runId)).toEqual([]);
}, 120_000);
