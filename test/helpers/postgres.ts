// A private PostgreSQL server for a test file (scripts/test-postgres.sh), and a fresh database
// per call. Skips cleanly only where PostgreSQL is not installed.

import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pg from "pg";

const SCRIPT = resolve(import.meta.dirname, "../../scripts/test-postgres.sh");

export function postgresAvailable(): boolean {
  return existsSync("/usr/lib/postgresql") && readdirSync("/usr/lib/postgresql").some((v) => existsSync(`/usr/lib/postgresql/${v}/bin/initdb`));
}

export interface TestPostgres {
  /** URL of the server's maintenance database. */
  url: string;
  /** A new empty database on the server, for one test. */
  freshDatabase(): Promise<string>;
  stop(): void;
}

let counter = 0;

export function startPostgres(): TestPostgres {
  const parent = mkdtempSync(join(tmpdir(), "vigil-pg-"));
  const dir = join(parent, "pg");
  // A port another process holds makes pg_ctl fail: try a few random ones before giving up.
  let url = "";
  for (let attempt = 1; url === ""; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 40000);
    try {
      url = execFileSync(SCRIPT, ["start", dir, String(port)], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] }).trim();
    } catch (error) {
      try {
        execFileSync(SCRIPT, ["stop", dir], { stdio: "ignore" });
      } catch {
        // nothing was running
      }
      rmSync(dir, { recursive: true, force: true });
      if (attempt === 5) {
        rmSync(parent, { recursive: true, force: true });
        throw error;
      }
    }
  }
  return {
    url,
    async freshDatabase() {
      const name = `t_${process.pid}_${++counter}`;
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${name}`);
      } finally {
        await client.end();
      }
      return url.replace(/\/postgres$/, `/${name}`);
    },
    stop() {
      execFileSync(SCRIPT, ["stop", dir]);
      rmSync(parent, { recursive: true, force: true });
    },
  };
}
