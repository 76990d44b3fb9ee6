// vigil local run through the command line: environment files, secrets, what it cannot emulate,
// and SIGTERM to the real `vigil` process.

import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { REPO } from "../helpers/docker.js";
import { run } from "../cli/helpers.js";
import { leftovers, setupEngine, type LocalImage } from "./helpers.js";

let img: Record<LocalImage, string>;
const VIGIL = join(REPO, "dist/cli/main.js");

beforeAll(async () => {
  img = (await setupEngine()).images;
}, 1_200_000);

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function taskDir(td: unknown, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "vigil-local-cli-"));
  dirs.push(dir);
  writeFileSync(join(dir, "task.json"), JSON.stringify(td, null, 2));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

it("environment files (S3 ones supplied with --env-file ARN=FILE, local ones read): environment wins, first file wins", async () => {
  const arn = "arn:aws:s3:::my-bucket/app.env";
  const dir = taskDir(
    {
      family: "envfiles",
      containerDefinitions: [
        {
          name: "app",
          image: img.scratch,
          environment: [{ name: "B", value: "from-environment" }],
          environmentFiles: [{ value: arn, type: "s3" }, { value: "local.env", type: "s3" }],
          secrets: [{ name: "TOKEN", valueFrom: "arn:aws:ssm:eu-west-1:1:parameter/token" }],
          command: ["sh", "-c", 'echo "A=$A B=$B C=$C TOKEN=$TOKEN"'],
        },
      ],
    },
    { "s3.env": "# comment\nA=from-s3\nB=from-s3\n\n", "local.env": "A=from-local\nC=c = with spaces\n" },
  );
  const r = await run(["local", "run", "task.json", "--env-file", `${arn}=s3.env`, "--secret", "TOKEN=t0k"], { cwd: dir });
  expect(r.stderr).toContain("task stopped: essential container app exited with code 0; exit code 0");
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toBe("app   | A=from-s3 B=from-environment C=c = with spaces TOKEN=t0k\n");
});

it("what it cannot emulate is reported: secrets and S3 files without a local value are errors with a hint; other fields are warnings", async () => {
  const dir = taskDir({
    family: "report",
    taskRoleArn: "arn:aws:iam::1:role/r",
    containerDefinitions: [
      {
        name: "app",
        image: img.scratch,
        portMappings: [{ containerPort: 80 }],
        environmentFiles: [{ value: "arn:aws:s3:::b/k.env", type: "s3" }],
        secrets: [{ name: "DB", valueFrom: "arn:aws:secretsmanager:eu-west-1:1:secret:db" }],
        dependsOn: [{ containerName: "ghost", condition: "START" }],
      },
    ],
  });
  const r = await run(["local", "run", "task.json"], { cwd: dir });
  expect(r.code).toBe(2);
  const file = join(dir, "task.json");
  expect(r.stderr).toContain(`error: ${file}: containerDefinitions[0].environmentFiles[0].value: arn:aws:s3:::b/k.env: this file is not available locally\n  hint: download it and pass --env-file arn:aws:s3:::b/k.env=FILE`);
  expect(r.stderr).toContain(`error: ${file}: containerDefinitions[0].secrets[0]: secret DB comes from arn:aws:secretsmanager:eu-west-1:1:secret:db, which vigil local run does not read\n  hint: pass --secret DB=VALUE, or --secret DB to take it from this environment`);
  expect(r.stderr).toContain(`error: ${file}: containerDefinitions[0].dependsOn[0].containerName: no container named "ghost" in this task`);
  expect(r.stderr).toContain(`warning: ${file}: containerDefinitions[0].portMappings: not emulated: ports are not published`);
  expect(r.stderr).toContain(`warning: ${file}: taskRoleArn: not emulated: containers get no task-role credentials`);
});

it("SIGTERM to vigil local run stops the task like ECS: nginx exits gracefully, the task exits 0, nothing is left", async () => {
  expect(existsSync(VIGIL), "dist/cli/main.js: run npm run build").toBe(true);
  const dir = taskDir({
    family: "sigterm",
    containerDefinitions: [
      { name: "web", image: img.nginx, environment: [{ name: "NGINX_PORT", value: "18080" }] },
      { name: "side", image: img.scratch, essential: false, command: ["sleep", "600"], stopTimeout: 1 },
    ],
  });
  const child = spawn("node", [VIGIL, "local", "run", join(dir, "task.json"), "--timeout", "60"], { stdio: ["ignore", "pipe", "pipe"] });
  const killer = setTimeout(() => child.kill("SIGKILL"), 90_000);
  let stderr = "";
  const seen = new Promise<void>((resolve, reject) => {
    child.stderr.setEncoding("utf8").on("data", (c: string) => {
      stderr += c;
      if (stderr.includes("side: started") && stderr.includes("start worker process")) resolve();
    });
    child.on("close", () => reject(new Error(`ended early:\n${stderr}`)));
  });
  child.stdout.resume();
  const closed = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  await seen;
  const runId = /\(run ([0-9a-f]+)\)/.exec(stderr)?.[1] ?? "";
  expect(runId).not.toBe("");
  child.kill("SIGTERM");
  const code = await closed;
  clearTimeout(killer);
  expect(code, stderr).toBe(0);
  expect(stderr).toContain("task stopping: stop requested (SIGTERM)");
  expect(stderr).toMatch(/web +\| .*signal 15 \(SIGTERM\) received/);
  expect(stderr).toMatch(/side +no +137 +- +killed \(SIGKILL\) after stopTimeout 1s/);
  expect(await leftovers(runId)).toEqual([]);
}, 120_000);

