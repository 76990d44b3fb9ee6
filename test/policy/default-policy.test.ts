// The default policy under the real enforcer, in enforce mode: the real start-up of nginx, of a
// Node.js program and of a Python program (Debian's packages) is never blocked; each serves one
// request on 127.0.0.1 and is stopped. And it still blocks what it is there to block.

import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeAll, describe, expect, test } from "vitest";
import { parseEventLines } from "../../src/events/schema.js";
import type { ExecEvent } from "../../src/events/schema.js";
import { DEFAULT_POLICY } from "../../src/policy/default-policy.js";
import { compilePolicySource } from "../../src/policy/compile-source.js";
import { freshDir, run } from "../cli/helpers.js";
import { ensureBuilt } from "../enforcer/helpers/paths.js";

const VIGIL = fileURLToPath(new URL("../../dist/cli/main.js", import.meta.url));

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address !== null ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function fetchWithRetry(url: string, deadline: number): Promise<string> {
  for (;;) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
      return `${response.status} ${await response.text()}`;
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

interface Served {
  body: string;
  execs: ExecEvent[];
  refused: ExecEvent[];
  notEnforced: string[];
  stderr: string;
}

/** `vigil exec --policy default.yaml --events FILE -- COMMAND`, one request, then SIGTERM. */
async function serveOnce(dir: string, command: string[], url: string, mechanism: string): Promise<Served> {
  const policy = join(dir, "default.yaml");
  const events = join(dir, `events-${mechanism}.jsonl`);
  writeFileSync(policy, DEFAULT_POLICY);
  const child = spawn(process.execPath, [VIGIL, "exec", "--policy", policy, "--events", events, "--mechanism", mechanism, "--", ...command], {
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (b: Buffer) => (stderr += b.toString()));
  child.stdout.resume();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    const body = await fetchWithRetry(url, Date.now() + 15_000).catch((error: unknown) => {
      throw new Error(`${String(error)}: ${command.join(" ")} did not serve ${url}\nits stderr:\n${stderr}`);
    });
    child.kill("SIGTERM");
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    const parsed = parseEventLines(readFileSync(events, "utf8"));
    expect(parsed.errors).toEqual([]);
    const execs = parsed.events.filter((e): e is ExecEvent => e.kind === "exec");
    const start = parsed.events.find((e) => e.kind === "lifecycle" && "event" in e && e.event === "start");
    const notEnforced = start !== undefined && "notEnforced" in start ? start.notEnforced : [];
    return { body, execs, refused: execs.filter((e) => e.verdict !== "allowed"), notEnforced, stderr };
  } finally {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
}

beforeAll(() => {
  ensureBuilt();
  expect(existsSync(VIGIL), "dist/cli/main.js: run npm run build").toBe(true);
});

describe("the default policy", () => {
  test("is valid: no error and no warning", () => {
    const result = compilePolicySource(DEFAULT_POLICY, "default.yaml");
    expect(result.errors).toEqual([]);
    expect(result.warnings).toEqual([]);
  });

  test("vigil policy default prints it; check passes", async () => {
    const printed = await run(["policy", "default"]);
    expect(printed).toEqual({ code: 0, stdout: DEFAULT_POLICY, stderr: "" });
    const dir = freshDir();
    expect((await run(["policy", "default", "-o", "p.yaml"], { cwd: dir })).code).toBe(0);
    const checked = await run(["policy", "check", "p.yaml"], { cwd: dir });
    expect(checked.code).toBe(0);
    expect(checked.stdout).toBe("no problems in p.yaml\n");
  });

  test("blocks what it is there for (explain)", async () => {
    const dir = freshDir();
    writeFileSync(join(dir, "p.yaml"), DEFAULT_POLICY);
    const verdict = async (...args: string[]): Promise<string> => (await run(["policy", "explain", "p.yaml", ...args], { cwd: dir })).stdout.split("\n")[0] ?? "";
    expect(await verdict("--exec", "/usr/bin/curl")).toBe('exec /usr/bin/curl: blocked by exec.deny[8] "/usr/bin/curl"');
    expect(await verdict("--exec", "/tmp/x/payload")).toBe('exec /tmp/x/payload: blocked by exec.deny[0] "/tmp/**"');
    expect(await verdict("--exec", "/memfd:x (deleted)")).toBe('exec /memfd:x (deleted): blocked by exec.deny[3] "/memfd:*"');
    expect(await verdict("--exec", "/usr/sbin/nginx")).toBe("exec /usr/sbin/nginx: allowed by default (no rule applies)");
    expect(await verdict("--connect", "169.254.170.2:80", "--exe", "/bin/sh")).toBe(
      'connect 169.254.170.2 port 80 from /bin/sh: blocked by network.connect.deny[0] "169.254.170.2/32"',
    );
  });

  describe.each(["auto", "seccomp"])("real start-up under the enforcer (enforce mode, --mechanism %s)", (mechanism) => {
    test("nginx -g 'daemon off;' serves a request", async () => {
      const dir = freshDir("vigil-nginx-");
      const port = await freePort();
      for (const sub of ["logs", "tmp"]) mkdirSync(join(dir, sub));
      writeFileSync(
        join(dir, "nginx.conf"),
        `worker_processes 1;
pid ${dir}/nginx.pid;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  server { listen 127.0.0.1:${port}; location / { return 200 "nginx ok\\n"; } }
}
`,
      );
      const served = await serveOnce(dir, ["nginx", "-p", dir, "-e", `${dir}/logs/error.log`, "-c", `${dir}/nginx.conf`, "-g", "daemon off;"], `http://127.0.0.1:${port}/`, mechanism);
      expect(served.body).toBe("200 nginx ok\n");
      expect(served.refused, served.stderr).toEqual([]);
      expect(served.execs.map((e) => e.exe)).toContain("/usr/sbin/nginx");
      expect(served.notEnforced).toEqual([]); // files.* and network.* are enforced
    });

    test("a Node.js http server serves a request", async () => {
      const dir = freshDir("vigil-node-");
      const port = await freePort();
      const program = `require("http").createServer((q, r) => r.end("node ok\\n")).listen(${port}, "127.0.0.1")`;
      const served = await serveOnce(dir, ["/usr/bin/node", "-e", program], `http://127.0.0.1:${port}/`, mechanism);
      expect(served.body).toBe("200 node ok\n");
      expect(served.refused, served.stderr).toEqual([]);
    });

    test("python3 -m http.server serves a request", async () => {
      const dir = freshDir("vigil-python-");
      const port = await freePort();
      mkdirSync(join(dir, "www"));
      writeFileSync(join(dir, "www", "index.html"), "python ok\n");
      const served = await serveOnce(dir, ["/usr/bin/python3", "-m", "http.server", String(port), "--bind", "127.0.0.1", "--directory", join(dir, "www")], `http://127.0.0.1:${port}/`, mechanism);
      expect(served.body).toBe("200 python ok\n");
      expect(served.refused, served.stderr).toEqual([]);
    });
  });
});
