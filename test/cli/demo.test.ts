// `vigil demo` end to end: the console (SQLite, HTTPS with a throwaway CA, 127.0.0.1), the
// enforcer shipping to it, the console holding the blocked events, and nothing left behind: no
// file, no process, no listening port. Against the real enforcer that `npm run build` produces.

import { spawn } from "node:child_process";
import type { ChildProcessWithoutNullStreams } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import https from "node:https";
import { connect } from "node:net";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { locateEnforcer, PACKAGE_ROOT } from "../../src/runner/locate-enforcer.js";
import { freshDir, run } from "./helpers.js";

const CLI = join(PACKAGE_ROOT, "dist", "cli", "main.js");

beforeAll(() => {
  try {
    locateEnforcer(process.env);
  } catch (error) {
    throw new Error(`these tests need the enforcer binary: ${error instanceof Error ? error.message : String(error)}. Run \`npm run build\` first.`);
  }
});

function consolePort(stdout: string): number {
  const m = /a console runs at https?:\/\/(?:localhost|127\.0\.0\.1):(\d+)/.exec(stdout);
  if (m === null) throw new Error(`no console URL in the demo's output:\n${stdout}`);
  return Number(m[1]);
}

/** True when nothing accepts connections on 127.0.0.1:port any more. */
function refused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: "127.0.0.1", port, timeout: 2000 });
    socket.on("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("timeout", () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", (error: NodeJS.ErrnoException) => resolve(error.code === "ECONNREFUSED"));
  });
}

/** Processes whose command line mentions `text` (the demo's temp dir holds the app and its files). */
function processesMentioning(text: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      const args = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").join(" ");
      if (args.includes(text)) found.push(`${pid}: ${args}`);
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function consoleSection(stdout: string): string {
  const at = stdout.indexOf("What the console received");
  expect(at, stdout).toBeGreaterThan(0);
  return stdout.slice(at);
}

describe("vigil demo with the console", () => {
  test("refuses unknown arguments with its usage", async () => {
    const result = await run(["demo", "--bogus"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("demo: unknown argument --bogus");
    expect(result.stderr).toContain("usage: vigil demo [--no-wait]");
  });

  test("--no-wait: the console receives the enforcer's events, the blocked ones included; nothing is left behind", async () => {
    const tmp = freshDir();
    const result = await run(["demo", "--no-wait"], { env: { TMPDIR: tmp, VIGIL_CONSOLE: "http://127.0.0.1:9/elsewhere", VIGIL_TOKEN: "not-this-one" } });
    expect(result.code, `${result.stdout}\n${result.stderr}`).toBe(0);
    expect(result.stdout).toMatch(/a console runs at https:\/\/localhost:\d+ \(SQLite in a temporary directory, HTTPS/);
    const section = consoleSection(result.stdout);
    expect(section).toMatch(/1 enforcer \(group demo, protected\), 7 events: 5 allowed, 2 blocked, 0 alert\./);
    expect(section).toMatch(/BLOCKED +exec +\/usr\/bin\/perl\S* .*rule exec\.deny\[0\] \(\/usr\/bin\/perl\*\)/);
    expect(section).toMatch(/BLOCKED +exec +\S*\/dropped-tool .*rule exec\.allow/);
    expect(result.stdout).toContain("The console is stopped");
    expect(result.stdout).not.toContain("password");
    expect(readdirSync(tmp), "temporary files left behind").toEqual([]);
    expect(await refused(consolePort(result.stdout)), "the console still listens").toBe(true);
    expect(processesMentioning(tmp)).toEqual([]);
  });

  test("the installed CLI without a terminal (as scripts/demo.sh in CI) shows the console's view and exits by itself", async () => {
    const tmp = freshDir();
    const child = spawn(process.execPath, [CLI, "demo"], { env: { ...process.env, TMPDIR: tmp }, stdio: ["pipe", "pipe", "pipe"] });
    const { code, stdout, stderr } = await collect(child, 45_000);
    expect(code, `${stdout}\n${stderr}`).toBe(0);
    expect(consoleSection(stdout)).toMatch(/2 blocked/);
    expect(readdirSync(tmp)).toEqual([]);
    expect(await refused(consolePort(stdout))).toBe(true);
    expect(processesMentioning(tmp)).toEqual([]);
  });

  test("in a terminal: the console stays up with the blocked events for the page, and Ctrl-C removes everything", async () => {
    const tmp = freshDir();
    // script(1) gives the demo a pseudo-terminal; a ^C written to it is the terminal's Ctrl-C.
    // script runs the command through $SHELL -c; `exec` keeps that shell out of the way, since
    // dash (CI's /bin/sh when SHELL is unset) stays as the parent and dies of the same ^C (130).
    const child = spawn("script", ["-qefc", `exec ${JSON.stringify(process.execPath)} ${JSON.stringify(CLI)} demo`, "/dev/null"], {
      env: { ...process.env, SHELL: "/bin/sh", TMPDIR: tmp },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString("utf8")));
    const ended = collect(child, 60_000);
    for (let i = 0; i < 300 && !out.includes("Press Ctrl-C"); i++) await new Promise((r) => setTimeout(r, 100));
    expect(out, "the demo never said it was waiting").toContain("Press Ctrl-C");
    const text = out.replace(/\r/g, "");
    const login = /Open (https:\/\/localhost:(\d+))\/ and sign in as (\S+) with password (\S+)/.exec(text);
    const caPem = /the CA is (\S+)\)\./.exec(text)?.[1];
    expect(login, text).not.toBeNull();
    expect(caPem, text).toBeDefined();
    const port = Number(login?.[2]);
    const ca = readFileSync(caPem ?? "");

    // Sign in as a person would, over HTTPS trusting only the demo's CA, and look at the blocked events.
    const signIn = await request(port, ca, "POST", "/api/admin/login", {}, JSON.stringify({ username: login?.[3], password: login?.[4] }));
    expect(signIn.status, signIn.body).toBe(200);
    const cookie = (signIn.setCookie ?? "").split(";")[0] ?? "";
    const blocked = await request(port, ca, "GET", "/api/admin/events?verdict=blocked", { cookie });
    expect(blocked.status, blocked.body).toBe(200);
    const events = (JSON.parse(blocked.body) as { events: { event: { exe: string; rule: string } }[] }).events.map((s) => s.event);
    expect(events.some((e) => e.exe === "/usr/bin/perl" && e.rule === "exec.deny[0]"), blocked.body).toBe(true);
    expect(events.some((e) => e.exe.endsWith("/dropped-tool")), blocked.body).toBe(true);

    child.stdin.write("\x03");
    const { code } = await ended;
    expect(code, out).toBe(0);
    expect(out).toContain("console stopped");
    expect(readdirSync(tmp)).toEqual([]);
    expect(await refused(port)).toBe(true);
    expect(processesMentioning(tmp)).toEqual([]);
  });
});

function collect(child: ChildProcessWithoutNullStreams, timeoutMs: number): Promise<{ code: number | null; stdout: string; stderr: string }> {
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (c: Buffer) => (stdout += c.toString("utf8")));
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString("utf8")));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function request(
  port: number,
  ca: Buffer,
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; body: string; setCookie: string | undefined }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      {
        host: "127.0.0.1",
        servername: "localhost",
        port,
        method,
        path,
        ca,
        agent: false,
        timeout: 10_000,
        headers: { host: `localhost:${port}`, ...headers, ...(body === undefined ? {} : { "content-type": "application/json" }) },
      },
      (res) => {
        let text = "";
        res.on("data", (c: Buffer) => (text += c.toString("utf8")));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body: text, setCookie: res.headers["set-cookie"]?.[0] }));
      },
    );
    req.on("timeout", () => req.destroy(new Error("no answer within 10 s")));
    req.on("error", reject);
    req.end(body);
  });
}
