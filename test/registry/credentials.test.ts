// Where credentials come from: explicit, VIGIL_REGISTRY_*, docker config.json (auths, credHelpers,
// credsStore), in that order.

import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { findCredential } from "../../src/registry/credentials.js";
import { freshDir } from "../cli/helpers.js";

function dockerConfig(config: unknown): Record<string, string> {
  const dir = freshDir("vigil-docker-config-");
  writeFileSync(join(dir, "config.json"), typeof config === "string" ? config : JSON.stringify(config));
  return { DOCKER_CONFIG: dir, HOME: "/nonexistent", PATH: process.env["PATH"] ?? "" };
}
const b64 = (s: string): string => Buffer.from(s).toString("base64");

describe("findCredential", () => {
  it("explicit credentials win over everything", async () => {
    const env = { ...dockerConfig({ auths: { "r.example": { auth: b64("a:b") } } }), VIGIL_REGISTRY_USERNAME: "e", VIGIL_REGISTRY_PASSWORD: "f" };
    expect(await findCredential("r.example", { env, explicit: { username: "x", password: "y" } })).toMatchObject({ kind: "basic", username: "x", password: "y" });
    expect(await findCredential("r.example", { env, explicit: { token: "t" } })).toMatchObject({ kind: "bearer", token: "t" });
  });

  it("VIGIL_REGISTRY_USERNAME/PASSWORD, limited to VIGIL_REGISTRY_HOST when set", async () => {
    const env = { HOME: "/nonexistent", VIGIL_REGISTRY_USERNAME: "e", VIGIL_REGISTRY_PASSWORD: "f" };
    expect(await findCredential("r.example", { env })).toMatchObject({ kind: "basic", username: "e", password: "f", source: "VIGIL_REGISTRY_USERNAME/VIGIL_REGISTRY_PASSWORD" });
    expect(await findCredential("other.example", { env: { ...env, VIGIL_REGISTRY_HOST: "r.example" } })).toBeNull();
  });

  it("docker config auths: host, https:// URL, username/password fields, identity token", async () => {
    const env = dockerConfig({
      auths: {
        "a.example:5000": { auth: b64("ua:pa:with:colons") },
        "https://b.example": { username: "ub", password: "pb" },
        "c.example": { identitytoken: "refresh-me" },
        "https://index.docker.io/v1/": { auth: b64("hub:secret") },
      },
    });
    expect(await findCredential("a.example:5000", { env })).toMatchObject({ kind: "basic", username: "ua", password: "pa:with:colons" });
    expect(await findCredential("b.example", { env })).toMatchObject({ kind: "basic", username: "ub", password: "pb" });
    expect(await findCredential("c.example", { env })).toMatchObject({ kind: "identity-token", token: "refresh-me" });
    expect(await findCredential("docker.io", { env })).toMatchObject({ kind: "basic", username: "hub" });
    expect(await findCredential("d.example", { env })).toBeNull();
  });

  it("credential helpers: credHelpers per host, credsStore for the rest", async () => {
    const bin = freshDir("vigil-bin-");
    const helper = (name: string, body: string): void => {
      const file = join(bin, `docker-credential-${name}`);
      writeFileSync(file, `#!/bin/sh\nread host\n${body}\n`);
      chmodSync(file, 0o755);
    };
    helper("per-host", 'echo "{\\"Username\\":\\"helper-user\\",\\"Secret\\":\\"for-$host\\"}"');
    helper("store", 'if [ "$host" = known.example ]; then echo "{\\"Username\\":\\"<token>\\",\\"Secret\\":\\"tok\\"}"; else echo "credentials not found in native keychain"; exit 1; fi');
    mkdirSync(join(bin, "cfg"));
    writeFileSync(join(bin, "cfg", "config.json"), JSON.stringify({ credHelpers: { "h.example": "per-host" }, credsStore: "store" }));
    const env = { DOCKER_CONFIG: join(bin, "cfg"), HOME: "/nonexistent", PATH: `${bin}:/usr/bin:/bin` };
    expect(await findCredential("h.example", { env })).toMatchObject({ kind: "basic", username: "helper-user", password: "for-h.example", source: "docker-credential-per-host" });
    expect(await findCredential("known.example", { env })).toMatchObject({ kind: "identity-token", token: "tok" });
    expect(await findCredential("unknown.example", { env })).toBeNull();
  });

  it("a broken config.json is an error naming the file", async () => {
    const env = dockerConfig("{not json");
    await expect(findCredential("r.example", { env })).rejects.toThrow(/config\.json: not valid JSON/);
  });

  it("ECR comes last, only when nothing else matched", async () => {
    const calls: string[] = [];
    const ecr = async (host: string) => {
      calls.push(host);
      return { kind: "basic" as const, username: "AWS", password: "p", source: "ECR GetAuthorizationToken" };
    };
    const env = dockerConfig({ auths: { "1.dkr.example": { auth: b64("a:b") } } });
    expect(await findCredential("1.dkr.example", { env, ecr })).toMatchObject({ username: "a" });
    expect(await findCredential("2.dkr.example", { env, ecr })).toMatchObject({ username: "AWS" });
    expect(calls).toEqual(["2.dkr.example"]);
  });
});
