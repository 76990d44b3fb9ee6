// A real registry for tests: scripts/registry.sh starts Debian's docker-registry on 127.0.0.1 in
// a private temporary directory (TLS from a test CA + htpasswd auth, or plain HTTP anonymous);
// stop() kills it and removes the directory. Use in beforeAll/afterAll.

import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const SCRIPT = path.join(REPO, "scripts", "registry.sh");

export interface TestRegistry {
  /** host:port, as it appears in image references. */
  host: string;
  url: string;
  /** Undefined for the plain-HTTP instance. */
  caFile: string | undefined;
  username: string | undefined;
  password: string | undefined;
  insecure: boolean;
  dir: string;
  /** With `tokenRealm`: the key and certificate tokens must be signed with. */
  tokenKey: string | undefined;
  tokenCert: string | undefined;
  stop(): Promise<void>;
}

function run(args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(SCRIPT, args, { env, timeout: 120_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`scripts/registry.sh ${args.join(" ")} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/**
 * `http`: plain HTTP, anonymous. `tokenRealm`: TLS with bearer-token auth; the caller runs the
 * token service at that URL and signs tokens with `tokenKey`.
 */
export async function startRegistry(options: { http?: boolean; tokenRealm?: string } = {}): Promise<TestRegistry> {
  const dir = await mkdtemp(path.join(tmpdir(), "vigil-registry-"));
  const env: NodeJS.ProcessEnv = { ...process.env, VIGIL_REGISTRY_DIR: dir, VIGIL_REGISTRY_TOKEN_REALM: options.tokenRealm ?? "" };
  const args = options.http === true ? ["start", "--http"] : ["start"];
  let out: string;
  try {
    out = await run(args, env);
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const vars: Record<string, string> = {};
  for (const line of out.split("\n")) {
    const m = /^export ([A-Z_]+)=(.*)$/.exec(line);
    if (m !== null) vars[m[1] ?? ""] = m[2] ?? "";
  }
  const host = vars["VIGIL_REGISTRY"];
  const url = vars["VIGIL_REGISTRY_URL"];
  if (host === undefined || url === undefined) throw new Error(`scripts/registry.sh printed no address:\n${out}`);
  return {
    host,
    url,
    caFile: vars["VIGIL_REGISTRY_CA"],
    username: vars["VIGIL_REGISTRY_USERNAME"],
    password: vars["VIGIL_REGISTRY_PASSWORD"],
    insecure: options.http === true,
    dir,
    tokenKey: vars["VIGIL_REGISTRY_TOKEN_KEY"],
    tokenCert: vars["VIGIL_REGISTRY_TOKEN_CERT"],
    async stop() {
      await run(["stop"], env);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
