// Numbered migrations, one list per dialect, applied in order and recorded in schema_migrations.
// A migration is never edited once released: add the next number instead. On PostgreSQL an
// advisory lock makes replicas that start together apply each migration once.

import type { Db } from "./database.js";

export interface Migration {
  version: number;
  name: string;
  sqlite: string;
  postgres: string;
}

/** The only difference between the dialects' tables: the type of times and of auto ids. */
function columnTypes(dialect: "sqlite" | "postgres"): { int8: string; serial: string } {
  return dialect === "sqlite" ? { int8: "INTEGER", serial: "INTEGER PRIMARY KEY" } : { int8: "BIGINT", serial: "BIGSERIAL PRIMARY KEY" };
}

function schemaV1(dialect: "sqlite" | "postgres"): string {
  const { int8, serial } = columnTypes(dialect);
  return `
CREATE TABLE admins (
  id TEXT PRIMARY KEY,
  username TEXT NOT NULL UNIQUE,
  password_hash TEXT NOT NULL,
  first_admin INTEGER UNIQUE,
  created_at ${int8} NOT NULL
);
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  admin_id TEXT NOT NULL REFERENCES admins(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at ${int8} NOT NULL,
  expires_at ${int8} NOT NULL
);
CREATE TABLE login_failures (
  id ${serial},
  subject TEXT NOT NULL,
  at ${int8} NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (subject, at);
CREATE TABLE enrollment_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  group_name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_at ${int8} NOT NULL,
  revoked_at ${int8},
  last_used_at ${int8}
);
CREATE TABLE policies (
  name TEXT PRIMARY KEY,
  current_version INTEGER NOT NULL,
  created_at ${int8} NOT NULL,
  updated_at ${int8} NOT NULL
);
CREATE TABLE policy_versions (
  policy_name TEXT NOT NULL REFERENCES policies(name) ON DELETE CASCADE,
  version INTEGER NOT NULL,
  source TEXT NOT NULL,
  compiled TEXT NOT NULL,
  digest TEXT NOT NULL,
  comment TEXT NOT NULL,
  author TEXT NOT NULL,
  created_at ${int8} NOT NULL,
  PRIMARY KEY (policy_name, version)
);
CREATE TABLE group_policies (
  group_name TEXT PRIMARY KEY,
  policy_name TEXT NOT NULL REFERENCES policies(name),
  assigned_at ${int8} NOT NULL
);
CREATE TABLE enforcers (
  id TEXT PRIMARY KEY,
  token_id TEXT NOT NULL REFERENCES enrollment_tokens(id),
  group_name TEXT NOT NULL,
  instance TEXT NOT NULL,
  key_hash TEXT NOT NULL UNIQUE,
  task_arn TEXT,
  container TEXT,
  image TEXT,
  version TEXT NOT NULL,
  arch TEXT NOT NULL,
  mode TEXT,
  policy_digest TEXT,
  hostname TEXT,
  failopen INTEGER NOT NULL DEFAULT 0,
  registered_at ${int8} NOT NULL,
  last_seen ${int8} NOT NULL,
  max_seq ${int8} NOT NULL DEFAULT 0,
  UNIQUE (group_name, instance)
);
CREATE TABLE events (
  enforcer_id TEXT NOT NULL REFERENCES enforcers(id) ON DELETE CASCADE,
  seq ${int8} NOT NULL,
  time_ms ${int8} NOT NULL,
  kind TEXT NOT NULL,
  verdict TEXT,
  rule TEXT,
  pid ${int8},
  ppid ${int8},
  exe TEXT,
  body TEXT NOT NULL,
  received_at ${int8} NOT NULL,
  PRIMARY KEY (enforcer_id, seq)
);
CREATE INDEX events_time ON events (time_ms);
CREATE INDEX events_verdict_time ON events (verdict, time_ms);
CREATE INDEX events_enforcer_pid ON events (enforcer_id, pid, time_ms);
CREATE TABLE event_gaps (
  enforcer_id TEXT NOT NULL REFERENCES enforcers(id) ON DELETE CASCADE,
  from_seq ${int8} NOT NULL,
  to_seq ${int8} NOT NULL,
  recorded_at ${int8} NOT NULL,
  PRIMARY KEY (enforcer_id, from_seq)
);
`;
}

/** Alerts: webhooks, the blocked/alert events waiting to be fanned out, dedup windows, the outbox. */
function schemaV2(dialect: "sqlite" | "postgres"): string {
  const { int8, serial } = columnTypes(dialect);
  return `
CREATE TABLE webhooks (
  id TEXT PRIMARY KEY,
  url TEXT NOT NULL,
  include_alerts INTEGER NOT NULL DEFAULT 0,
  source TEXT NOT NULL,
  created_at ${int8} NOT NULL,
  held_messages ${int8} NOT NULL DEFAULT 0,
  held_events ${int8} NOT NULL DEFAULT 0
);
CREATE TABLE alert_events (
  id ${serial},
  enforcer_id TEXT NOT NULL REFERENCES enforcers(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  verdict TEXT NOT NULL,
  rule TEXT NOT NULL,
  exe TEXT NOT NULL,
  count ${int8} NOT NULL,
  seq ${int8} NOT NULL,
  sample TEXT NOT NULL,
  created_at ${int8} NOT NULL
);
CREATE TABLE alert_windows (
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  dedup_key TEXT NOT NULL,
  opened_at ${int8} NOT NULL,
  pending ${int8} NOT NULL DEFAULT 0,
  alert TEXT NOT NULL,
  PRIMARY KEY (webhook_id, dedup_key)
);
CREATE INDEX alert_windows_opened ON alert_windows (opened_at);
CREATE TABLE webhook_outbox (
  id ${serial},
  webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  payload TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at ${int8} NOT NULL,
  created_at ${int8} NOT NULL,
  finished_at ${int8},
  last_error TEXT
);
CREATE INDEX webhook_outbox_due ON webhook_outbox (state, next_attempt_at);
CREATE INDEX webhook_outbox_recent ON webhook_outbox (webhook_id, created_at);
`;
}

/** API tokens for automation: `vat_<id>_<secret>`, stored as the secret's hash. */
function schemaV3(dialect: "sqlite" | "postgres"): string {
  const { int8 } = columnTypes(dialect);
  return `
CREATE TABLE api_tokens (
  id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  secret_hash TEXT NOT NULL,
  created_by TEXT NOT NULL,
  created_at ${int8} NOT NULL,
  expires_at ${int8},
  revoked_at ${int8},
  last_used_at ${int8}
);
CREATE INDEX event_gaps_recorded ON event_gaps (recorded_at);
`;
}

export const MIGRATIONS: readonly Migration[] = [
  { version: 1, name: "initial schema", sqlite: schemaV1("sqlite"), postgres: schemaV1("postgres") },
  { version: 2, name: "webhook alerts", sqlite: schemaV2("sqlite"), postgres: schemaV2("postgres") },
  { version: 3, name: "api tokens; gaps by age (retention)", sqlite: schemaV3("sqlite"), postgres: schemaV3("postgres") },
];

const MIGRATIONS_TABLE = `CREATE TABLE IF NOT EXISTS schema_migrations (
  version INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  applied_at BIGINT NOT NULL
)`;

/** Applies every migration not applied yet; returns the versions applied now. */
export async function migrate(db: Db, migrations: readonly Migration[] = MIGRATIONS): Promise<number[]> {
  return db.transaction(async (tx) => {
    // Replicas starting together: the second waits here until the first has committed.
    if (tx.dialect === "postgres") await tx.run("SELECT pg_advisory_xact_lock(7345001)");
    await tx.run(MIGRATIONS_TABLE);
    const done = new Set((await tx.all<{ version: number }>("SELECT version FROM schema_migrations")).map((r) => Number(r.version)));
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      for (const statement of splitStatements(tx.dialect === "sqlite" ? m.sqlite : m.postgres)) await tx.run(statement);
      await tx.run("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)", [m.version, m.name, Date.now()]);
      applied.push(m.version);
    }
    return applied;
  });
}

function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*\n/)
    .map((s) => s.trim().replace(/;$/, ""))
    .filter((s) => s !== "");
}
