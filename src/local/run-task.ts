// Runs a planned task on a Docker Engine with Fargate's semantics, and always cleans up.
//
//   pause container (the task's network namespace; PID/IPC when asked)
//   └─ every container joins it (--network container:pause): they share localhost
//
// Each container is created and started once its dependencies (dependsOn, volumesFrom) allow;
// when an essential container exits, or the caller aborts (Ctrl-C/SIGTERM), or --timeout passes,
// the task stops: containers not yet started never start, running ones are stopped (their stop
// signal, SIGKILL after stopTimeout) dependents first. Then every container, the pause container,
// the task's volumes and anonymous volumes are removed, whatever happened before.

import { DockerApiError, type DockerClient, type ImageInspect } from "./docker-client.js";
import { LineSplitter, type StreamName } from "./docker-stream.js";
import { pauseArch, pauseImage } from "./pause-image.js";
import {
  containerCreateBody,
  dependentsOf,
  LABEL_RUN,
  pauseCreateBody,
  type ContainerPlan,
  type TaskPlan,
} from "./plan.js";
import { METADATA_VARIABLE, metadataPath, startMetadataServer, type MetadataServer } from "./task-metadata.js";

export type PullPolicy = "missing" | "never";

export interface OutputLine {
  /** The container's name, or null for vigil's own messages. */
  container: string | null;
  stream: StreamName;
  text: string;
}

export interface RunTaskOptions {
  docker: DockerClient;
  plan: TaskPlan;
  output: (line: OutputLine) => void;
  /** Aborting stops the task like `aws ecs stop-task`; `reason` names why (e.g. "SIGTERM"). */
  stop?: AbortSignal;
  /** A second abort: kill everything now (SIGKILL), skipping stopTimeout. */
  kill?: AbortSignal;
  timeoutMs?: number;
  pull?: PullPolicy;
  /**
   * The X-Registry-Auth value to pull `ref` with, or null for an anonymous pull (the CLI finds
   * credentials as `src/registry/credentials.ts` does: VIGIL_REGISTRY_*, Docker's config, ECR).
   */
  registryAuth?: (ref: string) => Promise<string | null>;
  /** Called once the pause container runs, with its id (tests use it to reach the task). */
  onPauseStarted?: (id: string) => void;
  /** Called once a container started, with its name and id. */
  onContainerStarted?: (name: string, id: string) => void;
  /**
   * Serve the task metadata endpoint v4 (ECS_CONTAINER_METADATA_URI_V4) on 127.0.0.1; only with
   * --network host, where the task can reach it. Default true.
   */
  metadata?: boolean;
}

export type ContainerStatus = "exited" | "not-started" | "failed";

export interface ContainerResult {
  name: string;
  essential: boolean;
  status: ContainerStatus;
  exitCode: number | null;
  reason: string;
  health: HealthStatus | null;
}

export type HealthStatus = "starting" | "healthy" | "unhealthy";

export type StopCause = "essential-exit" | "stop-request" | "timeout" | "failure";

export interface TaskResult {
  /** The task's exit code: the essential container's (see `taskExitCode`). */
  exitCode: number;
  stopCause: StopCause;
  stoppedReason: string;
  containers: ContainerResult[];
  /** What could not be removed (should be empty). */
  leftovers: string[];
}

/** Exit codes of the task when no essential container's code applies. */
export const EXIT_TIMEOUT = 124;
export const EXIT_TASK_FAILED = 125;

interface Deferred<T> {
  promise: Promise<T>;
  resolve: (v: T) => void;
  settled: boolean;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (v: T) => void;
  const d: Deferred<T> = { promise: new Promise<T>((r) => (resolve = r)), resolve: (v) => { if (!d.settled) { d.settled = true; resolve(v); } }, settled: false };
  return d;
}

const sleep = (ms: number, signal?: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    const t = setTimeout(done, ms);
    function done(): void {
      clearTimeout(t);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });

class ContainerRun {
  id: string | null = null;
  result: ContainerResult;
  /** Resolved once the container exists (true) or never will (false). */
  readonly created = deferred<boolean>();
  /** Resolved once it started (true) or never will (false). */
  readonly started = deferred<boolean>();
  /** Resolved with the exit code once it exited, or null when it never ran. */
  readonly exited = deferred<number | null>();
  readonly healthy = deferred<boolean>();
  readonly healthChanged = new Set<() => void>();
  stopRequestedAt: number | null = null;
  logs: Promise<void> = Promise.resolve();
  readonly logAbort = new AbortController();

  constructor(readonly plan: ContainerPlan) {
    this.result = { name: plan.name, essential: plan.essential, status: "not-started", exitCode: null, reason: "", health: plan.healthCheck === null ? null : "starting" };
  }

  get done(): Promise<unknown> {
    return this.exited.promise;
  }
}

export async function runTask(options: RunTaskOptions): Promise<TaskResult> {
  return new TaskRun(options).run();
}

class TaskRun {
  private readonly plan: TaskPlan;
  private readonly docker: DockerClient;
  private readonly runs: Map<string, ContainerRun>;
  private readonly stopping = deferred<void>();
  private stopCause: StopCause | null = null;
  private stoppedReason = "";
  private stopBy: string | null = null;
  private pauseId: string | null = null;
  private readonly createdVolumes: string[] = [];
  private readonly createdOrder: ContainerRun[] = [];
  private killed = false;
  private metadata: MetadataServer | null = null;

  constructor(private readonly options: RunTaskOptions) {
    this.plan = options.plan;
    this.docker = options.docker;
    this.runs = new Map(options.plan.containers.map((c) => [c.name, new ContainerRun(c)]));
  }

  private say(text: string, stream: StreamName = "stderr"): void {
    this.options.output({ container: null, stream, text });
  }

  /** Starts stopping the task (once); the first reason is the task's stoppedReason. */
  private requestStop(cause: StopCause, reason: string, by: string | null = null): void {
    if (this.stopCause !== null) return;
    this.stopCause = cause;
    this.stoppedReason = reason;
    this.stopBy = by;
    this.say(`task stopping: ${reason}`);
    this.stopping.resolve();
  }

  async run(): Promise<TaskResult> {
    const onStop = (): void => this.requestStop("stop-request", `stop requested (${describeReason(this.options.stop?.reason)})`);
    const onKill = (): void => {
      this.killed = true;
      this.requestStop("stop-request", `killed (${describeReason(this.options.kill?.reason)})`);
      void this.killAll();
    };
    this.options.stop?.addEventListener("abort", onStop, { once: true });
    this.options.kill?.addEventListener("abort", onKill, { once: true });
    if (this.options.stop?.aborted === true) onStop();
    const timer =
      this.options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => this.requestStop("timeout", `--timeout ${Math.round((this.options.timeoutMs ?? 0) / 1000)}s reached`), this.options.timeoutMs);
    let leftovers: string[] = [];
    try {
      try {
        await this.startPause();
        await this.createVolumes();
        await this.startMetadata();
      } catch (error) {
        this.requestStop("failure", `the task could not be set up: ${messageOf(error)}`);
      }
      if (this.stopCause === null) {
        await Promise.all([...this.runs.values()].map((r) => this.launch(r)));
      } else {
        for (const r of this.runs.values()) this.neverRuns(r, "not started: the task could not be set up");
      }
      if (this.stopCause === null) this.requestStop("essential-exit", "every container exited");
    } finally {
      if (timer !== undefined) clearTimeout(timer);
      this.options.stop?.removeEventListener("abort", onStop);
      this.options.kill?.removeEventListener("abort", onKill);
      leftovers = await this.cleanup();
    }
    const containers = [...this.runs.values()].map((r) => r.result);
    return {
      exitCode: this.exitCode(containers),
      stopCause: this.stopCause ?? "failure",
      stoppedReason: this.stoppedReason,
      containers,
      leftovers,
    };
  }

  private exitCode(containers: readonly ContainerResult[]): number {
    if (this.stopCause === "failure") return EXIT_TASK_FAILED;
    if (this.stopCause === "timeout") return EXIT_TIMEOUT;
    const by = this.stopBy === null ? undefined : containers.find((c) => c.name === this.stopBy);
    if (by?.exitCode !== null && by?.exitCode !== undefined) return by.exitCode;
    const essential = containers.find((c) => c.essential && c.exitCode !== null);
    if (essential?.exitCode !== null && essential?.exitCode !== undefined) return essential.exitCode;
    return EXIT_TASK_FAILED;
  }

  // --- setup ------------------------------------------------------------------------------------
  private async startPause(): Promise<void> {
    const version = await this.docker.json<{ Arch?: string }>("GET", "/version", { timeoutMs: 10_000 });
    const arch = pauseArch(version.Arch ?? "");
    if (arch === null) throw new Error(`the Docker Engine's architecture "${version.Arch ?? "?"}" is not supported (amd64, arm64)`);
    const image = pauseImage(arch);
    if ((await this.docker.imageInspect(image.ref)) === null) {
      await this.docker.imageImport(image.tar, image.repo, image.tag, image.changes);
    }
    this.pauseId = await this.docker.containerCreate(this.plan.pause.dockerName, pauseCreateBody(this.plan, image.ref));
    await this.docker.containerStart(this.pauseId);
    this.options.onPauseStarted?.(this.pauseId);
  }

  private async startMetadata(): Promise<void> {
    if (this.plan.network !== "host" || this.options.metadata === false) return;
    this.metadata = await startMetadataServer(this.plan);
    this.say(`task metadata endpoint: ${this.metadata.base}/v4/… (${METADATA_VARIABLE})`);
  }

  private async createVolumes(): Promise<void> {
    for (const v of this.plan.volumes) {
      if (v.dockerName === null) continue;
      await this.docker.volumeCreate(v.dockerName, this.plan.labels);
      this.createdVolumes.push(v.dockerName);
    }
  }

  // --- one container ----------------------------------------------------------------------------
  private neverRuns(r: ContainerRun, reason: string, status: ContainerStatus = "not-started"): void {
    if (r.exited.settled) return;
    r.result.status = status;
    r.result.reason = reason;
    r.created.resolve(r.id !== null);
    r.started.resolve(false);
    r.healthy.resolve(false);
    r.exited.resolve(null);
  }

  private async launch(r: ContainerRun): Promise<void> {
    const c = r.plan;
    try {
      const blocked = await this.waitForDependencies(r);
      if (blocked !== null) {
        this.neverRuns(r, blocked);
        if (c.essential) this.requestStop("failure", `essential container ${c.name} could not start: ${blocked}`);
        return;
      }
      if (this.stopCause !== null) return this.neverRuns(r, "not started: the task was stopping");
      const image = await this.resolveImage(c.image);
      if (this.stopCause !== null) return this.neverRuns(r, "not started: the task was stopping");
      const runtimeEnv = this.metadata === null ? [] : [`${METADATA_VARIABLE}=${this.metadata.base}${metadataPath(this.plan, c.name)}`];
      r.id = await this.docker.containerCreate(c.dockerName, containerCreateBody(this.plan, c, image, runtimeEnv));
      this.metadata?.record(c.name, { dockerId: r.id, imageId: image.Id, createdAt: new Date().toISOString() });
      this.createdOrder.push(r);
      r.created.resolve(true);
      if (this.stopCause !== null) return this.neverRuns(r, "not started: the task was stopping");
      await this.docker.containerStart(r.id);
    } catch (error) {
      // ECS stops the whole task when a container cannot be pulled, created or started.
      this.neverRuns(r, `failed to start: ${messageOf(error)}`, "failed");
      this.say(`${c.name}: failed to start: ${messageOf(error)}`);
      this.requestStop("failure", `container ${c.name} failed to start: ${messageOf(error)}`);
      return;
    }
    const id = r.id;
    r.result.status = "exited";
    this.metadata?.record(c.name, { startedAt: new Date().toISOString() });
    r.started.resolve(true);
    this.say(`${c.name}: started (${c.image})`);
    this.options.onContainerStarted?.(c.name, id);
    r.logs = this.followLogs(r, id);
    const health = c.healthCheck === null ? Promise.resolve() : this.checkHealth(r, id);
    const stopper = this.stopping.promise.then(() => this.stopContainer(r, id));
    let code: number;
    try {
      code = await this.docker.containerWait(id);
    } catch (error) {
      code = -1;
      r.result.reason = `lost track of the container: ${messageOf(error)}`;
    }
    let oom = false;
    try {
      const inspected = await this.docker.containerInspect(id);
      code = inspected.State.ExitCode;
      oom = inspected.State.OOMKilled;
    } catch {
      // keep the code from wait
    }
    r.result.exitCode = code;
    this.metadata?.record(c.name, { exitCode: code });
    r.result.reason = this.exitReason(r, code, oom);
    r.healthy.resolve(false);
    r.exited.resolve(code);
    this.say(`${c.name}: exited with code ${code}${r.result.reason === "" ? "" : ` (${r.result.reason})`}`);
    if (c.essential) this.requestStop("essential-exit", `essential container ${c.name} exited with code ${code}`, c.name);
    await health;
    void stopper;
  }

  private exitReason(r: ContainerRun, code: number, oom: boolean): string {
    if (oom) return "killed: out of memory (the container's memory limit)";
    if (r.stopRequestedAt === null) return code === 0 ? "exited by itself" : "exited by itself (failed)";
    const waited = (Date.now() - r.stopRequestedAt) / 1000;
    if (this.killed) return "killed (SIGKILL) on a second stop request";
    if (code === 137 && waited >= r.plan.stopTimeout - 0.5) return `killed (SIGKILL) after stopTimeout ${r.plan.stopTimeout}s`;
    return "stopped with the task";
  }

  /** null when every dependency condition holds; otherwise why the container will not start. */
  private async waitForDependencies(r: ContainerRun): Promise<string | null> {
    const c = r.plan;
    const waits: Promise<string | null>[] = [];
    for (const v of c.volumesFrom) {
      const src = this.runs.get(v.container);
      if (src === undefined) continue;
      waits.push(src.created.promise.then((ok) => (ok ? null : `volumesFrom ${v.container}: that container was never created`)));
    }
    for (const dep of c.dependsOn) {
      const t = this.runs.get(dep.container);
      if (t === undefined) continue;
      switch (dep.condition) {
        case "START":
          waits.push(t.started.promise.then((ok) => (ok ? null : `dependency ${t.plan.name} (START) never started`)));
          break;
        case "COMPLETE":
          waits.push(t.exited.promise.then((code) => (code !== null ? null : `dependency ${t.plan.name} (COMPLETE) never ran`)));
          break;
        case "SUCCESS":
          waits.push(
            t.exited.promise.then((code) =>
              code === 0 ? null : code === null ? `dependency ${t.plan.name} (SUCCESS) never ran` : `dependency ${t.plan.name} exited with code ${code}; SUCCESS needs 0`,
            ),
          );
          break;
        case "HEALTHY":
          waits.push(t.healthy.promise.then((ok) => (ok ? null : `dependency ${t.plan.name} (HEALTHY) never became healthy`)));
          break;
      }
    }
    if (waits.length === 0) return null;
    const all = Promise.all(waits).then((reasons) => reasons.find((x) => x !== null) ?? null);
    // A failed dependency answers at once; otherwise wait for all, the task stopping, or startTimeout.
    const firstFailure = new Promise<string>((resolve) => {
      for (const w of waits) void w.then((reason) => { if (reason !== null) resolve(reason); });
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`dependencies not met within startTimeout ${c.startTimeout}s`), c.startTimeout * 1000);
    });
    const stopped = this.stopping.promise.then(() => "not started: the task was stopping");
    try {
      return await Promise.race([all, firstFailure, timeout, stopped]);
    } finally {
      clearTimeout(timer);
    }
  }

  private async resolveImage(ref: string): Promise<ImageInspect> {
    let image = await this.docker.imageInspect(ref);
    if (image !== null) return image;
    if ((this.options.pull ?? "missing") === "never") {
      throw new Error(`image ${ref} is not on this Docker Engine (--pull never)`);
    }
    this.say(`pulling ${ref}`);
    let auth: string | null = null;
    try {
      auth = (await this.options.registryAuth?.(ref)) ?? null;
      await this.docker.imagePull(ref, undefined, auth ?? undefined);
    } catch (error) {
      const hint = auth === null && this.options.registryAuth !== undefined ? " (pulled without credentials: none found in VIGIL_REGISTRY_USERNAME/PASSWORD or Docker's config for this registry)" : "";
      throw new Error(`image ${ref} is not on this Docker Engine and could not be pulled: ${messageOf(error)}${hint}`);
    }
    image = await this.docker.imageInspect(ref);
    if (image === null) throw new Error(`image ${ref} was pulled but the engine does not show it`);
    return image;
  }

  private async followLogs(r: ContainerRun, id: string): Promise<void> {
    const splitters: Record<StreamName, LineSplitter> = { stdout: new LineSplitter(), stderr: new LineSplitter() };
    const emit = (stream: StreamName, lines: string[]): void => {
      for (const text of lines) this.options.output({ container: r.plan.name, stream, text });
    };
    try {
      await this.docker.containerLogs(id, (f) => emit(f.stream, splitters[f.stream].push(f.data)), r.logAbort.signal);
    } catch (error) {
      if (!r.logAbort.signal.aborted) this.say(`${r.plan.name}: log stream ended: ${messageOf(error)}`);
    }
    emit("stdout", splitters.stdout.end());
    emit("stderr", splitters.stderr.end());
  }

  private async checkHealth(r: ContainerRun, id: string): Promise<void> {
    const hc = r.plan.healthCheck;
    if (hc === null) return;
    const startedAt = Date.now();
    let failures = 0;
    const ended = new AbortController();
    void r.exited.promise.then(() => ended.abort());
    const set = (status: HealthStatus): void => {
      if (r.result.health === status) return;
      r.result.health = status;
      this.say(`${r.plan.name}: health: ${status}`);
      if (status === "healthy") r.healthy.resolve(true);
    };
    // Like Docker: the first probe one interval after the start, then every interval.
    for (;;) {
      await sleep(hc.intervalMs, ended.signal);
      if (ended.signal.aborted) return;
      let ok = false;
      let detail = "";
      try {
        const res = await this.docker.exec(id, hc.cmd, { timeoutMs: hc.timeoutMs });
        ok = res.exitCode === 0;
        detail = res.timedOut ? `timed out after ${hc.timeoutMs / 1000}s` : `exit code ${String(res.exitCode)}`;
      } catch (error) {
        if (ended.signal.aborted) return;
        detail = messageOf(error);
      }
      if (ok) {
        failures = 0;
        set("healthy");
      } else if (Date.now() - startedAt >= hc.startPeriodMs) {
        failures++;
        if (failures >= hc.retries) set("unhealthy");
        if (failures === hc.retries) this.say(`${r.plan.name}: health check failed ${failures} times (last: ${detail})`);
      }
    }
  }

  // --- stopping ---------------------------------------------------------------------------------
  private async stopContainer(r: ContainerRun, id: string): Promise<void> {
    if (r.exited.settled) return;
    // Dependencies are reversed for shutdown: containers that depend on this one stop first.
    const dependents = dependentsOf(this.plan, r.plan.name).map((n) => this.runs.get(n)).filter((x): x is ContainerRun => x !== undefined);
    await Promise.all(dependents.map((d) => d.done));
    if (r.exited.settled || this.killed) return;
    r.stopRequestedAt = Date.now();
    try {
      await this.docker.containerStop(id, r.plan.stopTimeout);
    } catch (error) {
      this.say(`${r.plan.name}: stop failed: ${messageOf(error)}; killing it`);
      await this.docker.containerKill(id, "KILL").catch(() => undefined);
    }
  }

  private async killAll(): Promise<void> {
    for (const r of this.runs.values()) {
      if (r.id !== null && !r.exited.settled) {
        r.stopRequestedAt ??= Date.now();
        await this.docker.containerKill(r.id, "KILL").catch(() => undefined);
      }
    }
  }

  // --- cleanup ----------------------------------------------------------------------------------
  private async cleanup(): Promise<string[]> {
    const left: string[] = [];
    await this.metadata?.close();
    this.metadata = null;
    const anonymous = new Set<string>();
    // Log streams end with their containers; give them a moment, then cut them.
    const logs = [...this.runs.values()].map((r) => r.logs);
    const grace = new AbortController();
    await Promise.race([Promise.all(logs), sleep(5_000, grace.signal)]);
    grace.abort();
    for (const r of this.runs.values()) r.logAbort.abort();
    const named = new Set(this.createdVolumes);
    const remove = async (id: string, what: string): Promise<void> => {
      try {
        const inspected = await this.docker.containerInspect(id);
        for (const m of inspected.Mounts ?? []) if (m.Type === "volume" && m.Name !== undefined && !named.has(m.Name)) anonymous.add(m.Name);
      } catch {
        // gone already, or the engine is unhappy: removal below says which
      }
      try {
        await this.docker.containerRemove(id);
      } catch (error) {
        left.push(`container ${what} (${id.slice(0, 12)}): ${messageOf(error)}`);
      }
    };
    // Consumers of volumes before their sources, then the pause container.
    for (const r of [...this.createdOrder].reverse()) if (r.id !== null) await remove(r.id, r.plan.dockerName);
    if (this.pauseId !== null) await remove(this.pauseId, this.plan.pause.dockerName);
    // Anything else labelled with this run (e.g. a create that answered late).
    try {
      for (const c of await this.docker.containerList(`${LABEL_RUN}=${this.plan.runId}`)) await remove(c.Id, c.Names[0] ?? c.Id);
    } catch (error) {
      left.push(`containers of run ${this.plan.runId}: could not list them: ${messageOf(error)}`);
    }
    for (const name of [...this.createdVolumes, ...anonymous]) {
      try {
        await this.docker.volumeRemove(name);
      } catch (error) {
        left.push(`volume ${name}: ${messageOf(error)}`);
      }
    }
    try {
      for (const v of await this.docker.volumeList(`${LABEL_RUN}=${this.plan.runId}`)) {
        await this.docker.volumeRemove(v.Name).catch((error: unknown) => left.push(`volume ${v.Name}: ${messageOf(error)}`));
      }
    } catch (error) {
      left.push(`volumes of run ${this.plan.runId}: could not list them: ${messageOf(error)}`);
    }
    return left;
  }
}

function messageOf(error: unknown): string {
  if (error instanceof DockerApiError) return error.detail;
  return error instanceof Error ? error.message : String(error);
}

function describeReason(reason: unknown): string {
  if (typeof reason === "string") return reason;
  if (reason instanceof Error && reason.name !== "AbortError") return reason.message;
  return "aborted";
}
