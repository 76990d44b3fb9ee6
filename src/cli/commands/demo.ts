// vigil demo: the quick start. Starts a console (SQLite in a temporary directory, on 127.0.0.1,
// HTTPS with a throwaway CA), then runs a small shell "app" under the enforcer with a demo policy
// and the enforcer shipping its events to that console: one exec the policy allows, one it denies
// by name, one it blocks because it is not on the allowlist (a copy of a system binary run from a
// temporary directory, as an attacker's dropped tool would be). Shows what the enforcer reported
// and what the console received. In a terminal the console stays up for the page until Ctrl-C;
// otherwise (or with --no-wait) the demo ends there. Either way it leaves no files or processes.

import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { ConsoleView } from "../../demo/console-view.js";
import { waitForConsoleView } from "../../demo/console-view.js";
import type { DemoConsole } from "../../demo/demo-console.js";
import { startDemoConsole } from "../../demo/demo-console.js";
import { parseEventLines } from "../../events/schema.js";
import type { ExecEvent, VigilEvent } from "../../events/schema.js";
import { formatEventSummary } from "../../events/summary.js";
import { withTempDir } from "../../fs/temp-dir.js";
import { compilePolicySource } from "../../policy/compile-source.js";
import { signalStatus } from "../../runner/exit-status.js";
import { locateEnforcer } from "../../runner/locate-enforcer.js";
import { runEnforcer } from "../../runner/run-enforcer.js";
import { SignalRelay } from "../../runner/signal-relay.js";
import { EXIT_FINDINGS, UserError } from "../errors.js";
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

const USAGE = "usage: vigil demo [--no-wait]";
/** How long the console may take to show what the enforcer shipped (it flushes within 2 s of exit). */
const CONSOLE_WAIT_MS = 15_000;
/** Variables of the person's own console setup that must not leak into the demo's enforcer. */
const ENFORCER_CONSOLE_VARS = ["VIGIL_CONSOLE", "VIGIL_TOKEN", "VIGIL_CONSOLE_CA", "VIGIL_CONSOLE_INSECURE", "VIGIL_CONSOLE_QUEUE"];

export async function demoCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  let noWait = false;
  for (const arg of argv) {
    if (arg === "--help" || arg === "-h") return { code: 0, stdout: `${USAGE}\n`, stderr: "" };
    if (arg !== "--no-wait") throw new UserError(`demo: unknown argument ${arg}`, USAGE);
    noWait = true;
  }
  // Keep the console up for the page only when a person is looking at a terminal.
  const interactive = !noWait && io.stdio === "inherit" && process.stdout.isTTY === true;
  const enforcer = locateEnforcer(io.env);
  const compiled = compilePolicySource(DEMO_POLICY, "demo.yaml");
  if (compiled.text === null) throw new Error(`bug: the demo policy does not compile: ${JSON.stringify(compiled.errors)}`);
  const policyText = compiled.text;

  const relay = new SignalRelay();
  const stop = new StopSignal();
  try {
    return await withTempDir(io.env, "vigil-demo-", async (dir) => {
      const consoleDir = join(dir, "console");
      const appDir = join(dir, "app");
      await mkdir(consoleDir, { mode: 0o700 });
      await mkdir(appDir, { mode: 0o700 });
      const policyPath = join(dir, "demo.policy");
      const appPath = join(appDir, "app.sh");
      const eventsPath = join(dir, "events.jsonl");
      await writeFile(policyPath, policyText, { mode: 0o600 });
      await writeFile(appPath, DEMO_APP, { mode: 0o600 });

      const demoConsole = await startDemoConsole(consoleDir, io.env);
      try {
        if (stop.received !== null) return { code: signalStatus(stop.received), stdout: "", stderr: "" };
        const env: Record<string, string | undefined> = { ...io.env };
        for (const name of ENFORCER_CONSOLE_VARS) delete env[name];
        const outcome = await runEnforcer(enforcer, ["--policy", policyPath, "--events", eventsPath, "--", "/bin/sh", appPath], {
          stdio: "capture",
          env: { ...env, ...demoConsole.enforcerEnv },
          cwd: appDir,
          relay,
        });
        const eventsText = await readFile(eventsPath, "utf8").catch(() => "");
        const local = parseEventLines(eventsText);
        const view = await waitForConsoleView(demoConsole.client, local.events.length, CONSOLE_WAIT_MS, () => stop.received !== null);
        if (stop.received !== null) return { code: signalStatus(stop.received), stdout: "", stderr: "" };
        const report = demoReport(outcome.status, outcome.stdout + outcome.stderr, eventsText, view, demoConsole, interactive);
        if (!interactive || report.code !== 0) return report;
        // A server cannot wait to print: show the report now, then keep the console up.
        process.stdout.write(report.stdout);
        await stop.wait();
        return { code: 0, stdout: "", stderr: "vigil demo: console stopped; everything the demo made is removed\n" };
      } finally {
        await demoConsole.close();
      }
    });
  } finally {
    stop.dispose();
    relay.dispose();
  }
}

/**
 * Remembers the first Ctrl-C (SIGINT), SIGTERM or SIGHUP for the whole demo, including while the
 * enforcer runs (when the relay forwards it to the enforcer and keeps no note), so the demo stops
 * waiting for the console and ends.
 */
class StopSignal {
  private static readonly SIGNALS: readonly NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  received: NodeJS.Signals | null = null;
  private waiters: (() => void)[] = [];
  private readonly handler = (signal: NodeJS.Signals): void => {
    this.received ??= signal;
    for (const wake of this.waiters.splice(0)) wake();
  };

  constructor() {
    for (const s of StopSignal.SIGNALS) process.on(s, this.handler);
  }

  /** Resolves at the first of those signals (at once if one came already). */
  wait(): Promise<void> {
    return this.received !== null ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }

  dispose(): void {
    for (const s of StopSignal.SIGNALS) process.off(s, this.handler);
  }
}

function demoReport(status: number, appOutput: string, eventsText: string, view: ConsoleView, demoConsole: DemoConsole, interactive: boolean): CliResult {
  const { events, errors } = parseEventLines(eventsText);
  const out: string[] = [];
  const tls = demoConsole.caPem === null ? "plain HTTP on loopback (openssl was not found for HTTPS)" : "HTTPS, certificate from a CA made for this demo";
  out.push(`Vigil demo: a console runs at ${demoConsole.url} (SQLite in a temporary directory, ${tls}).`);
  out.push("A shell script runs under vigil-enforcer with this policy, shipping its events to the console:", "", indent(DEMO_POLICY), "");
  out.push("The script:", "", indent(DEMO_APP), "");
  out.push(`What it printed (enforcer exit status ${status}):`, "", indent(appOutput.trimEnd()), "");
  out.push(`What the enforcer reported (${events.length} events):`, "", formatEventSummary(events), "");
  out.push("The same events as JSON lines (what goes to stderr, CloudWatch or --events FILE):", "", eventsText.trimEnd(), "");
  out.push(...consoleSection(view), "");

  const problems = errors.map((e) => `events line ${e.line} does not match the event schema: ${e.message}`);
  const execs = events.filter((e: VigilEvent): e is ExecEvent => e.kind === "exec");
  const perlBlocked = (e: VigilEvent): boolean => e.kind === "exec" && e.verdict === "blocked" && /\/perl[^/]*$/.test(e.exe);
  if (!execs.some((e) => e.verdict === "allowed" && e.exe.endsWith("/uname"))) problems.push("no `allowed` exec event for uname");
  if (!execs.some(perlBlocked)) problems.push("no `blocked` exec event for perl");
  if (status !== 0) problems.push(`the enforcer exited with status ${status}`);
  if (!view.blocked.some(perlBlocked)) {
    problems.push(
      `the console did not receive the blocked perl event within ${CONSOLE_WAIT_MS / 1000} s: the enforcer ships only when built with console support ` +
        "(rebuild it with `npm run build`); its own messages, if any, are above",
    );
  } else if (!view.complete) {
    problems.push(`the console holds ${view.total} events, fewer than the ${events.length} the enforcer wrote locally, or not its exit event`);
  }

  if (problems.length === 0) {
    out.push("The allowed programs ran; perl and the dropped copy never ran a single instruction, and the console shows it.");
    if (interactive) {
      out.push("", `Open ${demoConsole.url}/ and sign in as ${demoConsole.username} with password ${demoConsole.password}`);
      if (demoConsole.caPem !== null) {
        out.push(`(the browser does not know the demo's throwaway CA and warns once: accept it for this page; the CA is ${demoConsole.caPem}).`);
      }
      out.push("Press Ctrl-C to stop the console; the demo then removes everything it made.", "");
    } else {
      out.push("The console is stopped and everything the demo made is removed (run `vigil demo` in a terminal to keep the console up for the page).");
      out.push("Next: `vigil exec --policy policy.yaml -- your-command`, `vigil console` (see README.md).", "");
    }
    return { code: 0, stdout: out.join("\n"), stderr: "" };
  }
  const stderr = `vigil: the demo did not behave as expected:\n${problems.map((p) => `  - ${p}`).join("\n")}\nIf the enforcer printed a hint above (e.g. about ptrace), follow it; otherwise this is a bug in vigil.\n`;
  return { code: EXIT_FINDINGS, stdout: out.join("\n"), stderr };
}

function consoleSection(view: ConsoleView): string[] {
  const fleet = view.enforcers.map((e) => `group ${e.group}, ${e.protection}`).join("; ");
  const enforcers = `${view.enforcers.length} enforcer${view.enforcers.length === 1 ? "" : "s"}${fleet === "" ? "" : ` (${fleet})`}`;
  const v = view.byVerdict;
  const lines = [
    "What the console received (read back through its admin API, as the page shows it):",
    "",
    `  ${enforcers}, ${view.total} events: ${v.allowed} allowed, ${v.blocked} blocked, ${v.alert} alert.`,
  ];
  if (view.blocked.length > 0) lines.push("", "  The blocked ones:", "", formatEventSummary(view.blocked));
  return lines;
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => (line === "" ? "" : `    ${line}`))
    .join("\n")
    .trimEnd();
}
