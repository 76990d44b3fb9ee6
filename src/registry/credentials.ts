// Where registry credentials come from, first match wins:
//   1. explicit credentials given by the caller (command-line flags);
//   2. VIGIL_REGISTRY_USERNAME + VIGIL_REGISTRY_PASSWORD (limited to VIGIL_REGISTRY_HOST when set);
//   3. Docker's config ($DOCKER_CONFIG/config.json or ~/.docker/config.json): `credHelpers`,
//      then `auths` (base64 `auth`, `username`/`password`, `identitytoken`), then `credsStore`;
//   4. Amazon ECR hosts: a token from GetAuthorizationToken via the AWS SDK credential chain;
//   5. anonymous.

import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { RegistryError } from "./errors.js";
import { DOCKER_HUB } from "./reference.js";

export type Credential =
  | { kind: "basic"; username: string; password: string; source: string }
  /** An OAuth2 refresh token (docker config `identitytoken`), exchanged at the token realm. */
  | { kind: "identity-token"; token: string; source: string }
  /** A registry token to send as is (Authorization: Bearer). */
  | { kind: "bearer"; token: string; source: string };

export type ExplicitAuth = { username: string; password: string } | { token: string };

export interface CredentialLookup {
  env: Readonly<Record<string, string | undefined>>;
  explicit?: ExplicitAuth;
  /** ECR token fetcher; injectable for tests. */
  ecr?: (host: string) => Promise<Credential | null>;
}

export async function findCredential(registry: string, lookup: CredentialLookup): Promise<Credential | null> {
  if (lookup.explicit !== undefined) {
    return "token" in lookup.explicit
      ? { kind: "bearer", token: lookup.explicit.token, source: "the given token" }
      : { kind: "basic", ...lookup.explicit, source: "the given username and password" };
  }
  const env = lookup.env;
  const user = env["VIGIL_REGISTRY_USERNAME"];
  const pass = env["VIGIL_REGISTRY_PASSWORD"];
  const only = env["VIGIL_REGISTRY_HOST"];
  if (user !== undefined && user !== "" && pass !== undefined && (only === undefined || only === "" || only === registry)) {
    return { kind: "basic", username: user, password: pass, source: "VIGIL_REGISTRY_USERNAME/VIGIL_REGISTRY_PASSWORD" };
  }
  const fromDocker = await fromDockerConfig(registry, env);
  if (fromDocker !== null) return fromDocker;
  if (lookup.ecr !== undefined) return lookup.ecr(registry);
  return null;
}

interface DockerConfig {
  auths?: Record<string, { auth?: string; username?: string; password?: string; identitytoken?: string; registrytoken?: string }>;
  credHelpers?: Record<string, string>;
  credsStore?: string;
}

export function dockerConfigPath(env: Readonly<Record<string, string | undefined>>): string {
  const dir = env["DOCKER_CONFIG"];
  const home = env["HOME"] ?? homedir();
  return join(dir !== undefined && dir !== "" ? dir : join(home, ".docker"), "config.json");
}

/** The keys Docker uses for a registry in `auths` (Docker Hub's is the legacy v1 URL). */
function authKeys(registry: string): string[] {
  if (registry === DOCKER_HUB) {
    return ["https://index.docker.io/v1/", "index.docker.io", "docker.io", "https://index.docker.io/v1", "registry-1.docker.io"];
  }
  return [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
}

async function fromDockerConfig(registry: string, env: Readonly<Record<string, string | undefined>>): Promise<Credential | null> {
  const path = dockerConfigPath(env);
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch {
    return null;
  }
  let config: DockerConfig;
  try {
    config = JSON.parse(text) as DockerConfig;
  } catch (error) {
    throw new RegistryError("config", `${path}: not valid JSON (${(error as Error).message})`);
  }
  const source = `${path}`;
  const keys = authKeys(registry);
  const helper = keys.map((k) => config.credHelpers?.[k]).find((h) => h !== undefined);
  if (helper !== undefined) return runCredentialHelper(helper, registry, env);

  for (const key of keys) {
    const entry = config.auths?.[key];
    if (entry === undefined) continue;
    if (entry.identitytoken !== undefined && entry.identitytoken !== "") {
      return { kind: "identity-token", token: entry.identitytoken, source };
    }
    if (entry.registrytoken !== undefined && entry.registrytoken !== "") {
      return { kind: "bearer", token: entry.registrytoken, source };
    }
    if (entry.auth !== undefined && entry.auth !== "") {
      const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
      const colon = decoded.indexOf(":");
      if (colon < 0) throw new RegistryError("config", `${path}: auths["${key}"].auth is not base64 of "user:password"`);
      return { kind: "basic", username: decoded.slice(0, colon), password: decoded.slice(colon + 1), source };
    }
    if (entry.username !== undefined && entry.password !== undefined) {
      return { kind: "basic", username: entry.username, password: entry.password, source };
    }
  }
  if (config.credsStore !== undefined && config.credsStore !== "") {
    return runCredentialHelper(config.credsStore, registry, env, true);
  }
  return null;
}

/** docker-credential-HELPER get: host on stdin, {"Username","Secret"} on stdout. */
async function runCredentialHelper(
  helper: string,
  registry: string,
  env: Readonly<Record<string, string | undefined>>,
  optional = false,
): Promise<Credential | null> {
  const { spawn } = await import("node:child_process"); // only when a helper is configured
  const program = `docker-credential-${helper}`;
  const server = registry === DOCKER_HUB ? "https://index.docker.io/v1/" : registry;
  return new Promise((resolve, reject) => {
    const child = spawn(program, ["get"], { stdio: ["pipe", "pipe", "pipe"], env: env as NodeJS.ProcessEnv });
    let out = "";
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.stdout.setEncoding("utf8").on("data", (c: string) => (out += c));
    child.stderr.setEncoding("utf8").on("data", (c: string) => (err += c));
    child.on("error", (error) => {
      clearTimeout(timer);
      if (optional) resolve(null);
      else reject(new RegistryError("config", `credential helper ${program} for ${registry} cannot run: ${error.message}`));
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      if (code !== 0) {
        // "credentials not found" is an ordinary miss; anything else is worth saying.
        if (optional || /not found/i.test(out + err)) resolve(null);
        else reject(new RegistryError("config", `credential helper ${program} failed for ${registry}: ${(err || out).trim()}`));
        return;
      }
      try {
        const parsed = JSON.parse(out) as { Username?: string; Secret?: string };
        if (parsed.Secret === undefined) return resolve(null);
        if (parsed.Username === "<token>") resolve({ kind: "identity-token", token: parsed.Secret, source: program });
        else resolve({ kind: "basic", username: parsed.Username ?? "", password: parsed.Secret, source: program });
      } catch {
        reject(new RegistryError("config", `credential helper ${program} printed something that is not JSON`));
      }
    });
    child.stdin.end(server);
  });
}
