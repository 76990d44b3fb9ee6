// The enforcer ships its events to a real console over HTTPS (a throwaway CA), fetches its policy
// from it, applies a new one without restarting the application, and never lets a slow or absent
// console slow or stop the application (docs/console-protocol.md, "What the enforcer does").

import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { createServer } from "node:net";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectCleanRun, validateEventsAfterEach } from "../enforcer/helpers/assert.js";
import { blockedExecs, lifecycle } from "../enforcer/helpers/events.js";
import { ASAN_ENFORCER, ensureAsanBuilt, ensureBuilt } from "../enforcer/helpers/paths.js";
import { compiledPolicy } from "../enforcer/helpers/policy.js";
import { describeRun, runEnforcer, startEnforcer } from "../enforcer/helpers/run.js";
import type { ShippingConsole, TestCa } from "./helpers.js";
import { assignPolicy, enforcers, eventually, gaps, makeTestCa, shippingConsole, storedEvents } from "./helpers.js";

validateEventsAfterEach();

let ca: TestCa;
beforeAll(async () => {
  ensureBuilt();
  ensureAsanBuilt();
  ca = await makeTestCa();
}, 300_000);
afterAll(() => ca.remove());

function consoleEnv(s: ShippingConsole, extra: Record<string, string> = {}): Record<string, string> {
  return { VIGIL_CONSOLE: s.url, VIGIL_TOKEN: s.token, VIGIL_CONSOLE_CA: ca.caPem, ...extra };
}

function denyPolicy(name: string, glob: string): string {
  return `apiVersion: vigil/v1\nkind: Policy\nmetadata: { name: ${name} }\nspec:\n  exec:\n    deny: ["${glob}"]\n`;
}
const DENY_LS = denyPolicy("no-ls", "/usr/bin/ls");

// The shipping thread, the policy swap and the TLS code run under ASan/UBSan too (the sanitizer
// report would fail expectCleanRun).
describe.each([
  { label: "release build", enforcer: undefined },
  { label: "sanitizer build", enforcer: ASAN_ENFORCER },
])("over HTTPS with the test CA, $label", ({ enforcer }) => {
  let s: ShippingConsole;
  beforeAll(async () => {
    s = await shippingConsole({ ca });
  });
  afterAll(async () => s.close());
  test("without a local policy the console's is fetched before the app starts; every event arrives once, in order", async () => {
    const digest = await assignPolicy(s, "no-ls", DENY_LS);
    const r = await runEnforcer({ enforcer, command: ["sh", "-c", "ls / >/dev/null 2>&1 || echo ls-refused; env; echo done"], env: consoleEnv(s), timeoutMs: 20_000 });
    expectCleanRun(r);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toContain("ls-refused");
    // the application never sees the enrollment token (nor where the console is)
    expect(r.stdout).not.toMatch(/VIGIL_TOKEN|VIGIL_CONSOLE|vgt_/);
    const start = lifecycle(r.events, "start")[0];
    expect(start && "policy" in start ? start.policy : null).toBe(digest);
    expect(blockedExecs(r.events).map((e) => e.exe)).toEqual(["/usr/bin/ls"]);

    // stderr/fd events and console events are the same lines
    const stored = await eventually("all events in the console", () => storedEvents(s), (v) => v.length >= r.events.length);
    expect(stored.map((e) => e.seq)).toEqual(stored.map((_, i) => i + 1));
    expect(stored.map((e) => e.event)).toEqual(r.events);
    const [row] = await enforcers(s);
    expect(row).toMatchObject({ group: "web", policyDigest: digest, taskArn: null });
    expect(await gaps(s, row!.id)).toEqual([]);
  });

  test("a policy assigned while the application runs is applied without restarting it", async () => {
    await assignPolicy(s, "no-ls", denyPolicy("no-ls", "/usr/bin/tac"));
    const loop = "n=0; i=0; while [ $i -lt 150 ] && [ $n -lt 3 ]; do if ls / >/dev/null 2>&1; then echo ran; else echo refused; n=$((n+1)); fi; i=$((i+1)); sleep 0.1; done";
    const run = startEnforcer({ enforcer, command: ["sh", "-c", loop], env: consoleEnv(s), timeoutMs: 40_000 });
    await run.waitForStdout(/ran/, 15_000);
    const digest = await assignPolicy(s, "no-ls", DENY_LS);
    await run.waitForStdout(/refused/, 15_000);
    const r = await run.result;
    expectCleanRun(r);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toBe("ran");
    expect(lines.at(-1)).toBe("refused");
    const policy = lifecycle(r.events, "policy");
    expect(policy).toHaveLength(1);
    expect(policy[0]).toMatchObject({ policy: digest, applied: true, mode: "enforce", source: "console", notApplied: [] });
    expect(lifecycle(r.events, "start")).toHaveLength(1); // one start: the application was not restarted
    const mine = await eventually("the policy event in the console", () => storedEvents(s), (v) => v.some((e) => e.event.kind === "lifecycle" && "event" in e.event && e.event.event === "policy"));
    expect(mine.length).toBeGreaterThan(0);
  });
});

describe("over HTTPS with the test CA", () => {
  let s: ShippingConsole;
  beforeAll(async () => {
    s = await shippingConsole({ ca });
  });
  afterAll(async () => s.close());


  test("the token cannot be read from the enforcer's own environment either (selfProtection off keeps CAP_SYS_PTRACE)", async () => {
    const policy = "vigil-policy 1\nselfProtection off\nend\n";
    const r = await runEnforcer({ command: ["sh", "-c", "tr '\\0' '\\n' < /proc/$PPID/environ | grep ^VIGIL_ || echo none"], policy, env: consoleEnv(s), timeoutMs: 20_000 });
    expectCleanRun(r);
    expect(r.code, describeRun(r)).toBe(0);
    expect(r.stdout).toMatch(/^VIGIL_TOKEN=$/m); // the name stays in the original block, its value is gone
    expect(r.stdout).not.toContain(s.token);
    expect(r.stdout).not.toContain("vgt_");
  });

  test("task ARN, container name and image come from the ECS task metadata endpoint v4", async () => {
    const seen: string[] = [];
    const meta = createHttpServer((req, res) => {
      seen.push(req.url ?? "");
      res.setHeader("content-type", "application/json");
      if (req.url === "/v4/0123abcd-task") res.end(JSON.stringify({ DockerId: "0123abcd", Name: "web", Image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2", Labels: { "a.b": "<c>" } }));
      else if (req.url === "/v4/0123abcd-task/task") res.end(JSON.stringify({ Cluster: "prod", TaskARN: "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef", Family: "web", Containers: [{ Name: "sidecar", TaskARN: "not this one" }] }));
      else res.writeHead(404).end("{}");
    });
    await new Promise<void>((resolve) => meta.listen(0, "127.0.0.1", resolve));
    const port = (meta.address() as AddressInfo).port;
    try {
      const r = await runEnforcer({
        command: ["sh", "-c", "echo ok"],
        policy: compiledPolicy({ deny: ["/usr/bin/ls"] }),
        env: consoleEnv(s, { ECS_CONTAINER_METADATA_URI_V4: `http://127.0.0.1:${port}/v4/0123abcd-task` }),
      });
      expectCleanRun(r);
      expect(seen).toEqual(["/v4/0123abcd-task", "/v4/0123abcd-task/task"]);
      const rows = await eventually("the enforcer in the fleet", () => enforcers(s), (v) => v.some((e) => e.taskArn !== null));
      expect(rows.find((e) => e.taskArn !== null)).toMatchObject({
        taskArn: "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef",
        container: "web",
        image: "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web:1.4.2",
      });
    } finally {
      await new Promise((resolve) => meta.close(resolve));
    }
  });

  test("a CA bundle that did not sign the console's certificate: no connection, the application still runs (local policy)", async () => {
    const other = await makeTestCa();
    try {
      const r = await runEnforcer({
        command: ["sh", "-c", "sleep 1.5; echo ok"],
        policy: compiledPolicy({ deny: ["/usr/bin/ls"] }),
        env: consoleEnv(s, { VIGIL_CONSOLE_CA: other.caPem }),
        timeoutMs: 20_000,
      });
      expectCleanRun(r);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("ok");
      expect(r.stderr).toMatch(/TLS handshake failed: the certificate is not signed by a CA of the bundle/);
    } finally {
      other.remove();
    }
  });

  test("no local policy and no console answer: refuses to start unprotected, or starts with --fail-open and says so", async () => {
    const env = { ...consoleEnv(s), VIGIL_CONSOLE: "https://localhost:9" }; // nothing listens on port 9
    const refused = await runEnforcer({ command: ["sh", "-c", "echo started"], env, timeoutMs: 30_000 });
    expectCleanRun(refused);
    expect(refused.code).toBe(1);
    expect(refused.stdout).not.toContain("started");
    expect(refused.stderr).toMatch(/refusing to start the application unprotected/);
    const open = await runEnforcer({ command: ["sh", "-c", "echo started"], env, options: ["--fail-open"], timeoutMs: 30_000 });
    expectCleanRun(open);
    expect(open.code).toBe(0);
    expect(open.stdout).toContain("started");
    expect(lifecycle(open.events, "failopen")[0]).toMatchObject({ reason: "no policy from the console" });
  }, 60_000);
});

describe("certificates", () => {
  test("an RSA chain (ECDHE-RSA, RSA signatures) works as well as the ECDSA one", async () => {
    const dir = mkdtempSync(join(tmpdir(), "vigil-rsa-ca-"));
    const p = (f: string): string => join(dir, f);
    const ssl = (...args: string[]): void => void execFileSync("openssl", args, { stdio: "pipe", timeout: 60_000 });
    try {
      ssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", p("ca.key"), "-out", p("ca.pem"), "-days", "1", "-subj", "/CN=RSA test CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign");
      ssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", p("server.key"), "-out", p("server.csr"), "-subj", "/CN=localhost");
      writeFileSync(p("ext"), "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n");
      ssl("x509", "-req", "-in", p("server.csr"), "-CA", p("ca.pem"), "-CAkey", p("ca.key"), "-CAcreateserial", "-out", p("server.pem"), "-days", "1", "-sha384", "-extfile", p("ext"));
      const rsa: TestCa = { dir, caPem: p("ca.pem"), certPem: p("server.pem"), keyPem: p("server.key"), remove: () => undefined };
      const s = await shippingConsole({ ca: rsa });
      try {
        const r = await runEnforcer({ command: ["true"], policy: compiledPolicy({ deny: ["/usr/bin/ls"] }), env: { VIGIL_CONSOLE: s.url, VIGIL_TOKEN: s.token, VIGIL_CONSOLE_CA: rsa.caPem } });
        expectCleanRun(r);
        expect(r.stderr).not.toMatch(/TLS|console:/);
        await eventually("the events", () => storedEvents(s), (v) => v.length === r.events.length);
      } finally {
        await s.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("when the console is away", () => {
  test("events wait in the queue and all arrive once it is back; the application is not slowed", async () => {
    const s = await shippingConsole({ ca });
    try {
      await s.stop();
      const policy = compiledPolicy({ deny: ["/usr/bin/ls"] });
      const burst = "i=0; while [ $i -lt 40 ]; do /bin/true; i=$((i+1)); done; ls / >/dev/null 2>&1; echo burst-done";
      const run = startEnforcer({ command: ["sh", "-c", `${burst}; sleep 6; echo end`], policy, env: consoleEnv(s), timeoutMs: 40_000 });
      const t0 = Date.now();
      await run.waitForStdout(/burst-done/, 10_000);
      // the burst (41 execs) took no longer than it would with no console configured at all
      expect(Date.now() - t0).toBeLessThan(3_000);
      await new Promise((r) => setTimeout(r, 2_000));
      await s.restart();
      const r = await run.result;
      expectCleanRun(r);
      expect(r.stderr).toMatch(/console: cannot register: cannot connect/);
      const stored = await eventually("every event in the console", () => storedEvents(s), (v) => v.length === r.events.length, 20_000);
      expect(stored.map((e) => e.seq)).toEqual(r.events.map((_, i) => i + 1));
      expect(stored.map((e) => e.event)).toEqual(r.events);
    } finally {
      await s.close();
    }
  }, 60_000);

  test("a console that accepts connections and never answers does not hold the application up", async () => {
    const hung = new Set<Socket>();
    const server = createServer((sock) => hung.add(sock)); // accepts, never speaks: the TLS handshake hangs
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    try {
      const policy = compiledPolicy({ deny: ["/usr/bin/ls"] });
      const burst = ["sh", "-c", "i=0; while [ $i -lt 200 ]; do /bin/true; i=$((i+1)); done; echo done"];
      const alone = await runEnforcer({ command: burst, policy, timeoutMs: 30_000 });
      const env = { VIGIL_CONSOLE: `https://localhost:${port}`, VIGIL_TOKEN: "vgt_000000000000_x", VIGIL_CONSOLE_CA: ca.caPem };
      const withHung = await runEnforcer({ command: burst, policy, env, timeoutMs: 30_000 });
      expectCleanRun(withHung);
      expect(withHung.stdout).toContain("done");
      expect(hung.size).toBeGreaterThan(0); // the enforcer did connect
      // the shipping thread waits up to 10 s for an answer; the application must not (the 2 s exit flush aside)
      expect(withHung.ms, `${alone.ms} ms without a console`).toBeLessThan(alone.ms * 2 + 3_000);
    } finally {
      for (const sock of hung) sock.destroy();
      await new Promise((resolve) => server.close(resolve));
    }
  }, 60_000);

  test("while the console is away the shipping thread sleeps between attempts (no busy loop)", async () => {
    const s = await shippingConsole({ ca });
    try {
      const run = startEnforcer({ command: ["sh", "-c", "echo up; sleep 7"], policy: compiledPolicy({ deny: ["/usr/bin/ls"] }), env: consoleEnv(s), timeoutMs: 30_000 });
      await run.waitForStdout(/up/);
      const pid = await run.enforcerPid();
      await eventually("the enforcer registered", () => enforcers(s), (v) => v.length === 1);
      await new Promise((r) => setTimeout(r, 1_500)); // a policy poll (pollSeconds 1) has happened
      await s.stop();
      const cpu = (): number => {
        const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
        return Number(fields[11]) + Number(fields[12]); // utime + stime, in clock ticks (1/100 s)
      };
      const before = cpu();
      await new Promise((r) => setTimeout(r, 4_000));
      const used = cpu() - before;
      expect(used, `${used} ticks of CPU in 4 s with the console away`).toBeLessThan(20);
      const r = await run.result;
      expectCleanRun(r);
      expect(r.stderr).toMatch(/console: cannot fetch the policy/);
    } finally {
      await s.close();
    }
  }, 60_000);

  test("beyond the queue bound the oldest events are dropped: a dropped event and a gap say so", async () => {
    const s = await shippingConsole({ ca });
    try {
      await s.stop();
      const policy = compiledPolicy({ deny: ["/usr/bin/ls"] });
      const burst = "i=0; while [ $i -lt 30 ]; do /bin/true; i=$((i+1)); done; echo burst-done";
      const run = startEnforcer({ command: ["sh", "-c", `${burst}; sleep 5`], policy, env: consoleEnv(s, { VIGIL_CONSOLE_QUEUE: "10" }), timeoutMs: 40_000 });
      await run.waitForStdout(/burst-done/, 10_000);
      await s.restart();
      const r = await run.result;
      expectCleanRun(r);
      const stored = await eventually("the queued events", () => storedEvents(s), (v) => v.some((e) => e.event.kind === "lifecycle" && "event" in e.event && e.event.event === "exit"), 20_000);
      const dropped = stored.filter((e) => e.event.kind === "dropped");
      expect(dropped.length).toBeGreaterThan(0);
      const lost = dropped.reduce((n, e) => n + ("count" in e.event ? Number(e.event.count) : 0), 0);
      const [enforcer] = await enforcers(s);
      const open = await gaps(s, enforcer!.id);
      const missing = open.reduce((n, g) => n + (g.to - g.from + 1), 0);
      expect(missing).toBeGreaterThan(0);
      // every event is either stored or counted as dropped (the dropped events have numbers of their own)
      const total = Math.max(...stored.map((e) => e.seq));
      expect(stored.length + missing, JSON.stringify({ seqs: stored.map((e) => e.seq), open, lost })).toBe(total);
      expect(lost).toBe(missing);
    } finally {
      await s.close();
    }
  }, 60_000);
});

describe("answers that ask the enforcer to try again", () => {
  /** Plain-HTTP proxy in front of an http console: `decide` may answer an events POST itself. */
  async function flakyProxy(target: number, decide: (body: { seq: number; events: unknown[] }, n: number) => { status: number; headers?: Record<string, string> } | null) {
    let n = 0;
    const server = createHttpServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        const body = Buffer.concat(chunks);
        if (req.url === "/api/v1/enforcer/events") {
          const answer = decide(JSON.parse(body.toString("utf8")) as { seq: number; events: unknown[] }, n++);
          if (answer !== null) {
            res.writeHead(answer.status, { "content-type": "application/json", ...answer.headers });
            res.end(JSON.stringify({ error: "try again", statusCode: answer.status }));
            return;
          }
        }
        const fwd = httpRequest({ host: "127.0.0.1", port: target, method: req.method, path: req.url, headers: req.headers }, (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        });
        fwd.on("error", () => res.writeHead(502).end());
        fwd.end(body);
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return { server, port: (server.address() as AddressInfo).port };
  }

  test("503 with Retry-After, then 413 for a batch too large: every event arrives once", async () => {
    const s = await shippingConsole();
    const sizes: number[] = [];
    const accepted: number[] = [];
    const proxy = await flakyProxy(s.port, (batch, n) => {
      sizes.push(batch.events.length);
      if (n < 2) return { status: 503, headers: { "retry-after": "1" } };
      if (batch.events.length > 4) return { status: 413 };
      accepted.push(batch.events.length);
      return null;
    });
    try {
      const policy = compiledPolicy({ deny: ["/usr/bin/ls"] });
      const env = { VIGIL_CONSOLE: `http://localhost:${proxy.port}`, VIGIL_CONSOLE_INSECURE: "1", VIGIL_TOKEN: s.token };
      const r = await runEnforcer({ command: ["sh", "-c", "i=0; while [ $i -lt 20 ]; do /bin/true; i=$((i+1)); done; sleep 5"], policy, env, timeoutMs: 30_000 });
      expectCleanRun(r);
      expect(r.stderr).toMatch(/cannot send events: try again/);
      const stored = await eventually("every event", () => storedEvents(s), (v) => v.length === r.events.length, 20_000);
      expect(stored.map((e) => e.event)).toEqual(r.events);
      expect(sizes.slice(0, 2)).toEqual([sizes[0], sizes[0]]); // the same batch resent after the 503s
      expect(sizes[2]).toBeGreaterThan(4);
      expect(Math.max(...accepted)).toBeLessThanOrEqual(4); // split until accepted, and kept that small
      expect(sizes.filter((n) => n > 4).length).toBeLessThanOrEqual(6); // not halved anew for every request
    } finally {
      await new Promise((resolve) => proxy.server.close(resolve));
      await s.close();
    }
  }, 60_000);
});

describe("configuration errors are explained", () => {
  test("http:// without VIGIL_CONSOLE_INSECURE is refused before anything starts", async () => {
    const r = await runEnforcer({ command: ["sh", "-c", "echo started"], env: { VIGIL_CONSOLE: "http://localhost:9", VIGIL_TOKEN: "vgt_000000000000_x" } });
    expectCleanRun(r);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/VIGIL_CONSOLE_INSECURE=1/);
  });

  test("a console without a token, an IP address over https, a missing CA bundle", async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ VIGIL_CONSOLE: "https://localhost:9" }, /VIGIL_TOKEN is not/],
      [{ VIGIL_CONSOLE: "https://127.0.0.1:9", VIGIL_TOKEN: "vgt_1_x" }, /DNS name/],
      [{ VIGIL_CONSOLE: "https://localhost:9", VIGIL_TOKEN: "vgt_1_x", VIGIL_CONSOLE_CA: "/nonexistent/ca.pem" }, /cannot open \/nonexistent\/ca.pem/],
      [{ VIGIL_CONSOLE: "ftp://x", VIGIL_TOKEN: "vgt_1_x" }, /must start with https:\/\//],
    ];
    for (const [env, message] of cases) {
      const r = await runEnforcer({ command: ["true"], env });
      expectCleanRun(r);
      expect(r.code, describeRun(r)).toBe(2);
      expect(r.stderr).toMatch(message);
    }
  });

  test("with --fail-open a configuration mistake runs the application without the console, and says so", async () => {
    const env = { VIGIL_CONSOLE: "https://localhost:9", VIGIL_TOKEN: "vgt_1_x", VIGIL_CONSOLE_CA: "/nonexistent/ca.pem" };
    const local = await runEnforcer({ command: ["sh", "-c", "echo ran"], policy: compiledPolicy({ deny: ["/usr/bin/ls"] }), options: ["--fail-open"], env });
    expectCleanRun(local);
    expect(local.code).toBe(0);
    expect(local.stdout).toContain("ran");
    expect(local.stderr).toMatch(/cannot open \/nonexistent\/ca.pem[\s\S]*not used \(--fail-open\)/);
    const none = await runEnforcer({ command: ["sh", "-c", "echo ran"], options: ["--fail-open"], env });
    expectCleanRun(none);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain("ran");
    expect(lifecycle(none.events, "failopen")[0]).toMatchObject({ reason: "no policy from the console" });
  });

  test("a revoked enrollment token: registration refused, said once, the application unaffected", async () => {
    const s = await shippingConsole({ ca });
    try {
      const res = await s.console.app.inject({ method: "DELETE", url: `/api/admin/tokens/${s.tokenId}`, headers: s.admin.headers });
      expect(res.statusCode, res.body).toBeLessThan(300);
      const r = await runEnforcer({ command: ["sh", "-c", "sleep 1; echo ok"], policy: compiledPolicy({ deny: ["/usr/bin/ls"] }), env: consoleEnv(s) });
      expectCleanRun(r);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("ok");
      expect(r.stderr.match(/registration refused/g)).toHaveLength(1);
      expect(r.stderr).toMatch(/check VIGIL_TOKEN/);
      expect(await storedEvents(s)).toEqual([]);
    } finally {
      await s.close();
    }
  });
});
