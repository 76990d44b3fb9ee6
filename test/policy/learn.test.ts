// Audit -> learn -> test -> enforce on a recorded session under the real enforcer, and the pieces.

import { chmodSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, test } from "vitest";
import { generalize } from "../../src/policy/learn.js";
import { freshDir, run } from "../cli/helpers.js";
import { ensureBuilt } from "../enforcer/helpers/paths.js";

describe("generalize", () => {
  test("keeps distinct programs exact", () => {
    expect([...generalize(["/usr/bin/cat", "/usr/bin/cp", "/usr/bin/rm"]).keys()]).toEqual(["/usr/bin/cat", "/usr/bin/cp", "/usr/bin/rm"]);
  });

  test("puts a star only where the events show a volatile part", () => {
    const groups = generalize(["/tmp/job.u7ruCB/step", "/tmp/job.TqYm8t/step", "/app/build-1234/run", "/app/build-98/run", "/app/bin/a", "/app/bin/b"]);
    expect(Object.fromEntries(groups)).toEqual({
      "/app/bin/a": ["/app/bin/a"],
      "/app/bin/b": ["/app/bin/b"],
      "/app/build-*/run": ["/app/build-1234/run", "/app/build-98/run"],
      "/tmp/job.*/step": ["/tmp/job.TqYm8t/step", "/tmp/job.u7ruCB/step"],
    });
    // Random names that share a letter by chance at their start or end are still one volatile part.
    expect([...generalize(["/tmp/job.65qZJi/step", "/tmp/job.fvhpMi/step"]).keys()]).toEqual(["/tmp/job.*/step"]);
    expect([...generalize(["/tmp/a8Kx2q", "/tmp/aBcdEf"]).keys()]).toEqual(["/tmp/*"]);
    expect([...generalize(["/opt/build12/run", "/opt/build7/run"]).keys()]).toEqual(["/opt/build*/run"]);
    // Two segments that vary together are not one volatile part: kept exact.
    expect([...generalize(["/w/a1/x/b1/y", "/w/a2/x/b2/y"]).keys()]).toEqual(["/w/a1/x/b1/y", "/w/a2/x/b2/y"]);
  });
});

describe("audit, learn, test, enforce", () => {
  beforeAll(() => ensureBuilt());

  test("a recorded session becomes a policy that allows it and blocks anything else", async () => {
    const dir = freshDir("vigil-learn-");
    writeFileSync(
      join(dir, "app.sh"),
      `#!/bin/sh
uname -s > /dev/null
for i in 1 2; do d=$(mktemp -d ${dir}/job.XXXXXX); cp /bin/true "$d/step"; "$d/step"; rm -rf "$d"; done
[ -n "$EXTRA" ] && id > /dev/null
exit 0
`,
    );
    chmodSync(join(dir, "app.sh"), 0o755);
    const audit = await run(["exec", "--audit", "--events", "audit.jsonl", "--", "./app.sh"], { cwd: dir });
    expect(audit.code, audit.stderr).toBe(0);

    const learned = await run(["policy", "learn", "audit.jsonl", "-o", "learned.yaml"], { cwd: dir });
    expect(learned.code, learned.stderr).toBe(0);
    const text = readFileSync(join(dir, "learned.yaml"), "utf8");
    expect(text).toContain(`      - ${dir}/job.*/step\n`);
    expect(text).toMatch(/# 2 exec events \(program\): audit\.jsonl:\d+, audit\.jsonl:\d+; e\.g\. mktemp -d /);
    for (const exact of ["/usr/bin/uname", "/usr/bin/mktemp", "/usr/bin/cp", "/usr/bin/rm", "/usr/bin/dash", `${dir}/app.sh`]) {
      expect(text).toContain(`      - ${exact}\n`);
    }
    expect(text).not.toContain("/usr/bin/id");
    expect((await run(["policy", "check", "learned.yaml"], { cwd: dir })).stdout).toBe("no problems in learned.yaml\n");

    const replay = await run(["policy", "test", "learned.yaml", "audit.jsonl"], { cwd: dir });
    expect(replay.code).toBe(0);
    expect(replay.stdout).toMatch(/^\d+ exec events replayed: none would be blocked/);

    // Enforced: the same session runs with nothing blocked.
    const enforced = await run(["exec", "--policy", "learned.yaml", "--events", "enforce.jsonl", "--", "./app.sh"], { cwd: dir });
    expect(enforced.code, enforced.stderr).toBe(0);
    expect(readFileSync(join(dir, "enforce.jsonl"), "utf8")).not.toContain('"blocked"');

    // Something the session never did: test lists it, and the enforcer blocks it.
    const extra = await run(["exec", "--audit", "--events", "extra.jsonl", "--", "./app.sh"], { cwd: dir, env: { EXTRA: "1" } });
    expect(extra.code).toBe(0);
    const found = await run(["policy", "test", "learned.yaml", "extra.jsonl"], { cwd: dir });
    expect(found.code).toBe(1);
    expect(found.stdout).toMatch(/^extra\.jsonl:\d+: would be blocked: \/usr\/bin\/id \(id\) by exec\.allow — no exec\.allow glob matches \/usr\/bin\/id/m);
    expect(found.stdout).toMatch(/replayed: 1 would be blocked/);
    const blocked = await run(["exec", "--policy", "learned.yaml", "--events", "blocked.jsonl", "--", "./app.sh"], { cwd: dir, env: { EXTRA: "1" } });
    expect(readFileSync(join(dir, "blocked.jsonl"), "utf8")).toMatch(/"verdict":"blocked","rule":"exec.allow"[^\n]*"exe":"\/usr\/bin\/id"/);
    expect(blocked.code).toBe(0);
  });

  test("a connect an exception refused because the process was not the application's own is explained, not allowed", async () => {
    const dir = freshDir("vigil-learn-");
    writeFileSync(
      join(dir, "policy.yaml"),
      'apiVersion: vigil/v1\nkind: Policy\nspec:\n  mode: audit\n  network:\n    connect:\n      deny: ["127.0.0.2/32"]\n      exceptions: [{ exe: "/usr/bin/python3*", to: ["127.0.0.2/32"] }]\n',
    );
    // The way `npm start` starts its program: through a shell command line (nothing listens on port 9: refused fast).
    const py = "import contextlib, socket\nwith contextlib.suppress(OSError): socket.create_connection(('127.0.0.2', 9), 2)";
    const audit = await run(["exec", "--policy", "policy.yaml", "--events", "audit.jsonl", "--", "/bin/sh", "-c", `/usr/bin/python3 -c "${py}"`], { cwd: dir });
    expect(audit.code, audit.stderr).toBe(0);
    expect(readFileSync(join(dir, "audit.jsonl"), "utf8")).toMatch(/"kind":"connect","verdict":"alert".*"exceptionNotOwn":"network.connect.exception\[0\]"/);
    const learned = await run(["policy", "learn", "audit.jsonl", "--from", "policy.yaml"], { cwd: dir });
    expect(learned.code, learned.stderr).toBe(0);
    expect(learned.stderr).toMatch(
      /^note: network\.connect\.exception\[0\] did not apply to 1 connect \(first audit\.jsonl:\d+: \/usr\/bin\/python3[.\d]* to 127\.0\.0\.2:9, \/usr\/bin\/python3 -c .*\): the process was not the application's own .* set spec\.network\.connect\.exceptionsFor: any$/m,
    );
    expect(learned.stdout).not.toContain("exceptionsFor"); // a relaxation is the user's decision
  });

  test("--from keeps the base policy and adds only what is missing; its denies win", async () => {
    const dir = freshDir("vigil-learn-");
    const events = [
      { exe: "/usr/bin/dash", argv: ["sh"] },
      { exe: "/usr/bin/uname", argv: ["uname"] },
      { exe: "/usr/bin/curl", argv: ["curl", "x"] },
    ].map((e, i) =>
      JSON.stringify({ vigil: 1, time: "2026-12-04T15:28:59.123Z", kind: "exec", verdict: "alert", rule: "exec.allow", pattern: null, pid: 10 + i, ppid: 1, uid: 0, exe: e.exe, argv: e.argv, argvTruncated: false, cwd: "/", mechanism: "ptrace", script: null }),
    );
    writeFileSync(join(dir, "e.jsonl"), `${events.join("\n")}\n`);
    writeFileSync(join(dir, "base.yaml"), "# my policy\napiVersion: vigil/v1\nkind: Policy\nspec:\n  exec:\n    allow: [/usr/bin/dash]  # the shell\n    deny: [/usr/bin/curl]\n");
    const result = await run(["policy", "learn", "e.jsonl", "--from", "base.yaml"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      "# my policy\napiVersion: vigil/v1\nkind: Policy\nspec:\n  exec:\n    allow:\n      - /usr/bin/dash\n      # 1 exec event (program): e.jsonl:2; e.g. uname\n      - /usr/bin/uname\n      # the shell\n    deny: [ /usr/bin/curl ]\n",
    );
    expect(result.stderr).toBe('learned 1 allow rule from 3 exec events\nnote: /usr/bin/curl: denied by exec.deny[0] "/usr/bin/curl" of the base policy (1 event); not allowed — remove or narrow that deny if it must run\n');
  });
});
