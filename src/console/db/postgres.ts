// PostgreSQL through a pg pool. BIGINT (int8) columns come back as numbers: every one we store
// (milliseconds since the epoch, sequence numbers) is far below 2^53.

import pg from "pg";
import type { Db, SqlValue } from "./database.js";
import { toPostgresPlaceholders } from "./database.js";

const INT8_OID = 20;

interface Queryable {
  query(sql: string, params: unknown[]): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

export function openPostgres(url: string): Db {
  const types = new pg.TypeOverrides();
  types.setTypeParser(INT8_OID, (v: string) => Number(v));
  const pool = new pg.Pool({ connectionString: url, max: 10, types });
  // An idle client that errors (the server restarted) must not crash the process.
  pool.on("error", () => undefined);
  return new PostgresDb(pool, pool, async () => pool.end());
}

class PostgresDb implements Db {
  readonly dialect = "postgres" as const;

  constructor(
    private readonly pool: pg.Pool,
    private readonly client: Queryable,
    private readonly end: () => Promise<void>,
    private readonly nested = false,
  ) {}

  async all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    const result = await this.client.query(toPostgresPlaceholders(sql), [...params]);
    return result.rows as T[];
  }

  async get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return (await this.all<T>(sql, params))[0];
  }

  async run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const result = await this.client.query(toPostgresPlaceholders(sql), [...params]);
    return { changes: result.rowCount ?? 0 };
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.nested) return fn(this);
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const value = await fn(new PostgresDb(this.pool, client, async () => undefined, true));
      await client.query("COMMIT");
      return value;
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  }

  close(): Promise<void> {
    return this.end();
  }
}
