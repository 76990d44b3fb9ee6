// vigil protect ecs --console: the console URL in `environment`, the enrollment token only as a
// `secrets` entry, recorded so that unprotect removes exactly that and a re-protect is idempotent.

import { describe, expect, test } from "vitest";
import { parseDocument } from "yaml";
import { createMacroHandler } from "../../src/protect/ecs/cfn-macro.js";
import { protectEcs, unprotectEcs } from "../../src/protect/ecs/protect.js";
import type { ProtectOptions, ProtectResult } from "../../src/protect/ecs/types.js";
import { run } from "../cli/helpers.js";

const SIDECAR = "registry.example/vigil/sidecar:0.1.0";
const TOKEN_ARN = "arn:aws:ssm:eu-west-1:123456789012:parameter/vigil/token";
const CONSOLE = "https://vigil.example.com";
const TOKEN = "vgt_0123456789ab_abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQ";

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

function taskJson(containers: Json[], extra: Record<string, Json> = {}): string {
  return `${JSON.stringify({ family: "web", networkMode: "awsvpc", executionRoleArn: "arn:aws:iam::123456789012:role/exec", ...extra, containerDefinitions: containers }, null, 2)}\n`;
}

const app = { name: "app", image: "app:1", essential: true, entryPoint: ["/app/server"], command: ["--port", "8080"] };

function protect(text: string, options: Partial<ProtectOptions> = {}): ProtectResult {
  return protectEcs(text, { sidecarImage: SIDECAR, ...options });
}

function ok(result: ProtectResult): string {
  if (result.text === null) throw new Error(result.diagnostics.map((d) => `${d.severity}: ${d.path}: ${d.message}`).join("\n"));
  return result.text;
}

function container(text: string, name: string): Record<string, Json> {
  const doc = JSON.parse(text) as { containerDefinitions: Record<string, Json>[] };
  const found = doc.containerDefinitions.find((c) => c["name"] === name);
  if (found === undefined) throw new Error(`no container ${name}`);
  return found;
}

const messages = (result: ProtectResult, severity: "error" | "warning"): string[] =>
  result.diagnostics.filter((d) => d.severity === severity).map((d) => `${d.path}: ${d.message}${d.hint === undefined ? "" : ` | ${d.hint}`}`);

describe("--console with --token-secret", () => {
  const input = taskJson([app]);
  const options = { console: { url: CONSOLE, tokenSecret: TOKEN_ARN } };

  test("adds VIGIL_CONSOLE to environment and VIGIL_TOKEN as a secret, and records both", () => {
    const result = protect(input, options);
    const out = ok(result);
    expect(result.diagnostics).toEqual([]);
    const c = container(out, "app");
    expect(c["environment"]).toEqual([
      { name: "VIGIL_WORKLOAD", value: "web/app" },
      { name: "VIGIL_CONSOLE", value: CONSOLE },
    ]);
    expect(c["secrets"]).toEqual([{ name: "VIGIL_TOKEN", valueFrom: TOKEN_ARN }]);
    const record = JSON.parse((c["dockerLabels"] as Record<string, string>)["vigil.protect"] ?? "") as Record<string, unknown>;
    expect(record["env"]).toEqual(["VIGIL_WORKLOAD", "VIGIL_CONSOLE"]);
    expect(record["secrets"]).toEqual(["VIGIL_TOKEN"]);
    // The sidecar is not connected: only the containers the enforcer runs in.
    expect(container(out, "vigil")["environment"]).toBeUndefined();
  });

  test("unprotect restores the original byte for byte; protecting twice gives the same bytes", () => {
    const once = ok(protect(input, options));
    expect(ok(protect(once, options))).toBe(once);
    expect(ok(unprotectEcs(once))).toBe(input);
  });

  test("existing environment and secrets are appended to, and kept by unprotect", () => {
    const withLists = taskJson([{ ...app, environment: [{ name: "PORT", value: "8080" }], secrets: [{ name: "DB", valueFrom: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:db" }] }]);
    const out = ok(protect(withLists, options));
    const c = container(out, "app");
    expect((c["environment"] as Json[]).map((e) => (e as { name: string }).name)).toEqual(["PORT", "VIGIL_WORKLOAD", "VIGIL_CONSOLE"]);
    expect((c["secrets"] as Json[]).map((e) => (e as { name: string }).name)).toEqual(["DB", "VIGIL_TOKEN"]);
    expect(ok(unprotectEcs(out))).toBe(withLists);
  });

  test("a re-protect without console options keeps the connection; console: null removes exactly it", () => {
    const once = ok(protect(input, options));
    expect(ok(protect(once, {}))).toBe(once);
    const removed = ok(protect(once, { console: null }));
    expect(removed).toBe(ok(protect(input)));
    // A new URL replaces the old one, nothing is left twice.
    const moved = container(ok(protect(once, { console: { url: "https://other.example.com:8443/vigil", tokenSecret: TOKEN_ARN } })), "app");
    expect(moved["environment"]).toEqual([
      { name: "VIGIL_WORKLOAD", value: "web/app" },
      { name: "VIGIL_CONSOLE", value: "https://other.example.com:8443/vigil" },
    ]);
    expect(moved["secrets"]).toEqual([{ name: "VIGIL_TOKEN", valueFrom: TOKEN_ARN }]);
  });

  test("the token never appears in clear; a literal token is refused with how to store it in SSM", () => {
    expect(ok(protect(input, options))).not.toContain("vgt_");
    const result = protect(input, { console: { url: CONSOLE, tokenSecret: TOKEN } });
    expect(result.text).toBeNull();
    const [message] = messages(result, "error");
    expect(message).toContain("--token-secret: that is an enrollment token itself");
    expect(message).toContain("aws ssm put-parameter --name /vigil/token --type SecureString");
    expect(message).not.toContain(TOKEN);
  });

  test("a token secret that is neither an ARN nor a parameter name is refused", () => {
    const result = protect(input, { console: { url: CONSOLE, tokenSecret: "arn:aws:s3:::bucket/token" } });
    expect(messages(result, "error")).toEqual([expect.stringContaining('--token-secret "arn:aws:s3:::bucket/token": expected the ARN of an SSM parameter')]);
    expect(ok(protect(input, { console: { url: CONSOLE, tokenSecret: "/vigil/token" } }))).toContain('"valueFrom": "/vigil/token"');
    expect(ok(protect(input, { console: { url: CONSOLE, tokenSecret: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:vigil-token-AbCdEf" } }))).toContain("secretsmanager");
  });

  test("without an execution role: the existing warning names the token (and the policy too)", () => {
    const noRole = `${JSON.stringify({ family: "web", containerDefinitions: [app] }, null, 2)}\n`;
    const result = protect(noRole, options);
    expect(result.text).not.toBeNull();
    expect(messages(result, "warning")).toEqual([
      "executionRoleArn: is not set: ECS needs a task execution role to read the enrollment token (VIGIL_TOKEN) from SSM or Secrets Manager | add an execution role allowed ssm:GetParameters (or secretsmanager:GetSecretValue) on it",
    ]);
    const both = protect(noRole, { ...options, policySecret: "arn:aws:ssm:eu-west-1:123456789012:parameter/vigil/policy" });
    expect(messages(both, "warning")).toEqual([expect.stringContaining("to read the policy and the enrollment token (VIGIL_TOKEN) from SSM")]);
  });
});

describe("console URL", () => {
  const input = taskJson([app]);
  const refused: [string, string][] = [
    ["ftp://vigil.example.com", "must start with https://"],
    ["vigil.example.com", "must start with https://"],
    ["http://vigil.example.com", "plain http would send the enrollment token and the events unencrypted"],
    ["https://10.0.0.5", "HTTPS needs the console's DNS name"],
    ["https://[::1]:8443", "HTTPS needs the console's DNS name"],
    ["https://user:pw@vigil.example.com", "must not contain user info, a query or a fragment"],
    ["https://vigil.example.com/?x=1", "must not contain user info, a query or a fragment"],
    ["https://vigil.example.com/a b", "the path has a space"],
  ];
  test.each(refused)("%s is refused: %s", (url, why) => {
    const result = protect(input, { console: { url, tokenSecret: TOKEN_ARN } });
    expect(result.text).toBeNull();
    expect(messages(result, "error")).toEqual([expect.stringContaining(`--console ${JSON.stringify(url)}: ${why}`)]);
  });

  test("http:// with insecure: VIGIL_CONSOLE_INSECURE=1 is added and a warning says what it costs", () => {
    const result = protect(input, { console: { url: "http://127.0.0.1:8080", tokenSecret: TOKEN_ARN, insecure: true } });
    const c = container(ok(result), "app");
    expect(c["environment"]).toEqual([
      { name: "VIGIL_WORKLOAD", value: "web/app" },
      { name: "VIGIL_CONSOLE", value: "http://127.0.0.1:8080" },
      { name: "VIGIL_CONSOLE_INSECURE", value: "1" },
    ]);
    expect(messages(result, "warning")).toEqual([expect.stringContaining("--console http://127.0.0.1:8080 is plain http")]);
    expect(ok(unprotectEcs(ok(result)))).toBe(input);
    // Kept by a re-protect, like the URL.
    expect(ok(protect(ok(result)))).toBe(ok(result));
  });
});

describe("what the container already has", () => {
  const options = { console: { url: CONSOLE, tokenSecret: TOKEN_ARN } };

  test("VIGIL_TOKEN in clear is an error with --console, a warning without", () => {
    const input = taskJson([{ ...app, environment: [{ name: "VIGIL_TOKEN", value: TOKEN }] }]);
    const refused = protect(input, options);
    expect(messages(refused, "error")).toEqual([expect.stringMatching(/^containerDefinitions\[0\]\.environment\[0\]: sets VIGIL_TOKEN in clear.*aws ssm put-parameter/)]);
    const warned = protect(input);
    expect(warned.text).not.toBeNull();
    expect(messages(warned, "warning")).toEqual([expect.stringContaining("holds VIGIL_TOKEN, the console enrollment token, in clear")]);
  });

  test("VIGIL_CONSOLE of the user's own, or a VIGIL_TOKEN secret of theirs with --token-secret, is an error", () => {
    const own = protect(taskJson([{ ...app, environment: [{ name: "VIGIL_CONSOLE", value: CONSOLE }] }]), options);
    expect(messages(own, "error")).toEqual([expect.stringContaining("already sets VIGIL_CONSOLE, and --console gives the console")]);
    const secret = protect(taskJson([{ ...app, secrets: [{ name: "VIGIL_TOKEN", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/mine" }] }]), options);
    expect(messages(secret, "error")).toEqual([expect.stringContaining("already takes VIGIL_TOKEN from a secret, and --token-secret gives another | remove that entry, or pass --token-env")]);
  });

  test("--token-env: the user's own VIGIL_TOKEN secret is used and left alone; with nothing giving it, a warning", () => {
    const mine = taskJson([{ ...app, secrets: [{ name: "VIGIL_TOKEN", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/mine" }] }]);
    const result = protect(mine, { console: { url: CONSOLE } });
    const out = ok(result);
    expect(result.diagnostics).toEqual([]);
    expect(container(out, "app")["secrets"]).toEqual([{ name: "VIGIL_TOKEN", valueFrom: "arn:aws:ssm:eu-west-1:123456789012:parameter/mine" }]);
    expect(ok(unprotectEcs(out))).toBe(mine);
    // Re-protecting keeps --token-env (no secret of vigil's appears).
    expect(ok(protect(out))).toBe(out);
    const none = protect(taskJson([app]), { console: { url: CONSOLE } });
    expect(none.text).not.toBeNull();
    expect(messages(none, "warning")).toEqual([expect.stringContaining("nothing in the task definition gives the container VIGIL_TOKEN")]);
  });

  test("secrets given through an intrinsic cannot take the token", () => {
    const template = JSON.stringify({
      Resources: { T: { Type: "AWS::ECS::TaskDefinition", Properties: { ExecutionRoleArn: "r", ContainerDefinitions: [{ Name: "app", Image: "a", EntryPoint: ["/a"], Secrets: { "Fn::If": ["C", [], []] } }] } } },
    });
    expect(messages(protect(template, options), "error")).toEqual([expect.stringContaining("Secrets: is given through Fn::If; vigil adds the enrollment token to it")]);
  });
});

describe("CloudFormation", () => {
  const yaml = `# Service stack
Resources:
  Web: # the web tier
    Type: AWS::ECS::TaskDefinition
    Properties:
      Family: web
      ExecutionRoleArn: !GetAtt ExecRole.Arn
      ContainerDefinitions:
        - Name: web
          Image: !Ref Image   # from the pipeline
          EntryPoint: [/app/server]
          Command: ["--port", "8080"]
          Secrets:
            - Name: DB
              ValueFrom: !Ref DbSecret
`;
  const options = { console: { url: CONSOLE, tokenSecret: TOKEN_ARN } };

  test("YAML: PascalCase keys, comments and intrinsics kept, unprotect gives the bytes back", () => {
    const out = ok(protect(yaml, options));
    expect(out).toContain("  Web: # the web tier\n");
    expect(out).toContain("          Image: !Ref Image   # from the pipeline\n");
    const web = (parseDocument(out).toJS() as { Resources: { Web: { Properties: { ContainerDefinitions: Record<string, unknown>[] } } } }).Resources.Web.Properties.ContainerDefinitions[0] ?? {};
    expect(web["Environment"]).toEqual([
      { Name: "VIGIL_WORKLOAD", Value: "web/web" },
      { Name: "VIGIL_CONSOLE", Value: CONSOLE },
    ]);
    expect(web["Secrets"]).toEqual([
      { Name: "DB", ValueFrom: "DbSecret" },
      { Name: "VIGIL_TOKEN", ValueFrom: TOKEN_ARN },
    ]);
    expect(out).toContain("ValueFrom: !Ref DbSecret");
    expect(ok(protect(out, options))).toBe(out);
    expect(ok(unprotectEcs(out))).toBe(yaml);
  });

  test("JSON template: edited in place, unprotect byte-equal", () => {
    const json = `${JSON.stringify({ Resources: { Web: { Type: "AWS::ECS::TaskDefinition", Properties: { ExecutionRoleArn: { "Fn::GetAtt": ["R", "Arn"] }, ContainerDefinitions: [{ Name: "web", Image: "w", EntryPoint: ["/w"] }] } } } }, null, 4)}\n`;
    const out = ok(protect(json, options));
    expect(out).toContain('"Name": "VIGIL_TOKEN",');
    expect(out).toContain(`"ValueFrom": "${TOKEN_ARN}"`);
    expect(ok(unprotectEcs(out))).toBe(json);
  });

  test("the macro takes Console and TokenParameter, and refuses Console alone", async () => {
    const handler = createMacroHandler({ resolver: null, env: {} });
    const template = { Resources: { Web: { Type: "AWS::ECS::TaskDefinition", Properties: { ExecutionRoleArn: "r", ContainerDefinitions: [{ Name: "web", Image: "w", EntryPoint: ["/w"] }] } } } };
    const done = await handler({ requestId: "1", fragment: template, params: { SidecarImage: SIDECAR, Console: CONSOLE, TokenParameter: TOKEN_ARN } });
    expect(done.status).toBe("success");
    expect(JSON.stringify(done.fragment)).toContain(`{"Name":"VIGIL_TOKEN","ValueFrom":"${TOKEN_ARN}"}`);
    const alone = await handler({ requestId: "2", fragment: template, params: { SidecarImage: SIDECAR, Console: CONSOLE } });
    expect(alone).toMatchObject({ status: "failure", errorMessage: expect.stringContaining("Console needs TokenParameter") });
    const literal = await handler({ requestId: "3", fragment: template, params: { SidecarImage: SIDECAR, Console: CONSOLE, TokenParameter: TOKEN } });
    expect(literal).toMatchObject({ status: "failure", errorMessage: expect.stringContaining("TokenParameter: that is an enrollment token itself") });
  });
});

describe("the CLI", () => {
  const input = taskJson([app]);
  const base = ["protect", "ecs", "-", "--offline", "--sidecar-image", SIDECAR];

  test("--console URL --token-secret ARN", async () => {
    const r = await run([...base, "--console", CONSOLE, "--token-secret", TOKEN_ARN], { stdin: input });
    expect(r.stderr).toBe("vigil: protected web/app (copy mode)\n");
    expect(r.code).toBe(0);
    expect(container(r.stdout, "app")["secrets"]).toEqual([{ name: "VIGIL_TOKEN", valueFrom: TOKEN_ARN }]);
    const again = await run([...base], { stdin: r.stdout });
    expect(again.stdout).toBe(r.stdout);
    const removed = await run([...base, "--no-console"], { stdin: r.stdout });
    expect(removed.stdout).not.toContain("VIGIL_CONSOLE");
    const undone = await run(["unprotect", "ecs", "-"], { stdin: r.stdout });
    expect(undone.stdout).toBe(input);
  });

  test("--console-insecure prints a warning", async () => {
    const r = await run([...base, "--console", "http://localhost:8080", "--token-secret", TOKEN_ARN, "--console-insecure"], { stdin: input });
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("vigil: warning: <stdin>: --console http://localhost:8080 is plain http");
    expect(r.stdout).toContain('"name": "VIGIL_CONSOLE_INSECURE",');
  });

  test.each([
    [["--console", CONSOLE], "--console needs to know where the enrollment token comes from"],
    [["--token-secret", TOKEN_ARN], "--token-secret only goes with --console URL"],
    [["--console", CONSOLE, "--token-secret", TOKEN_ARN, "--token-env"], "give --token-secret or --token-env, not both"],
    [["--console", CONSOLE, "--token-env", "--no-console"], "--no-console removes the console connection"],
    [["--console", CONSOLE, "--token", TOKEN], "--token would write the enrollment token in clear into the task definition"],
  ])("%j is refused", async (extra, why) => {
    const r = await run([...base, ...extra], { stdin: input });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(why);
    expect(r.stdout).toBe("");
  });

  test("a literal token for --token-secret: exit 2, nothing written, the SSM hint", async () => {
    const r = await run([...base, "--console", CONSOLE, "--token-secret", TOKEN], { stdin: input });
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("vigil: error: <stdin>: --token-secret: that is an enrollment token itself");
    expect(r.stderr).toContain("aws ssm put-parameter");
    expect(r.stderr).not.toContain(TOKEN);
  });
});
