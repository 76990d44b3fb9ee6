// The one interface every repository talks to. SQL is written once with `?` placeholders and
// runs on SQLite (better-sqlite3) and PostgreSQL (pg); only migrations differ per dialect.

export type Dialect = "sqlite" | "postgres";
export type SqlValue = string | number | bigint | boolean | null;

export interface Db {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<{ changes: number }>;
  /** Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Db) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DbLocation {
  dialect: Dialect;
  /** A file path for SQLite (":memory:" allowed), a connection URL for PostgreSQL. */
  target: string;
}

/** `sqlite:FILE`, a bare path, or `postgres://…` / `postgresql://…`. */
export function parseDbLocation(text: string): DbLocation {
  if (/^postgres(ql)?:\/\//.test(text)) return { dialect: "postgres", target: text };
  const file = text.startsWith("sqlite:") ? text.slice("sqlite:".length) : text;
  if (file === "") throw new Error("empty SQLite file name");
  return { dialect: "sqlite", target: file };
}

/** `?` → `$1, $2, …` for PostgreSQL (no `?` appears in our SQL other than as a placeholder). */
export function toPostgresPlaceholders(sql: string): string {
  let n = 0;
  return sql.replace(/\?/g, () => `$${++n}`);
}
