// vigil local run TASKDEF [--env-file [REF=]FILE]... [--secret NAME[=VALUE]]... [--volume NAME=DIR]...
//                         [--network none|host] [--pull missing|never] [--timeout SECONDS]
//
// Runs an ECS task definition on the local Docker Engine with Fargate's semantics (src/local).
// Reads the task definition and the environment files, plans (pure), runs, prints each
// container's output prefixed with its name, then a summary; ends with the task's exit code.
// The first SIGINT/SIGTERM stops the task like ECS (stop signal, SIGKILL after stopTimeout); a
// second one kills every container at once. Nothing is left behind either way.

import { randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import { dirname, isAbsolute, resolve } from "node:path";
import { DockerClient } from "../../local/docker-client.js";
import { DockerHostError, dockerEndpoint } from "../../local/docker-host.js";
import { formatLocalDiagnostic } from "../../local/diagnostics.js";
import { planTask, type EnvFileText, type TaskNetwork } from "../../local/plan.js";
import { runTask, type OutputLine, type PullPolicy, type TaskResult } from "../../local/run-task.js";
import { pullAuth } from "../../local/registry-auth.js";
import { currentOwner, describeStaleRun, ownerLabels, removeStaleRuns } from "../../local/stale-runs.js";
import { parseTaskDefinition } from "../../local/task-definition.js";
import { UserError } from "../errors.js";
import type { CliIo, CliResult } from "../io.js";

const USAGE = `usage: vigil local run TASKDEF [--env-file [REF=]FILE]... [--secret NAME[=VALUE]]... [--volume NAME=DIR]...
                       [--network none|host] [--pull missing|never] [--timeout SECONDS]`;

export interface LocalRunArgs {
  taskDefinition: string;
  envFiles: { ref: string | null; path: string }[];
  secrets: { name: string; value: string | null }[];
  volumes: { name: string; dir: string }[];
  network: TaskNetwork;
  pull: PullPolicy;
  timeoutSeconds: number | null;
}

export function parseLocalRunArgs(argv: readonly string[]): LocalRunArgs {
  const args: LocalRunArgs = { taskDefinition: "", envFiles: [], secrets: [], volumes: [], network: "none", pull: "missing", timeoutSeconds: null };
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const eq = arg.indexOf("=");
    const [flag, inline] = arg.startsWith("--") && eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const value = (): string => {
      if (inline !== undefined) return inline;
      const v = argv[++i];
      if (v === undefined) throw new UserError(`local run: ${flag} needs a value`, USAGE);
      return v;
    };
    switch (flag) {
      case "--env-file": {
        const v = value();
        // REF=FILE names an environmentFiles entry (e.g. an S3 ARN); FILE alone applies to every container.
        const at = v.startsWith("arn:") ? v.indexOf("=") : v.lastIndexOf("=");
        args.envFiles.push(at > 0 ? { ref: v.slice(0, at), path: v.slice(at + 1) } : { ref: null, path: v });
        break;
      }
      case "--secret": {
        const v = value();
        const at = v.indexOf("=");
        args.secrets.push(at > 0 ? { name: v.slice(0, at), value: v.slice(at + 1) } : { name: v, value: null });
        break;
      }
      case "--volume": {
        const v = value();
        const at = v.indexOf("=");
        if (at <= 0 || !isAbsolute(v.slice(at + 1))) throw new UserError(`local run: --volume must be NAME=/absolute/dir; received "${v}"`);
        args.volumes.push({ name: v.slice(0, at), dir: v.slice(at + 1) });
        break;
      }
      case "--network": {
        const v = value();
        if (v !== "none" && v !== "host") throw new UserError(`local run: --network must be none or host; received "${v}"`, "no bridge network is used: none gives the task its own localhost, host shares this machine's");
        args.network = v;
        break;
      }
      case "--pull": {
        const v = value();
        if (v !== "missing" && v !== "never") throw new UserError(`local run: --pull must be missing or never; received "${v}"`);
        args.pull = v;
        break;
      }
      case "--timeout": {
        const v = value();
        const n = Number(v);
        if (!Number.isFinite(n) || n <= 0) throw new UserError(`local run: --timeout must be a positive number of seconds; received "${v}"`);
        args.timeoutSeconds = n;
        break;
      }
      default:
        if (arg.startsWith("-") && arg !== "-") throw new UserError(`local run: unknown option ${arg}`, USAGE);
        positional.push(arg);
    }
  }
  if (positional.length !== 1) throw new UserError(positional.length === 0 ? "local run: which task definition?" : "local run: one task definition at a time", USAGE);
  args.taskDefinition = positional[0] ?? "";
  return args;
}

export async function localCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  const [sub, ...rest] = argv;
  if (sub === "run") return localRunCommand(rest, io);
  throw new UserError(sub === undefined ? "local: which command?" : `local: unknown command "${sub}"`, USAGE);
}

export async function localRunCommand(argv: readonly string[], io: CliIo): Promise<CliResult> {
  const args = parseLocalRunArgs(argv);
  const file = args.taskDefinition === "-" ? "<stdin>" : resolve(io.cwd, args.taskDefinition);
  const text = args.taskDefinition === "-" ? await io.readStdin() : await readUserFile(file, "task definition");
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new UserError(`${file}: not valid JSON: ${error instanceof Error ? error.message : String(error)}`);
  }
  const parsed = parseTaskDefinition(json);
  const baseDir = args.taskDefinition === "-" ? io.cwd : dirname(file);

  // Effects before planning: environment files and secrets.
  const envFiles = new Map<string, EnvFileText>();
  const extraEnvFiles: EnvFileText[] = [];
  for (const e of args.envFiles) {
    const path = resolve(io.cwd, e.path);
    const t = { source: path, text: await readUserFile(path, "--env-file") };
    if (e.ref === null) extraEnvFiles.push(t);
    else envFiles.set(e.ref, t);
  }
  for (const c of parsed.value?.containers ?? []) {
    for (const f of c.environmentFiles) {
      if (envFiles.has(f.value) || f.value.startsWith("arn:")) continue;
      // A local path (or file:// URL) in the task definition, relative to the task definition's folder.
      const path = resolve(baseDir, f.value.replace(/^file:\/\//, ""));
      envFiles.set(f.value, { source: path, text: await readUserFile(path, `environmentFiles of ${c.name}`) });
    }
  }
  const secrets = new Map<string, string>();
  for (const s of args.secrets) {
    const value = s.value ?? io.env[s.name];
    if (value === undefined) throw new UserError(`local run: --secret ${s.name}: no value given and ${s.name} is not set in this environment`);
    secrets.set(s.name, value);
  }

  const runId = randomBytes(4).toString("hex");
  const owner = currentOwner();
  const { plan, diagnostics } = parsed.value === null
    ? { plan: null, diagnostics: parsed.diagnostics.list }
    : planTask({
        taskDefinition: parsed.value,
        runId,
        network: args.network,
        envFiles,
        extraEnvFiles,
        secrets,
        volumeOverrides: new Map(args.volumes.map((v) => [v.name, v.dir])),
        ownerLabels: ownerLabels(owner),
      });
  const allDiagnostics = [...parsed.diagnostics.list, ...diagnostics.filter((d) => !parsed.diagnostics.list.includes(d))];
  const report = allDiagnostics.map((d) => formatLocalDiagnostic(d, file)).join("\n");
  if (plan === null || allDiagnostics.some((d) => d.severity === "error")) {
    const n = allDiagnostics.filter((d) => d.severity === "error").length;
    throw new UserError(`local run: the task definition cannot run (${n} error${n === 1 ? "" : "s"}):\n${report}`);
  }

  let docker: DockerClient;
  try {
    docker = new DockerClient(dockerEndpoint(io.env["DOCKER_HOST"]));
  } catch (error) {
    if (error instanceof DockerHostError) throw new UserError(error.message);
    throw error;
  }
  try {
    await docker.ping();
  } catch (error) {
    throw new UserError(`local run: ${error instanceof Error ? error.message : String(error)}`);
  }

  const out = new OutputSink(io, plan.containers.map((c) => c.name));
  // Leftovers of runs whose vigil was killed (SIGKILL, a crash, a reboot) go first.
  try {
    for (const stale of await removeStaleRuns(docker, owner)) out.vigil(describeStaleRun(stale));
  } catch (error) {
    out.vigil(`warning: could not look for leftovers of earlier runs: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (report !== "") out.vigil(report);
  out.vigil(`task ${plan.family} (run ${runId}): ${plan.containers.length} container${plan.containers.length === 1 ? "" : "s"}, network ${plan.network === "none" ? "the task's own localhost" : "this machine's (host)"}`);

  const stop = new AbortController();
  const kill = new AbortController();
  const signals: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
  const onSignal = (signal: NodeJS.Signals): void => {
    if (!stop.signal.aborted) stop.abort(signal);
    else if (!kill.signal.aborted) kill.abort(signal);
  };
  // Nobody reads our output any more (`vigil local run | head`, a closed terminal): stop the task
  // like a signal would, instead of dying of EPIPE with the containers still running.
  const onOutputError = (error: NodeJS.ErrnoException): void => {
    out.closed = true;
    if (!stop.signal.aborted) stop.abort(`output closed (${error.code ?? error.message})`);
  };
  if (io.stdio === "inherit") {
    for (const s of signals) process.on(s, onSignal);
    process.stdout.on("error", onOutputError);
    process.stderr.on("error", onOutputError);
  }
  let result: TaskResult;
  try {
    result = await runTask({
      docker,
      plan,
      output: (line) => out.line(line),
      stop: stop.signal,
      kill: kill.signal,
      pull: args.pull,
      registryAuth: (ref) => pullAuth(ref, io.env),
      ...(args.timeoutSeconds === null ? {} : { timeoutMs: args.timeoutSeconds * 1000 }),
    });
  } finally {
    if (io.stdio === "inherit") for (const s of signals) process.off(s, onSignal);
    // The error listeners stay: a write of the summary may still fail.
  }
  out.vigil(summary(result));
  return { code: result.exitCode, stdout: out.stdout, stderr: out.stderr };
}

async function readUserFile(path: string, what: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? "";
    throw new UserError(`${what}: cannot read ${path}${code === "" ? "" : ` (${code})`}`);
  }
}

/** Prints live to this process's stdout/stderr ("inherit") or collects the text ("capture"). */
class OutputSink {
  stdout = "";
  stderr = "";
  /** Set once writing failed (EPIPE): later output is dropped. */
  closed = false;
  private readonly width: number;

  constructor(
    private readonly io: CliIo,
    names: readonly string[],
  ) {
    this.width = Math.max(5, ...names.map((n) => n.length));
  }

  line(l: OutputLine): void {
    if (l.container === null) return this.vigil(l.text);
    this.write(l.stream, `${l.container.padEnd(this.width)} | ${l.text}\n`);
  }

  vigil(text: string): void {
    for (const t of text.split("\n")) this.write("stderr", `${"vigil".padEnd(this.width)} : ${t}\n`);
  }

  private write(stream: "stdout" | "stderr", text: string): void {
    if (this.closed) return;
    if (this.io.stdio === "inherit") (stream === "stdout" ? process.stdout : process.stderr).write(text);
    else if (stream === "stdout") this.stdout += text;
    else this.stderr += text;
  }
}

export function summary(result: TaskResult): string {
  const rows = [["CONTAINER", "ESSENTIAL", "EXIT", "HEALTH", "REASON"]];
  for (const c of result.containers) {
    rows.push([c.name, c.essential ? "yes" : "no", c.exitCode === null ? "-" : String(c.exitCode), c.health ?? "-", c.reason]);
  }
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? "").length))) ?? [];
  const table = rows.map((r) => `  ${r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join("  ")}`.trimEnd());
  const lines = [`task stopped: ${result.stoppedReason}; exit code ${result.exitCode}`, ...table];
  if (result.leftovers.length > 0) lines.push("could not remove (remove them by hand):", ...result.leftovers.map((l) => `  ${l}`));
  return lines.join("\n");
}
