// The real-world corpus (test/fixtures/ecs/real-world/, test/fixtures/dockerfiles/real-world/,
// origins in the READMEs there) goes through the CLI exactly as a user runs it:
// ECS: protect (both modes; --image-config for images whose ENTRYPOINT/CMD the task leaves to the
// image) → the output parses, --check fails before and passes after, protect again is a no-op,
// unprotect gives back the input byte for byte. Files the tool rejects on purpose have their
// diagnostics pinned. The console export is rejected for its `"entryPoint": []` only; without that
// line it goes through the whole cycle, and unprotect gives it back byte for byte except for the
// read-only fields protect removes (they cannot be registered, and are not brought back).
// Dockerfiles: protect dockerfile (--base-config where the final stage inherits from its base) →
// everything before the final stage is untouched, every original line of the final stage is kept
// (the ENTRYPOINT line replaced by its wrapped form), the effective ENTRYPOINT/CMD is the original
// one behind /vigil/enforcer, and protecting again is a no-op.

import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, test } from "vitest";
import { parseDocument } from "yaml";
import { run } from "../cli/helpers.js";

const ecsDir = fileURLToPath(new URL("../fixtures/ecs/real-world/", import.meta.url));
const dockerDir = fileURLToPath(new URL("../fixtures/dockerfiles/real-world/", import.meta.url));
const SIDECAR = "123456789012.dkr.ecr.us-east-1.amazonaws.com/vigil-sidecar:0.1.0";
const imageConfigs = JSON.parse(readFileSync(join(ecsDir, "image-configs.json"), "utf8")) as Record<string, unknown>;
const work = mkdtempSync(join(tmpdir(), "vigil-real-world-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

interface EcsCase {
  file: string;
  /** Keys of image-configs.json passed as --image-config KEY=<inline JSON>. */
  images?: string[];
  protected?: string[];
  agents?: string[];
  /** Copy-mode warnings (a bare containerDefinitions array cannot declare the task volume). */
  copyWarning?: boolean;
  /** Rejected on purpose: every error line, in order. */
  errors?: RegExp[];
}

const ecsCases: EcsCase[] = [
  { file: "aws-containers-tomcat-fargate.json", images: ["tomcat"], protected: ["tomcat-webserver/tomcat-webserver"] },
  // Compact `"key":value`, `{  ` with trailing spaces, a three-line empty list: given back byte for byte.
  { file: "aws-containers-gunicorn-fargate.json", images: ["danriti/gunicorn-flask"], protected: ["gunicorn/gunicorn"] },
  {
    file: "firelens-datadog-output.json",
    images: ["httpd"],
    protected: ["firelens-example-datadog/app"],
    agents: ["firelens-example-datadog/log_router (FireLens log router (Fluent Bit / Fluentd))"],
  },
  {
    file: "ecs-refarch-product-service.yaml",
    images: ["275396840892.dkr.ecr.us-east-1.amazonaws.com/ecs-refarch-cloudformation/product-service:1.0.0"],
    protected: ["TaskDefinition/product-service"],
  },
  {
    file: "appmesh-howto-http-retries.yaml",
    images: ["container:app"],
    protected: ["FrontTaskDef/app", "BlueTaskDef/app"],
    agents: ["FrontTaskDef/envoy (App Mesh proxy (proxyConfiguration))", "BlueTaskDef/envoy (App Mesh proxy (proxyConfiguration))"],
  },
  { file: "pragmatic-terraform-container-definitions.json", images: ["nginx:latest"], protected: ["containerDefinitions/example"], copyWarning: true },
  {
    file: "sorry-cypress-container-definitions.json",
    images: [
      "${docker_registry}library/mongo:4",
      "${docker_registry}agoldis/sorry-cypress-director:2.1.4",
      "${docker_registry}agoldis/sorry-cypress-api:2.1.4",
      "${docker_registry}agoldis/sorry-cypress-dashboard:2.1.4",
    ],
    // `essential` omitted means essential (ECS default): all four are protected.
    protected: ["containerDefinitions/mongo", "containerDefinitions/director", "containerDefinitions/api", "containerDefinitions/dashboard"],
    copyWarning: true,
  },
  {
    file: "hello-datadog-apm-task.json",
    images: ["ghcr.io/int128/hello-datadog-apm/go:main"],
    protected: ["task/main"],
    agents: ["task/datadog-agent (Datadog agent)"],
  },
  {
    file: "xtages-app-container-definitions.json",
    images: ["606626603369.dkr.ecr.us-east-1.amazonaws.com/myapp:1"],
    protected: ["containerDefinitions/myapp"],
    copyWarning: true,
  },
  {
    file: "fargate-windows-iis.json",
    errors: [/runtimePlatform\.operatingSystemFamily: is WINDOWS_SERVER_2019_CORE: Windows tasks are not supported/, /containerDefinitions\[0\]\.image: .* is a Windows image: Windows containers are not supported/],
  },
  {
    file: "endava-httpd-container-definitions.json",
    images: ["${httpd_docker_image}"],
    errors: [/containerDefinitions\[0\]\.entryPoint: is an empty list, which Docker and the ECS API treat differently/],
  },
  {
    // ECS console JSON export: every unset field is `null`; `entryPoint: []` is refused on purpose.
    file: "udacity-console-export-task.json",
    images: ["huannv93/udacity-awsdevops-project03-1_backend"],
    errors: [/containerDefinitions\[0\]\.entryPoint: is an empty list, which Docker and the ECS API treat differently/],
  },
];

const ecsFiles = readdirSync(ecsDir).filter((f) => f !== "README.md" && f !== "image-configs.json");

test("every ECS file of the corpus has a case, and every image config is used", () => {
  expect(ecsCases.map((c) => c.file).sort()).toEqual([...ecsFiles].sort());
  expect(new Set(ecsCases.flatMap((c) => c.images ?? []))).toEqual(new Set(Object.keys(imageConfigs)));
});

function imageArgs(c: EcsCase): string[] {
  return (c.images ?? []).flatMap((key) => {
    const config = imageConfigs[key];
    if (config === undefined) throw new Error(`no image config for ${key}`);
    return ["--image-config", `${key}=${JSON.stringify(config)}`];
  });
}

/** Throws unless the text is valid JSON / YAML (CloudFormation tags such as !Ref are fine). */
function parses(file: string, text: string): void {
  if (!file.endsWith(".yaml")) {
    JSON.parse(text);
    return;
  }
  const errors = parseDocument(text).errors;
  if (errors.length > 0) throw new Error(errors.map((e) => e.message).join("; "));
}

describe.each(["copy", "volumes-from"])("real-world ECS corpus, %s mode", (mode) => {
  for (const c of ecsCases) {
    test(c.file, async () => {
      const path = join(ecsDir, c.file);
      const input = readFileSync(path, "utf8");
      const protect = ["protect", "ecs", path, "--offline", "--sidecar-image", SIDECAR, "--mode", mode, ...imageArgs(c)];
      const result = await run(protect);
      if (c.errors !== undefined) {
        const errorLines = result.stderr.split("\n").filter((l) => l.startsWith("vigil: error: "));
        expect({ code: result.code, stdout: result.stdout }).toEqual({ code: 2, stdout: "" });
        expect(errorLines).toEqual(c.errors.map((re) => expect.stringMatching(re)));
        return;
      }
      expect(result.code).toBe(0);
      const lines = result.stderr.split("\n").filter((l) => l !== "");
      const warnings = lines.filter((l) => l.startsWith("vigil: warning: "));
      expect(warnings).toEqual(mode === "copy" && c.copyWarning === true ? [expect.stringMatching(/copy mode needs a task volume named "vigil"/)] : []);
      expect(lines).toContain(`vigil: protected ${(c.protected ?? []).join(", ")} (${mode} mode)`);
      expect(lines.filter((l) => l.startsWith("vigil: left alone (known agents): "))).toEqual(c.agents === undefined ? [] : [`vigil: left alone (known agents): ${c.agents.join(", ")}`]);
      expect(lines.filter((l) => l.startsWith("vigil: error") || l.startsWith("vigil: left alone (not essential)"))).toEqual([]);

      const out = result.stdout;
      expect(() => parses(c.file, out)).not.toThrow();
      expect(out).toContain(SIDECAR);
      expect(out.match(/\/vigil\/enforcer/g)?.length).toBeGreaterThanOrEqual((c.protected ?? []).length);

      const protectedPath = join(work, `${mode}-${c.file}`);
      writeFileSync(protectedPath, out);
      expect((await run(["protect", "ecs", path, "--check"])).code).toBe(1);
      expect(await run(["protect", "ecs", protectedPath, "--check"])).toEqual({ code: 0, stdout: "protected: every selected container\n", stderr: "" });

      // Idempotent, with and without the image configs (the protected file no longer needs them).
      expect((await run(["protect", "ecs", protectedPath, "--offline", "--sidecar-image", SIDECAR, "--mode", mode, ...imageArgs(c)])).stdout).toBe(out);
      expect((await run(["protect", "ecs", protectedPath, "--offline"])).stdout).toBe(out);

      const restored = await run(["unprotect", "ecs", protectedPath]);
      expect(restored.code).toBe(0);
      expect(restored.stdout).toBe(input);
    });
  }

  test("udacity-console-export-task.json without its entryPoint line: null fields filled and given back, read-only fields removed", async () => {
    const original = readFileSync(join(ecsDir, "udacity-console-export-task.json"), "utf8");
    const input = original.replace('      "entryPoint": [],\n', "");
    expect(input).not.toBe(original);
    const inputPath = join(work, `${mode}-udacity-without-entrypoint.json`);
    writeFileSync(inputPath, input);
    const images = imageArgs({ file: "", images: ["huannv93/udacity-awsdevops-project03-1_backend"] });
    const result = await run(["protect", "ecs", inputPath, "--offline", "--sidecar-image", SIDECAR, "--mode", mode, ...images]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      `vigil: protected be/be (${mode} mode)\n` +
        "vigil: read-only fields removed so the result can be registered (unprotect does not bring them back): taskDefinitionArn, revision, status, requiresAttributes, compatibilities\n",
    );
    const out = JSON.parse(result.stdout) as Record<string, unknown> & { containerDefinitions: Record<string, unknown>[] };
    for (const field of ["taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities"]) expect(out).not.toHaveProperty(field);
    const be = out.containerDefinitions[0] as Record<string, unknown>;
    expect(be["linuxParameters"]).toEqual({ capabilities: { add: ["SYS_PTRACE"] } });
    expect(be["dependsOn"]).toEqual([{ containerName: "vigil", condition: "SUCCESS" }]);
    const record = JSON.parse((be["dockerLabels"] as Record<string, string>)["vigil.protect"] as string) as Record<string, unknown>;
    expect(record["null"]).toEqual(["linuxParameters", "dependsOn", "dockerLabels"]);
    // Unset fields that protect does not touch stay null.
    expect(be["secrets"]).toBeNull();
    expect(be[mode === "copy" ? "volumesFrom" : "mountPoints"]).toEqual([]);

    const protectedPath = join(work, `${mode}-udacity-protected.json`);
    writeFileSync(protectedPath, result.stdout);
    expect(await run(["protect", "ecs", protectedPath, "--check"])).toEqual({ code: 0, stdout: "protected: every selected container\n", stderr: "" });
    expect((await run(["protect", "ecs", protectedPath, "--offline"])).stdout).toBe(result.stdout);

    // Byte for byte the input, less the top-level members of the read-only fields (their lines).
    const withoutReadOnly = input.replace(/^ {2}"(?:taskDefinitionArn|revision|status|requiresAttributes|compatibilities)": (?:\[\n(?: {4}.*\n)* {2}\]|[^\n]*?),\n/gm, "");
    expect(withoutReadOnly.split("\n").length).toBe(input.split("\n").length - 8);
    const restored = await run(["unprotect", "ecs", protectedPath]);
    expect(restored.code).toBe(0);
    expect(restored.stdout).toBe(withoutReadOnly);
    expect(restored.stdout).toContain('"linuxParameters": null,');
    expect(restored.stdout).toContain('"dependsOn": null,');
    expect(restored.stdout).toContain('"dockerLabels": null,');
  });
});

// ---------------------------------------------------------------------------------------------

interface DockerCase {
  file: string;
  /** The base image config the final stage inherits from (--base-config), when it needs one. */
  base?: { Entrypoint: string[] | null; Cmd: string[] | null };
  buildArgs?: string[];
  /** The effective ENTRYPOINT and CMD of the final stage before protection. */
  entrypoint: string[];
  cmd: string[] | null;
  /** The CLI's error when the file is refused. */
  error?: RegExp;
}

const dockerCases: DockerCase[] = [
  { file: "hello-datadog-apm-go.Dockerfile", entrypoint: ["/main"], cmd: null },
  { file: "ecs-refarch-product-service.Dockerfile", entrypoint: ["/app"], cmd: null },
  // FROM amazon/aws-for-fluent-bit with nothing else: both come from the base image.
  { file: "firelens-config-file-type-file.Dockerfile", base: { Entrypoint: null, Cmd: ["/bin/sh", "-c", "/entrypoint.sh"] }, entrypoint: [], cmd: ["/bin/sh", "-c", "/entrypoint.sh"] },
  { file: "firelens-multiline-app.Dockerfile", base: { Entrypoint: null, Cmd: ["/bin/bash"] }, entrypoint: [], cmd: ["python3", "main.py"] },
  { file: "samba-heredoc.Dockerfile", entrypoint: ["/sbin/tini", "--", "/samba.sh"], cmd: null },
  { file: "equihgnn-arg-from.Dockerfile", base: { Entrypoint: null, Cmd: ["/bin/bash"] }, entrypoint: [], cmd: ["/bin/bash"] },
  { file: "colory-shell-cmd.Dockerfile", base: { Entrypoint: null, Cmd: ["/bin/bash"] }, entrypoint: [], cmd: ["/bin/sh", "-c", "npm start"] },
  // ARG BASE_IMAGE without a value is used only by the build stage; the final stage is ubuntu:18.04.
  { file: "btcpool-deploy.Dockerfile", entrypoint: ["/entrypoint.sh"], cmd: null },
  { file: "docker-nginx-mainline-alpine-slim.Dockerfile", entrypoint: ["/docker-entrypoint.sh"], cmd: ["nginx", "-g", "daemon off;"] },
];

const dockerFiles = readdirSync(dockerDir).filter((f) => f !== "README.md");

test("every Dockerfile of the corpus has a case", () => {
  expect(dockerCases.map((c) => c.file).sort()).toEqual([...dockerFiles].sort());
});

/** Logical instructions (continuations joined, comments and heredoc bodies ignored) — enough for these files. */
function instructions(text: string): { line: number; keyword: string; args: string }[] {
  const out: { line: number; keyword: string; args: string }[] = [];
  const lines = text.split("\n");
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let raw = lines[i] ?? "";
    if (raw.trim() === "" || raw.trimStart().startsWith("#")) continue;
    while (raw.endsWith("\\") && i + 1 < lines.length) {
      i++;
      const next = lines[i] ?? "";
      if (next.trimStart().startsWith("#")) {
        raw = `${raw.slice(0, -1)}\\`;
        continue;
      }
      raw = raw.slice(0, -1) + next;
    }
    const heredoc = /<<-?(\w+)/.exec(raw);
    if (heredoc !== null) while (i + 1 < lines.length && (lines[++i] ?? "").trim() !== heredoc[1]);
    const m = /^\s*(\w+)\s*(.*)$/.exec(raw);
    if (m !== null) out.push({ line: start, keyword: (m[1] ?? "").toUpperCase(), args: m[2] ?? "" });
  }
  return out;
}

function execForm(args: string): string[] {
  return args.trimStart().startsWith("[") ? (JSON.parse(args) as string[]) : ["/bin/sh", "-c", args];
}

describe("real-world Dockerfile corpus", () => {
  for (const c of dockerCases) {
    test(c.file, async () => {
      const path = join(dockerDir, c.file);
      const input = readFileSync(path, "utf8");
      const args = ["protect", "dockerfile", path, "--offline", "--sidecar-image", SIDECAR, ...(c.buildArgs ?? []).flatMap((a) => ["--build-arg", a])];
      if (c.base !== undefined) {
        const basePath = join(work, `${c.file}.base.json`);
        writeFileSync(basePath, JSON.stringify(c.base));
        args.push("--base-config", basePath);
      }
      const result = await run(args);
      if (c.error !== undefined) {
        expect(result.code).toBe(2);
        expect(result.stderr).toMatch(c.error);
        return;
      }
      expect(result.code).toBe(0);
      const out = result.stdout;

      // Everything before the final stage is untouched.
      const before = instructions(input);
      const finalFrom = [...before].reverse().find((i) => i.keyword === "FROM");
      expect(finalFrom).toBeDefined();
      const head = input.split("\n").slice(0, (finalFrom as { line: number }).line).join("\n");
      expect(out.startsWith(head)).toBe(true);

      // Every original line is kept, in order, except the final stage's ENTRYPOINT lines (rewritten).
      const inputLines = input.split("\n");
      const entryLines = new Set(before.filter((i) => i.keyword === "ENTRYPOINT" && i.line > (finalFrom as { line: number }).line).map((i) => i.line));
      const kept = inputLines.filter((_l, n) => !entryLines.has(n) && !(n === inputLines.length - 1 && _l === ""));
      const outLines = out.split("\n");
      let at = 0;
      for (const line of kept) {
        const found = outLines.indexOf(line, at);
        expect(found, `line ${JSON.stringify(line)} kept in order`).toBeGreaterThanOrEqual(0);
        at = found + 1;
      }

      // The final stage: COPY of /vigil once, ENTRYPOINT wraps the original, CMD is the original.
      const after = instructions(out);
      const finalFromOut = [...after].reverse().find((i) => i.keyword === "FROM") as { line: number };
      const stage = after.filter((i) => i.line > finalFromOut.line);
      expect(stage.filter((i) => i.keyword === "COPY" && i.args === `--from=${SIDECAR} /vigil /vigil`)).toHaveLength(1);
      const entry = [...stage].reverse().find((i) => i.keyword === "ENTRYPOINT");
      expect(entry && execForm(entry.args)).toEqual(["/vigil/enforcer", "--", ...c.entrypoint]);
      const cmd = [...stage].reverse().find((i) => i.keyword === "CMD");
      expect(cmd === undefined ? null : execForm(cmd.args)).toEqual(c.cmd);
      expect(out).toContain("/vigil/enforcer");

      // Idempotent.
      const protectedPath = join(work, c.file);
      writeFileSync(protectedPath, out);
      const again = await run(["protect", "dockerfile", protectedPath, "--offline", "--sidecar-image", SIDECAR]);
      expect(again.code).toBe(0);
      expect(again.stdout).toBe(out);
    });
  }
});
