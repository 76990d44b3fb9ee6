// The credentials `vigil local run` sends with the engine's pulls (X-Registry-Auth): found like the
// registry client finds them, encoded as the engine decodes them (base64, URL alphabet, padded).

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { registryAuthHeader } from "../../src/local/docker-client.js";
import { pullAuth } from "../../src/local/registry-auth.js";
import { freshDir } from "../cli/helpers.js";

const decode = (h: string): unknown => JSON.parse(Buffer.from(h.replace(/-/g, "+").replace(/_/g, "/"), "base64").toString("utf8"));

it("encodes with the URL alphabet and padding", () => {
  const h = registryAuthHeader({ username: "u?>", password: "p~~~" }, "r:5000");
  expect(h).toMatch(/^[A-Za-z0-9_-]+=*$/);
  expect(h.length % 4).toBe(0);
  expect(decode(h)).toEqual({ username: "u?>", password: "p~~~", serveraddress: "r:5000" });
  expect(decode(registryAuthHeader({ registrytoken: "t" }, "r"))).toEqual({ registrytoken: "t" });
});

it("finds credentials in VIGIL_REGISTRY_* and Docker's config; none: anonymous", async () => {
  const dir = freshDir();
  writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: { "127.0.0.1:5000": { auth: Buffer.from("alice:s3cret").toString("base64") }, "ghcr.io": { identitytoken: "refresh" } } }));
  const env = { HOME: dir, DOCKER_CONFIG: dir };
  expect(decode((await pullAuth("127.0.0.1:5000/app:1", env)) ?? "")).toEqual({ username: "alice", password: "s3cret", serveraddress: "127.0.0.1:5000" });
  expect(decode((await pullAuth("ghcr.io/o/app@sha256:" + "a".repeat(64), env)) ?? "")).toEqual({ identitytoken: "refresh", serveraddress: "ghcr.io" });
  expect(await pullAuth("quay.io/o/app", env)).toBeNull();
  expect(await pullAuth("nginx", env)).toBeNull();
  const vigilEnv = { ...env, VIGIL_REGISTRY_USERNAME: "bob", VIGIL_REGISTRY_PASSWORD: "pw", VIGIL_REGISTRY_HOST: "quay.io" };
  expect(decode((await pullAuth("quay.io/o/app", vigilEnv)) ?? "")).toEqual({ username: "bob", password: "pw", serveraddress: "quay.io" });
  // Docker Hub's credentials are keyed by its v1 URL, and the engine expects that server address.
  writeFileSync(join(dir, "config.json"), JSON.stringify({ auths: { "https://index.docker.io/v1/": { auth: Buffer.from("carol:pw").toString("base64") } } }));
  expect(decode((await pullAuth("nginx:1.27", env)) ?? "")).toEqual({ username: "carol", password: "pw", serveraddress: "https://index.docker.io/v1/" });
});
