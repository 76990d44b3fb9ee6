// vigil demo: the quick start. Runs a small shell "app" under the enforcer with a demo policy:
// one exec the policy allows, one it denies by name, one it blocks because it is not on the
// allowlist (a copy of a system binary run from a temporary directory, as an attacker's dropped
// tool would be). Then shows what the enforcer reported. Leaves no files behind.

import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { parseEventLines } from "../../events/schema.js";
import type { ExecEvent, VigilEvent } from "../../events/schema.js";
import { formatEventSummary } from "../../events/summary.js";
import { withTempDir } from "../../fs/temp-dir.js";
import { compilePolicySource } from "../../policy/compile-source.js";
import { signalStatus } from "../../runner/exit-status.js";
import { locateEnforcer } from "../../runner/locate-enforcer.js";
import { runEnforcer } from "../../runner/run-enforcer.js";
import { SignalRelay } from "../../runner/signal-relay.js";
import { EXIT_FINDINGS } from "../errors.js";
import type { CliIo, CliResult } from "../io.js";

export const DEMO_POLICY = `apiVersion: vigil/v1
kind: Policy
metadata: { name: demo }
spec:
  mode: enforce
  exec:
    allow: ["/bin/*", "/usr/bin/*"]    # only the system's programs may run
    deny: ["/usr/bin/perl*"]           # ...except perl, a favourite of attackers
`;

export const DEMO_APP = `exec 2>&1    # show errors in order with the rest
echo "app: running uname (allowed)"
uname -s
echo "app: running perl (denied by the policy)"
perl -e 'print "app: perl ran\\n"' || echo "app: perl failed with status $?"
echo "app: copying /usr/bin/true here and running the copy (not on the allowlist)"
cp /usr/bin/true ./dropped-tool && ./dropped-tool && echo "app: the copy ran" || echo "app: the copy failed with status $?"
echo "app: done"
`;

export async function demoCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  if (argv.length > 0) {
    return { code: 2, stdout: "", stderr: `vigil: error: demo takes no arguments; received ${argv.join(" ")}\n` };
  }
  const enforcer = locateEnforcer(io.env);
  const compiled = compilePolicySource(DEMO_POLICY, "demo.yaml");
  if (compiled.text === null) throw new Error(`bug: the demo policy does not compile: ${JSON.stringify(compiled.errors)}`);
  const policyText = compiled.text;

  const relay = new SignalRelay();
  try {
    return await withTempDir(io.env, "vigil-demo-", async (dir) => {
      const policyPath = join(dir, "demo.policy");
      const appPath = join(dir, "app.sh");
      const eventsPath = join(dir, "events.jsonl");
      await writeFile(policyPath, policyText, { mode: 0o600 });
      await writeFile(appPath, DEMO_APP, { mode: 0o600 });
      if (relay.pending !== null) return { code: signalStatus(relay.pending), stdout: "", stderr: "" };
      const outcome = await runEnforcer(enforcer, ["--policy", policyPath, "--events", eventsPath, "--", "/bin/sh", appPath], {
        stdio: "capture",
        env: io.env,
        cwd: dir,
        relay,
      });
      const eventsText = await readFile(eventsPath, "utf8").catch(() => "");
      return demoReport(outcome.status, outcome.stdout + outcome.stderr, eventsText);
    });
  } finally {
    relay.dispose();
  }
}

function demoReport(status: number, appOutput: string, eventsText: string): CliResult {
  const { events, errors } = parseEventLines(eventsText);
  const out: string[] = [];
  out.push("Vigil demo: a shell script runs under vigil-enforcer with this policy:", "", indent(DEMO_POLICY), "");
  out.push("The script:", "", indent(DEMO_APP), "");
  out.push(`What it printed (enforcer exit status ${status}):`, "", indent(appOutput.trimEnd()), "");
  out.push(`What the enforcer reported (${events.length} events):`, "", formatEventSummary(events), "");
  out.push("The same events as JSON lines (what goes to stderr, CloudWatch or --events FILE):", "", eventsText.trimEnd(), "");

  const problems = errors.map((e) => `events line ${e.line} does not match the event schema: ${e.message}`);
  const execs = events.filter((e: VigilEvent): e is ExecEvent => e.kind === "exec");
  if (!execs.some((e) => e.verdict === "allowed" && e.exe.endsWith("/uname"))) problems.push("no `allowed` exec event for uname");
  if (!execs.some((e) => e.verdict === "blocked" && /\/perl[^/]*$/.test(e.exe))) problems.push("no `blocked` exec event for perl");
  if (status !== 0) problems.push(`the enforcer exited with status ${status}`);

  if (problems.length === 0) {
    out.push("The allowed programs ran; perl and the dropped copy never ran a single instruction.");
    out.push("Next: `vigil exec --policy policy.yaml -- your-command` (see README.md).", "");
    return { code: 0, stdout: out.join("\n"), stderr: "" };
  }
  const stderr = `vigil: the demo did not behave as expected:\n${problems.map((p) => `  - ${p}`).join("\n")}\nIf the enforcer printed a hint above (e.g. about ptrace), follow it; otherwise this is a bug in vigil.\n`;
  return { code: EXIT_FINDINGS, stdout: out.join("\n"), stderr };
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? "" : `    ${line}`))
    .join("\n")
    .trimEnd();
}
