// network.connect exceptions hold only for the application's own processes (docs/compiled-policy.md,
// "The application's own processes"; docs/security-review.md row 10). The credentials endpoint is
// played by a loopback listener on 127.0.0.2, denied by network.connect.deny and excepted for
// python3 and node, as the default policy does for 169.254.170.2: the application (a Python
// script started by the enforcer), its forked child and the image scripts it runs reach it; code a
// shell or a command line brings (`sh -c 'python3 -c ...'`, `node -e`, `python3 -m timeit CODE`,
// stdin, a dropped script)
// is refused with a connect event, and no byte of it reaches the listener.

import { existsSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { compilePolicySource } from "../../src/policy/compile-source.js";
import { expectExit, validateEventsAfterEach } from "./helpers/assert.js";
import type { VigilEvent } from "./helpers/events.js";
import { settle, tcpListener } from "./helpers/listeners.js";
import type { TcpListener } from "./helpers/listeners.js";
import { ensureBuilt } from "./helpers/paths.js";
import { runEnforcer } from "./helpers/run.js";
import type { Mechanism, RunResult } from "./helpers/run.js";
import { makeTempDir, pastCoarseTick } from "./helpers/tmp.js";
import type { TempDir } from "./helpers/tmp.js";

validateEventsAfterEach();

const PYTHON = "/usr/bin/python3";
const NODE = "/usr/bin/node";
const HAVE = existsSync(PYTHON) && existsSync(NODE);

let tmp: TempDir;
let endpoint: TcpListener; // 127.0.0.2: the "credentials endpoint"

// One connection attempt to the endpoint, labelled; prints "LABEL ok" or "LABEL EPERM".
const CONNECT_PY = `import errno, socket, sys
label, port = sys.argv[1], int(sys.argv[2])
s = socket.socket()
try:
    s.connect(("127.0.0.2", port))
    s.sendall(label.encode() + b"\\n")
    print(label, "ok", flush=True)
except OSError as e:
    print(label, errno.errorcode.get(e.errno, e.errno), flush=True)
`;
const CONNECT_JS = `const [label, port] = process.argv.slice(2);
const s = require("net").connect(Number(port), "127.0.0.2");
s.on("connect", () => { console.log(label, "ok"); s.end(label + "\\n"); });
s.on("error", (e) => console.log(label, e.code));
`;
// The application: connects itself, from a forked child, through the image's scripts, and (as an
// attacker with a command injection would) through code given on command lines.
const APP_PY = `import os, subprocess, sys
port = sys.argv[1]
here = os.path.dirname(os.path.abspath(__file__))
py, node = ${JSON.stringify(PYTHON)}, ${JSON.stringify(NODE)}
def inline(label):
    return "import sys; sys.argv = ['-c', '%s', '%s']; exec(open('%s/connect.py').read())" % (label, port, here)
def run(args, **kw):
    subprocess.run(args, check=False, **kw)
def attempt(label):
    sys.argv = ["app", label, port]
    exec(open(here + "/connect.py").read(), {})
attempt("app")
pid = os.fork()
if pid == 0:
    attempt("fork")
    os._exit(0)
os.waitpid(pid, 0)
run([py, here + "/connect.py", "script", port])
run([py, "-Wignore::DeprecationWarning", "-u", here + "/connect.py", "script-options", port])
run([node, here + "/connect.js", "node-script", port])
run([py, "-m", "connect", "module", port], cwd=here)  # a module of the image, by name
run([py, "-c", inline("inline")])
# a module of the interpreter's own that runs the code its arguments give (timeit's statement)
timeit = subprocess.run([py, "-m", "timeit", "-n", "1", "-r", "1", inline("timeit")], capture_output=True, check=False)
print(*[l for l in timeit.stdout.decode().splitlines() if l.startswith("timeit ")], sep="\\n", flush=True)
run([py, "-"], input=inline("stdin").encode())
run(["/bin/sh", "-c", '%s -c "%s"' % (py, inline("shell-inline"))])
run(["/bin/sh", "-c", "%s %s/connect.py shell-script %s" % (py, here, port)])
node_inline = open(here + "/connect.js").read().replace("process.argv.slice(2)", "['node-inline', '%s']" % port)
run(["/bin/sh", "-c", "%s -e '%s'" % (node, node_inline.replace("'", '"'))])
# code in a long option, with an image script after it (which node then does not run)
run([node, "--eval=" + node_inline.replace("node-inline", "node-eval"), here + "/connect.js", "script2", port])
with open(here + "/dropped.py", "w") as f:
    f.write(open(here + "/connect.py").read())
run([py, here + "/dropped.py", "dropped", port])
`;

const OWN = ["app ok", "fork ok", "script ok", "script-options ok", "node-script ok", "module ok"];
const ATTACKS = ["inline", "timeit", "stdin", "shell-inline", "shell-script", "node-inline", "node-eval", "dropped"];

beforeAll(async () => {
  if (!HAVE) return;
  ensureBuilt();
  tmp = makeTempDir("exceptions");
  // written before the enforcer starts: part of the "image"
  writeFileSync(tmp.join("connect.py"), CONNECT_PY);
  writeFileSync(tmp.join("connect.js"), CONNECT_JS);
  writeFileSync(tmp.join("app.py"), APP_PY);
  await pastCoarseTick(); // an enforcer started in the same clock tick would take them for drift
  endpoint = await tcpListener("127.0.0.2");
});
afterAll(async () => {
  await endpoint?.close();
  tmp?.remove();
});

function policy(extra: readonly string[] = []): string {
  return [
    "vigil-policy 1",
    "network.connect.deny 127.0.0.2/32",
    "network.connect.exception /usr/bin/python3* 127.0.0.2/32",
    `network.connect.exception ${NODE} 127.0.0.2/32`,
    ...extra,
    "end",
    "",
  ].join("\n");
}

type ConnectEvent = Extract<VigilEvent, { kind: "connect" }>;
const connects = (r: RunResult): ConnectEvent[] => r.events.filter((e): e is ConnectEvent => e.kind === "connect");
const lines = (r: RunResult): string[] => r.stdout.trim().split("\n").sort();

describe.skipIf(!HAVE).each(["seccomp", "landlock"] as const)("mechanism %s", (mechanism: Mechanism) => {
  test("the application, its child and its image scripts reach the endpoint; code from a shell or a command line does not", async () => {
    const before = endpoint.bytes();
    const r = await runEnforcer({ mechanism, policy: policy(), command: [PYTHON, tmp.join("app.py"), String(endpoint.port)], cwd: tmp.path });
    expectExit(r, 0);
    expect(lines(r)).toEqual([...OWN, ...ATTACKS.map((a) => `${a} EPERM`)].sort());
    await settle();
    const received = endpoint.bytes().slice(before.length);
    for (const own of OWN) expect(received).toContain(`${own.split(" ")[0] ?? ""}\n`);
    for (const attack of ATTACKS) expect(received).not.toContain(`${attack}\n`);
    const blocked = connects(r).filter((e) => e.verdict === "blocked");
    expect(blocked.map((e) => `${e.rule} ${e.address} ${e.syscall}`)).toEqual(ATTACKS.map(() => "network.connect.deny[0] 127.0.0.2 connect"));
    // Each refusal names the exception that would have applied to the application's own process.
    expect(blocked.map((e) => e.exceptionNotOwn).sort()).toEqual([
      ...Array<string>(6).fill("network.connect.exception[0]"),
      ...Array<string>(2).fill("network.connect.exception[1]"),
    ]);
    expect(connects(r).filter((e) => e.verdict === "allowed").every((e) => e.exceptionNotOwn === undefined)).toBe(true);
    const python = blocked.find((e) => e.exe !== NODE)?.exe ?? "";
    expect(blocked.map((e) => e.exe).sort()).toEqual([NODE, NODE, ...Array<string>(6).fill(python)].sort());
    expect(connects(r).filter((e) => e.verdict === "allowed").map((e) => e.rule)).toEqual([
      "network.connect.exception[0]",
      "network.connect.exception[0]",
      "network.connect.exception[0]",
      "network.connect.exception[0]",
      "network.connect.exception[1]",
      "network.connect.exception[0]",
    ]);
  });

  test("exceptionsFor any (compiled from the YAML key): every process running the program gets the exception (as before)", async () => {
    const source = [
      "apiVersion: vigil/v1",
      "kind: Policy",
      "spec:",
      "  network:",
      "    connect:",
      '      deny: ["127.0.0.2/32"]',
      `      exceptions: [{ exe: "/usr/bin/python3*", to: ["127.0.0.2/32"] }, { exe: "${NODE}", to: ["127.0.0.2/32"] }]`,
      "      exceptionsFor: any",
      "",
    ].join("\n");
    const compiled = compilePolicySource(source, "any.yaml");
    expect(compiled.text).toContain("\nnetwork.connect.exceptionsFor any\n");
    const r = await runEnforcer({
      mechanism,
      policy: compiled.text ?? "",
      command: [PYTHON, tmp.join("app.py"), String(endpoint.port)],
      cwd: tmp.path,
    });
    expectExit(r, 0);
    expect(lines(r)).toEqual([...OWN, ...ATTACKS.map((a) => `${a} ok`)].sort());
    expect(connects(r).filter((e) => e.verdict === "blocked")).toEqual([]);
  });
});
