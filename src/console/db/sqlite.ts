// SQLite through better-sqlite3: synchronous calls behind the async Db interface, statements cached.

import Database from "better-sqlite3";
import type { Db, SqlValue } from "./database.js";

export function openSqlite(file: string): Db {
  const raw = new Database(file);
  // PRAGMAs, set on every connection:
  // - journal_mode=WAL: readers never block the writer, and a crash loses no committed event.
  // - synchronous=NORMAL: with WAL, durable across application crashes; fsync at checkpoints only.
  // - foreign_keys=ON: SQLite leaves REFERENCES unchecked unless asked.
  // - busy_timeout=5000: another process holding the write lock (a CLI, a backup) is waited for.
  raw.pragma("journal_mode = WAL");
  raw.pragma("synchronous = NORMAL");
  raw.pragma("foreign_keys = ON");
  raw.pragma("busy_timeout = 5000");
  // Ingest is batches of up to 1000 rows: a larger page cache and fewer WAL checkpoints
  // (bench/RESULTS-console.md) keep COMMIT from dominating.
  raw.pragma("cache_size = -65536");
  raw.pragma("wal_autocheckpoint = 16384");
  return new SqliteDb(raw);
}

class SqliteDb implements Db {
  readonly dialect = "sqlite" as const;
  private readonly statements = new Map<string, Database.Statement>();
  /** Transactions are serialized: the connection is shared by every request. */
  private lock: Promise<unknown> = Promise.resolve();
  private inTransaction = false;

  constructor(private readonly raw: Database.Database) {}

  private statement(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (s === undefined) {
      s = this.raw.prepare(sql);
      this.statements.set(sql, s);
    }
    return s;
  }

  all<T>(sql: string, params: readonly SqlValue[] = []): Promise<T[]> {
    return Promise.resolve(this.statement(sql).all(...params.map(bind)) as T[]);
  }

  get<T>(sql: string, params: readonly SqlValue[] = []): Promise<T | undefined> {
    return Promise.resolve(this.statement(sql).get(...params.map(bind)) as T | undefined);
  }

  run(sql: string, params: readonly SqlValue[] = []): Promise<{ changes: number }> {
    const s = this.statement(sql);
    if (!s.reader) return Promise.resolve({ changes: s.run(...params.map(bind)).changes });
    s.all(...params.map(bind));
    return Promise.resolve({ changes: 0 });
  }

  exec(sql: string): void {
    this.raw.exec(sql);
  }

  async transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T> {
    if (this.inTransaction) return fn(this);
    const previous = this.lock;
    let release = (): void => undefined;
    this.lock = new Promise<void>((resolve) => (release = resolve));
    await previous;
    this.inTransaction = true;
    this.raw.exec("BEGIN IMMEDIATE");
    try {
      const value = await fn(this);
      this.raw.exec("COMMIT");
      return value;
    } catch (error) {
      if (this.raw.inTransaction) this.raw.exec("ROLLBACK");
      throw error;
    } finally {
      this.inTransaction = false;
      release();
    }
  }

  close(): Promise<void> {
    this.raw.close();
    return Promise.resolve();
  }
}

function bind(value: SqlValue): SqlValue {
  return typeof value === "boolean" ? (value ? 1 : 0) : value;
}

export function isSqliteDb(db: Db): db is Db & { exec(sql: string): void } {
  return db instanceof SqliteDb;
}
