// The demo's console: `vigil console` in this process, SQLite in the demo's temp dir, listening on
// 127.0.0.1 on a free port, HTTPS with a throwaway CA when openssl is there (else plain HTTP, which
// the enforcer accepts only with VIGIL_CONSOLE_INSECURE=1). First-run setup is done for the person
// running the demo: admin `demo` with a random password, and one enrollment token for the
// enforcer. Nothing here outlives close().

import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { resolveConfig } from "../console/config.js";
import type { RunningConsole } from "../console/server.js";
import { startConsole } from "../console/server.js";
import { AdminClient } from "./admin-client.js";
import { CERT_HOST, makeThrowawayCa } from "./throwaway-ca.js";

export const DEMO_ADMIN = "demo";
export const DEMO_GROUP = "demo";

export interface DemoConsole {
  /** What to open in a browser. */
  url: string;
  /** The CA to trust for `url`, or null over plain HTTP. */
  caPem: string | null;
  username: string;
  password: string;
  client: AdminClient;
  /** The environment that makes the enforcer ship its events here (docs/console-protocol.md). */
  enforcerEnv: Record<string, string>;
  /** Stops the console (finishing requests in flight) and closes its database. Idempotent. */
  close(): Promise<void>;
}

export async function startDemoConsole(dir: string, env: Readonly<Record<string, string | undefined>>): Promise<DemoConsole> {
  const ca = await makeThrowawayCa(dir, env);
  // Only the settings the demo chooses: the person's own VIGIL_CONSOLE_* variables do not apply.
  const config = resolveConfig(
    { db: `sqlite:${join(dir, "console.db")}`, listen: "127.0.0.1:0" },
    ca === null ? { VIGIL_CONSOLE_POLL_SECONDS: "5" } : { VIGIL_CONSOLE_POLL_SECONDS: "5", VIGIL_CONSOLE_TLS_CERT: ca.certPem, VIGIL_CONSOLE_TLS_KEY: ca.keyPem },
  );
  const running: RunningConsole = await startConsole(config, false);
  let closed: Promise<void> | null = null;
  const close = (): Promise<void> => (closed ??= running.close());
  try {
    const port = new URL(running.url).port;
    const url = ca === null ? `http://127.0.0.1:${port}` : `https://${CERT_HOST}:${port}`;
    const client = await AdminClient.connect({ url, port: Number(port), caPem: ca?.caPem ?? null });
    if (running.setupCode === null) throw new Error("bug: the demo's fresh console has an admin already");
    const password = randomBytes(18).toString("base64url");
    await client.setup(DEMO_ADMIN, password, running.setupCode);
    const token = await client.createToken("vigil demo", DEMO_GROUP);
    const enforcerEnv: Record<string, string> =
      ca === null ? { VIGIL_CONSOLE: url, VIGIL_TOKEN: token, VIGIL_CONSOLE_INSECURE: "1" } : { VIGIL_CONSOLE: url, VIGIL_TOKEN: token, VIGIL_CONSOLE_CA: ca.caPem };
    return { url, caPem: ca?.caPem ?? null, username: DEMO_ADMIN, password, client, enforcerEnv, close };
  } catch (error) {
    await close();
    throw error;
  }
}
