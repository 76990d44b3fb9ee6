// Issue #6's two residual attacks (docs/security-review.md rows 10 and 11), as on ECS: the enforcer
// is PID 1 of vigil-test/python (root, SYS_PTRACE added, no network) under the default policy.
// The application is /app/driver.py (mounted before the start: part of the image). It plays both
// the application and an attacker who found a command injection in it:
// - row 10: the ECS credentials endpoint 169.254.170.2 is excepted for python3. With no network,
//   the kernel answers ENETUNREACH to a connect the enforcer lets through and the enforcer EPERM
//   to one it refuses, so nothing is ever sent. The application and its forked child get
//   through; `python3 -c` and `sh -c 'python3 -c ...'` started by it are refused.
// - row 11: `echo 1000 > /proc/1/oom_score_adj` (the enforcer, first OOM victim) is refused; the
//   application's own oom_score_adj stays writable.
import path from "node:path";
import { writeFileSync } from "node:fs";
import { beforeAll, describe, expect, test } from "vitest";
import { compilePolicySource } from "../../src/policy/compile-source.js";
import { DEFAULT_POLICY } from "../../src/policy/default-policy.js";
import { Docker, buildTestImages, ensureDockerEngine, runCommand, REPO } from "../helpers/docker.js";
import { ENFORCER, enforcerContainers } from "./enforcer-container.js";

const containers = enforcerContainers("residuals");
let python: string;

const DRIVER = `import errno, os, socket, subprocess
def attempt(label):
    s = socket.socket()
    try:
        s.connect(("169.254.170.2", 80))
        print(label, "connected", flush=True)
    except OSError as e:
        print(label, errno.errorcode.get(e.errno, e.errno), flush=True)
CODE = "import errno, socket\\ns = socket.socket()\\ntry:\\n  s.connect(('169.254.170.2', 80))\\nexcept OSError as e:\\n  print('%s', errno.errorcode[e.errno], flush=True)"
attempt("app")
pid = os.fork()
if pid == 0:
    attempt("fork")
    os._exit(0)
os.waitpid(pid, 0)
subprocess.run(["python3", "-c", CODE % "inline"])
subprocess.run(["sh", "-c", 'python3 -c "%s"' % (CODE % "shell-inline")])
subprocess.run(["sh", "-c", 'echo 1000 > /proc/1/oom_score_adj 2>/dev/null && echo oom=written || echo oom=refused'])
subprocess.run(["sh", "-c", 'echo 500 > /proc/self/oom_score_adj && echo own=$(cat /proc/self/oom_score_adj)'])
print("enforcer=" + open("/proc/1/oom_score_adj").read().strip(), flush=True)
`;

beforeAll(async () => {
  const compiled = compilePolicySource(DEFAULT_POLICY, "default.yaml").text;
  if (compiled === null) throw new Error("the default policy does not compile");
  writeFileSync(path.join(containers.dir, "policy"), compiled);
  writeFileSync(path.join(containers.dir, "driver.py"), DRIVER);
  const r = await runCommand(path.join(REPO, "scripts/test-images.sh"), ["python"], 1_200_000);
  if (r.code !== 0) throw new Error(`scripts/test-images.sh python failed:\n${r.stderr}`);
  python = r.stdout.trim().split(" ")[1] ?? "";
}, 1_500_000);

describe("default policy, PID 1 of vigil-test/python (root, no network)", () => {
  test("the credentials endpoint only for the application's own python; /proc/1/oom_score_adj not writable", async () => {
    const docker = new Docker(await ensureDockerEngine());
    await buildTestImages();
    const args = ["run", "--rm", "--network", "none", "--cap-add", "SYS_PTRACE", "--name", docker.uniqueName("residuals")];
    args.push("-v", `${ENFORCER}:/vigil/enforcer:ro`, "-v", `${path.join(containers.dir, "policy")}:/vigil/policy:ro`);
    args.push("-v", `${path.join(containers.dir, "driver.py")}:/app/driver.py:ro`);
    args.push("--entrypoint", "/vigil/enforcer", python, "--policy", "/vigil/policy", "--", "python3", "/app/driver.py");
    const r = await docker.run(args, 60_000);
    await docker.removeAll();
    expect(r.timedOut).toBe(false);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim().split("\n")).toEqual([
      "app ENETUNREACH",
      "fork ENETUNREACH",
      "inline EPERM",
      "shell-inline EPERM",
      "oom=refused",
      "own=500",
      "enforcer=0",
    ]);
    expect(r.stderr).toMatch(/"kind":"connect","verdict":"blocked","rule":"network.connect.deny\[0\]"/);
    expect(r.stderr).toMatch(/"kind":"file","verdict":"blocked","rule":"selfProtection"/);
  });
});
