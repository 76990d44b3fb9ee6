// Malformed compiled policies (docs/compiled-policy.md) are rejected with exit 2 and
// `vigil-enforcer: policy:LINE: MESSAGE` before the application starts; valid edge cases load.

import { spawnSync } from "node:child_process";
import { existsSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectCleanRun, validateEventsAfterEach } from "./helpers/assert.js";
import { execEvents } from "./helpers/events.js";
import { ENFORCER, ensureBuilt, probe } from "./helpers/paths.js";
import { describeRun, runEnforcer } from "./helpers/run.js";
import type { EnforcerOptions, RunResult } from "./helpers/run.js";
import { makeTempDir } from "./helpers/tmp.js";
import type { TempDir } from "./helpers/tmp.js";

validateEventsAfterEach();

const H = "vigil-policy 1\n";

interface BadPolicy {
  what: string;
  text: string;
  /** The line the message must name (a RegExp where the contract allows a choice). */
  line: number | RegExp;
}

const bad: BadPolicy[] = [
  { what: "empty file", text: "", line: 1 },
  { what: "wrong version", text: "vigil-policy 2\nend\n", line: 1 },
  { what: "no header", text: "mode enforce\nend\n", line: 1 },
  { what: "unknown key", text: `${H}mode enforce\nexec.allw /bin/*\nend\n`, line: 3 },
  { what: "CR before LF in the header", text: "vigil-policy 1\r\nend\n", line: 1 },
  { what: "CR before LF in a directive", text: `${H}mode enforce\r\nend\n`, line: 2 },
  { what: "truncated (no end)", text: `${H}mode enforce\n`, line: /[23]/ },
  { what: "end without its LF", text: `${H}end`, line: 2 },
  { what: "directive after end", text: `${H}end\nexec.allow /bin/*\n`, line: 3 },
  { what: "key without value", text: `${H}mode\nend\n`, line: 2 },
  { what: "empty value", text: `${H}exec.allow \nend\n`, line: 2 },
  { what: "two spaces before the value", text: `${H}mode  enforce\nend\n`, line: 2 },
  { what: "leading space", text: `${H} mode enforce\nend\n`, line: 2 },
  { what: "bad mode", text: `${H}mode block\nend\n`, line: 2 },
  { what: "mode twice", text: `${H}mode enforce\nmode audit\nend\n`, line: 3 },
  { what: "name twice", text: `${H}name a\n# c\nname b\nend\n`, line: 4 },
  { what: "relative glob", text: `${H}exec.allow bin/*\nend\n`, line: 2 },
  { what: "empty segment", text: `${H}exec.deny /usr//bin/nc\nend\n`, line: 2 },
  { what: "dot-dot segment", text: `${H}exec.deny /usr/../bin/sh\nend\n`, line: 2 },
  { what: "dot segment", text: `${H}exec.allow /usr/./bin/*\nend\n`, line: 2 },
  { what: "NUL byte", text: `${H}name a\0b\nend\n`, line: 2 },
  { what: "line over 4096 bytes", text: `${H}exec.allow /${"a".repeat(5000)}\nend\n`, line: 2 },
  { what: "bad tristate", text: `${H}exec.drift maybe\nend\n`, line: 2 },
  { what: "bad on/off", text: `${H}selfProtection yes\nend\n`, line: 2 },
  { what: "port out of range", text: `${H}network.listen.allow 70000\nend\n`, line: 2 },
  { what: "bad CIDR", text: `${H}network.connect.deny 300.1.1.1/32\nend\n`, line: 2 },
  { what: "bad exception", text: `${H}network.connect.exception /app/server\nend\n`, line: 2 },
  { what: "unknown capability", text: `${H}capabilities.drop CAP_NET_RAW\nend\n`, line: 2 },
  { what: "noNewPrivileges twice", text: `${H}noNewPrivileges on\nnoNewPrivileges off\nend\n`, line: 3 },
  {
    what: "more than 10,000 directives",
    text: `${H}${"exec.allow /a\n".repeat(10_001)}end\n`,
    line: 10_002,
  },
];

let tmp: TempDir;
beforeAll(() => {
  ensureBuilt();
  tmp = makeTempDir("policy");
});
afterAll(() => tmp?.remove());

let n = 0;
function marker(): string {
  return tmp.join(`marker-${++n}`);
}

function expectRejected(r: RunResult, m: string, line: number | RegExp): void {
  expectCleanRun(r);
  expect(r.code, describeRun(r)).toBe(2);
  const lineRe = typeof line === "number" ? String(line) : line.source;
  expect(r.stderr, describeRun(r)).toMatch(new RegExp(`^vigil-enforcer: policy:(${lineRe}): \\S`, "m"));
  expect(existsSync(m), `the application ran despite the bad policy\n${describeRun(r)}`).toBe(false);
  expect(r.stdout).toBe("");
  expect(execEvents(r.events)).toEqual([]);
}

describe("malformed compiled policies", () => {
  test.each(bad)("$what -> exit 2, policy:$line:, app not started", async ({ text, line }) => {
    const m = marker();
    const r = await runEnforcer({ policy: text, command: [probe("marker"), m] });
    expectRejected(r, m, line);
  });

  test("a file over 1 MiB is rejected before the app starts", async () => {
    const m = marker();
    const text = `${H}${`# ${"x".repeat(1021)}\n`.repeat(1100)}end\n`;
    const r = await runEnforcer({ policy: text, command: [probe("marker"), m] });
    expectCleanRun(r);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vigil-enforcer: policy(:\d+)?: \S/m);
    expect(existsSync(m)).toBe(false);
  });

  test("a policy read from a pipe (no size known in advance) is read whole, and refused over 1 MiB", () => {
    // The reader starts small when it cannot know the size and grows: the last line must still be seen.
    const comments = (n: number): string => `# ${"x".repeat(1021)}\n`.repeat(n);
    const fromPipe = (text: string) => {
      const file = tmp.join("piped-policy");
      writeFileSync(file, text);
      const script = 'cat "$1" | "$0" --policy /dev/stdin --events /dev/null -- /bin/sh -c "exit 7"';
      return spawnSync("/bin/sh", ["-c", script, ENFORCER, file], { encoding: "utf8", timeout: 20_000 });
    };
    const whole = fromPipe(`${H}mode enforce\n${comments(200)}exec.deny /nothing/here\nend\n`);
    expect(whole.stderr).toBe("");
    expect(whole.status).toBe(7);
    const cut = fromPipe(`${H}mode enforce\n${comments(200)}exec.deny /nothing/here\n`);
    expect(cut.status).toBe(2);
    expect(cut.stderr).toMatch(/^vigil-enforcer: policy:\d+: /m);
    const huge = fromPipe(`${H}${comments(1100)}end\n`);
    expect(huge.status).toBe(2);
    expect(huge.stderr).toMatch(/^vigil-enforcer: policy(:\d+)?: \S/m);
  });

  test("inline VIGIL_POLICY and VIGIL_POLICY_FILE are checked the same way", async () => {
    const text = `${H}mode enforce\nexec.allw /bin/*\nend\n`;
    const m1 = marker();
    const inline: EnforcerOptions = { env: { VIGIL_POLICY: text }, command: [probe("marker"), m1] };
    expectRejected(await runEnforcer(inline), m1, 3);
    const file = tmp.join("env-policy");
    writeFileSync(file, text);
    const m2 = marker();
    expectRejected(await runEnforcer({ env: { VIGIL_POLICY_FILE: file }, command: [probe("marker"), m2] }), m2, 3);
  });

  test("a missing policy file is a usage error (exit 2), app not started", async () => {
    const m = marker();
    const r = await runEnforcer({ options: ["--policy", tmp.join("no-such-policy")], command: [probe("marker"), m] });
    expectCleanRun(r);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("no-such-policy");
    expect(existsSync(m)).toBe(false);
  });

  test("--check-policy: 2 with the message for a bad policy", async () => {
    const file = tmp.join("check-bad");
    writeFileSync(file, `${H}mode enforce\nmode audit\nend\n`);
    const r = await runEnforcer({ raw: true, command: ["--check-policy", "--policy", file] });
    expectCleanRun(r);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/^vigil-enforcer: policy:3: \S/m);
  });
});

describe("valid edge cases load", () => {
  const good: { what: string; text: string }[] = [
    { what: "header and end only", text: `${H}end\n` },
    { what: "comments and blank lines", text: `${H}# comment\n\n#\nmode audit\n\nend\n` },
    { what: "literal metacharacters and spaces", text: `${H}exec.allow /opt/my app/[x]{y}\\z\nexec.deny /trailing/space \nend\n` },
    { what: "** and ? globs", text: `${H}exec.allow /usr/**\nexec.allow /app/?in/*\nend\n` },
    {
      what: "every key",
      text:
        `${H}name web\nmode enforce\nexec.allow /bin/*\nexec.deny /usr/bin/nc*\nexec.drift block\nexec.fileless alert\n` +
        `exec.loader off\nexec.reverseShell block\nfiles.readOnly /etc/**\nfiles.watch /app/config/**\n` +
        `network.connect.deny 169.254.170.2/32\nnetwork.connect.deny 10.0.0.0/8 443-444\nnetwork.connect.allow ::1/128 80\n` +
        `network.connect.exception /app/server 169.254.170.2/32\nnetwork.listen.allow 80\nnetwork.listen.allow 8000-8080\n` +
        `selfProtection on\nend\n`,
    },
    { what: "exactly 10,000 directives", text: `${H}${"exec.allow /a\n".repeat(10_000)}end\n` },
  ];

  test.each(good)("$what", async ({ text }) => {
    const file = tmp.join(`good-${++n}`);
    writeFileSync(file, text);
    const r = await runEnforcer({ raw: true, command: ["--check-policy", "--policy", file] });
    expectCleanRun(r);
    expect(r.code, describeRun(r)).toBe(0);
  });
});
