// Task definition → what to create on the Docker Engine, as data. Pure: the caller reads the
// environment files, secrets and image configs; `run-task.ts` does the effects.

import { Diagnostics, type LocalDiagnostic } from "./diagnostics.js";
import { mergeEnvironment, parseEnvFile } from "./env-file.js";
import type { ImageInspect } from "./docker-client.js";
import type { ContainerDefinition, DependencyCondition, TaskDefinition } from "./task-definition.js";

/** Fargate's defaults. */
export const DEFAULT_STOP_TIMEOUT = 30;
export const DEFAULT_START_TIMEOUT = 180;

export const LABEL_RUN = "vigil.local.run";
export const LABEL_CONTAINER = "vigil.local.container";
export const LABEL_FAMILY = "vigil.local.family";

export type TaskNetwork = "none" | "host";

export interface EnvFileText {
  /** Where it came from, for messages (a path). */
  source: string;
  text: string;
}

export interface PlanInput {
  taskDefinition: TaskDefinition;
  runId: string;
  network: TaskNetwork;
  /** Contents of `environmentFiles` entries, by their `value` (an S3 ARN or a local path). */
  envFiles: ReadonlyMap<string, EnvFileText>;
  /** `--env-file PATH`: added to every container, after its own files. */
  extraEnvFiles: readonly EnvFileText[];
  /** `--secret NAME=VALUE`. */
  secrets: ReadonlyMap<string, string>;
  /** `--volume NAME=DIR`: a task volume replaced by a bind mount of this machine's directory. */
  volumeOverrides: ReadonlyMap<string, string>;
  /** Labels naming the vigil process that runs the task (`stale-runs.ts`), on everything it creates. */
  ownerLabels?: Readonly<Record<string, string>>;
}

export interface HealthCheckPlan {
  cmd: string[];
  intervalMs: number;
  timeoutMs: number;
  retries: number;
  startPeriodMs: number;
}

export interface VolumePlan {
  name: string;
  /** The Docker volume created for the task (removed at the end), or null for a bind mount. */
  dockerName: string | null;
  hostPath: string | null;
}

export interface ContainerPlan {
  name: string;
  dockerName: string;
  image: string;
  essential: boolean;
  dependsOn: { container: string; condition: DependencyCondition }[];
  /** Containers whose volumes this one mounts: they must exist (be created) first. */
  volumesFrom: { container: string; readOnly: boolean }[];
  stopTimeout: number;
  startTimeout: number;
  healthCheck: HealthCheckPlan | null;
  env: string[];
  definition: ContainerDefinition;
}

export interface TaskPlan {
  runId: string;
  family: string;
  /** The task definition's revision, when the input has one (a describe output). */
  revision?: string;
  network: TaskNetwork;
  labels: Record<string, string>;
  pause: { dockerName: string; sharePid: boolean; shareIpc: boolean };
  volumes: VolumePlan[];
  containers: ContainerPlan[];
  diagnostics: LocalDiagnostic[];
}

const CONTAINER_FIELDS_HANDLED = new Set([
  "name", "image", "essential", "entryPoint", "command", "environment", "environmentFiles", "secrets",
  "workingDirectory", "user", "mountPoints", "volumesFrom", "dependsOn", "healthCheck", "linuxParameters",
  "readonlyRootFilesystem", "ulimits", "stopTimeout", "startTimeout", "memory", "memoryReservation", "cpu",
  "dockerLabels", "versionConsistency",
]);

/** Container fields that exist in ECS but are not emulated here: why, and what to do. */
const CONTAINER_FIELDS_NOT_EMULATED: Record<string, string> = {
  portMappings: "ports are not published: on Fargate they are the task's own ports; here only the task's containers reach them, or this machine with --network host",
  logConfiguration: "logs are printed here (prefixed with the container name), not sent to the log driver",
  firelensConfiguration: "FireLens is not emulated: the log router container runs, but no log is routed to it",
  repositoryCredentials: "images are pulled with this machine's Docker credentials",
  hostname: "containers of an awsvpc task share the task's hostname",
  links: "not valid with awsvpc (Fargate): containers reach each other on localhost",
  extraHosts: "not valid with awsvpc (Fargate)",
  dnsServers: "not valid with awsvpc (Fargate)",
  dnsSearchDomains: "not valid with awsvpc (Fargate)",
  dockerSecurityOptions: "not valid on Fargate",
  privileged: "not valid on Fargate",
  interactive: "stdin is not attached",
  pseudoTerminal: "no TTY is allocated",
  systemControls: "kernel parameters are not set",
  resourceRequirements: "GPUs and accelerators are not emulated",
  credentialSpecs: "not emulated",
  restartPolicy: "containers are not restarted",
  disableNetworking: "not emulated: the container shares the task's network namespace",
};

const LINUX_PARAMETERS_HANDLED = new Set(["capabilities", "initProcessEnabled"]);

const TASK_FIELDS_IGNORED = new Set([
  "family", "containerDefinitions", "volumes", "networkMode", "pidMode", "ipcMode", "requiresCompatibilities",
  "placementConstraints", "tags", "executionRoleArn", "enableFaultInjection",
  // read-only fields of DescribeTaskDefinition
  "taskDefinitionArn", "revision", "status", "requiresAttributes", "compatibilities", "registeredAt",
  "registeredBy", "deregisteredAt", "deleteRequestedAt",
]);

const TASK_FIELDS_NOT_EMULATED: Record<string, string> = {
  taskRoleArn: "containers get no task-role credentials (no 169.254.170.2 endpoint here); pass AWS_* variables with --env-file if the app needs AWS",
  cpu: "the task's CPU size is not enforced (container cpu is)",
  memory: "the task's memory size is not enforced (container memory is)",
  ephemeralStorage: "ephemeral storage size is not enforced",
  proxyConfiguration: "App Mesh proxy configuration is not emulated",
  inferenceAccelerators: "not emulated",
  runtimePlatform: "",
};

/** A name Docker accepts, unique to this run. */
export function dockerNameFor(family: string, runId: string, container: string): string {
  const fam = family.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, 60);
  return `vigil-${fam}-${runId}-${container}`;
}

export function planTask(input: PlanInput): { plan: TaskPlan | null; diagnostics: LocalDiagnostic[] } {
  const td = input.taskDefinition;
  const d = new Diagnostics();
  checkTaskFields(td, input, d);

  // volumes
  const volumeNames = new Set<string>();
  const volumes: VolumePlan[] = [];
  td.volumes.forEach((v, i) => {
    const at = `volumes[${i}]`;
    if (volumeNames.has(v.name)) d.error(`${at}.name`, `duplicate volume name "${v.name}"`);
    volumeNames.add(v.name);
    const override = input.volumeOverrides.get(v.name);
    if (override !== undefined) {
      volumes.push({ name: v.name, dockerName: null, hostPath: override });
      return;
    }
    for (const kind of ["efsVolumeConfiguration", "fsxWindowsFileServerVolumeConfiguration", "s3filesVolumeConfiguration"]) {
      if (v.raw[kind] !== undefined) {
        d.error(`${at}.${kind}`, "this storage cannot be mounted locally", `pass --volume ${v.name}=DIR to use a local directory instead`);
      }
    }
    if (v.raw["configuredAtLaunch"] === true) {
      d.error(`${at}.configuredAtLaunch`, "the volume is configured when the task is launched", `pass --volume ${v.name}=DIR`);
    }
    if (v.raw["dockerVolumeConfiguration"] !== undefined) {
      d.warning(`${at}.dockerVolumeConfiguration`, "not valid on Fargate; emulated as an empty volume removed with the task");
    }
    if (v.hostSourcePath !== null) {
      d.warning(`${at}.host.sourcePath`, "not valid on Fargate; bind-mounting this machine's path");
      volumes.push({ name: v.name, dockerName: null, hostPath: v.hostSourcePath });
      return;
    }
    volumes.push({ name: v.name, dockerName: `${dockerNameFor(td.family, input.runId, "vol")}-${v.name}`, hostPath: null });
  });
  for (const name of input.volumeOverrides.keys()) {
    if (!volumeNames.has(name)) d.error("volumes", `--volume ${name}=...: the task definition has no volume "${name}"`);
  }

  // containers
  const names = new Map<string, ContainerDefinition>();
  for (const c of td.containers) {
    if (names.has(c.name)) d.error(`containerDefinitions[${c.index}].name`, `duplicate container name "${c.name}"`);
    names.set(c.name, c);
  }
  if (td.containers.length > 0 && !td.containers.some((c) => c.essential)) {
    d.error("containerDefinitions", "at least one container must be essential (essential defaults to true)");
  }
  const containers = td.containers.map((c) => planContainer(c, names, volumeNames, input, d));
  checkCycles(containers, d);

  const diagnostics = d.list;
  if (d.hasErrors) return { plan: null, diagnostics };
  return {
    plan: {
      runId: input.runId,
      family: td.family,
      ...revisionField(td.raw["revision"]),
      network: input.network,
      labels: { ...input.ownerLabels, [LABEL_RUN]: input.runId, [LABEL_FAMILY]: td.family },
      pause: { dockerName: dockerNameFor(td.family, input.runId, "pause"), sharePid: td.pidMode === "task", shareIpc: td.ipcMode === "task" },
      volumes,
      containers,
      diagnostics,
    },
    diagnostics,
  };
}

function revisionField(raw: unknown): { revision?: string } {
  return typeof raw === "number" || (typeof raw === "string" && /^\d+$/.test(raw)) ? { revision: String(raw) } : {};
}

function checkTaskFields(td: TaskDefinition, input: PlanInput, d: Diagnostics): void {
  for (const key of Object.keys(td.raw)) {
    if (TASK_FIELDS_IGNORED.has(key)) continue;
    const why = TASK_FIELDS_NOT_EMULATED[key];
    if (why === undefined) d.warning(key, "unknown field; ignored");
    else if (key === "runtimePlatform") {
      const arch = (td.raw[key] as { cpuArchitecture?: unknown } | null)?.cpuArchitecture;
      if (arch === "ARM64") d.warning(`${key}.cpuArchitecture`, "ARM64: the images must run on this engine's architecture");
    } else d.warning(key, `not emulated: ${why}`);
  }
  if (td.networkMode !== null && td.networkMode !== "awsvpc") {
    d.warning("networkMode", `"${td.networkMode}" is not valid on Fargate; the task runs with awsvpc semantics (one shared network namespace)`);
  }
  if (td.pidMode === "host") d.warning("pidMode", '"host" is not valid on Fargate; containers get their own PID namespaces');
  if (td.ipcMode === "host" || td.ipcMode === "none") d.warning("ipcMode", `"${td.ipcMode}" is not valid on Fargate; ignored`);
  if (input.network === "host") {
    d.warning("", "--network host: the task's localhost is this machine's localhost (ports the task opens are this machine's ports)");
  }
}

function planContainer(
  c: ContainerDefinition,
  names: ReadonlyMap<string, ContainerDefinition>,
  volumeNames: ReadonlySet<string>,
  input: PlanInput,
  d: Diagnostics,
): ContainerPlan {
  const at = `containerDefinitions[${c.index}]`;
  for (const key of Object.keys(c.raw)) {
    if (CONTAINER_FIELDS_HANDLED.has(key)) continue;
    const why = CONTAINER_FIELDS_NOT_EMULATED[key];
    d.warning(`${at}.${key}`, why === undefined ? "unknown field; ignored" : `not emulated: ${why}`);
  }
  const lp = c.raw["linuxParameters"];
  if (typeof lp === "object" && lp !== null) {
    for (const key of Object.keys(lp)) {
      if (!LINUX_PARAMETERS_HANDLED.has(key)) d.warning(`${at}.linuxParameters.${key}`, "not emulated");
    }
  }
  if (c.image === "") d.error(`${at}.image`, "is required");
  c.capabilities.add.forEach((cap, i) => {
    if (cap !== "SYS_PTRACE") d.warning(`${at}.linuxParameters.capabilities.add[${i}]`, `Fargate only lets a task add SYS_PTRACE; "${cap}" is added here but Fargate would refuse the task`);
  });

  const dependsOn = c.dependsOn.flatMap((dep, i) => {
    const dat = `${at}.dependsOn[${i}]`;
    const target = names.get(dep.containerName);
    if (target === undefined) {
      d.error(`${dat}.containerName`, `no container named "${dep.containerName}" in this task`, `containers: ${[...names.keys()].join(", ")}`);
      return [];
    }
    if (target === c) {
      d.error(`${dat}.containerName`, "a container cannot depend on itself");
      return [];
    }
    if ((dep.condition === "COMPLETE" || dep.condition === "SUCCESS") && target.essential) {
      d.error(`${dat}.condition`, `${dep.condition} cannot be used on an essential container ("${target.name}")`, `set "essential": false on "${target.name}", or use START or HEALTHY`);
    }
    if (dep.condition === "HEALTHY" && target.healthCheck === null) {
      d.error(`${dat}.condition`, `HEALTHY needs a healthCheck on "${target.name}"`);
    }
    return [{ container: dep.containerName, condition: dep.condition }];
  });
  const volumesFrom = c.volumesFrom.flatMap((v, i) => {
    if (!names.has(v.sourceContainer)) {
      d.error(`${at}.volumesFrom[${i}].sourceContainer`, `no container named "${v.sourceContainer}" in this task`);
      return [];
    }
    if (v.sourceContainer === c.name) {
      d.error(`${at}.volumesFrom[${i}].sourceContainer`, "a container cannot mount its own volumes");
      return [];
    }
    return [{ container: v.sourceContainer, readOnly: v.readOnly }];
  });
  c.mountPoints.forEach((m, i) => {
    if (!volumeNames.has(m.sourceVolume)) d.error(`${at}.mountPoints[${i}].sourceVolume`, `no volume named "${m.sourceVolume}" in the task's volumes`);
  });

  // environment
  const files: [string, string][][] = [];
  c.environmentFiles.forEach((f, i) => {
    const fat = `${at}.environmentFiles[${i}]`;
    if (f.type !== "s3") d.error(`${fat}.type`, `must be "s3"; received "${f.type}"`);
    const text = input.envFiles.get(f.value);
    if (text === undefined) {
      d.error(`${fat}.value`, `${f.value}: this file is not available locally`, `download it and pass --env-file ${f.value}=FILE`);
      return;
    }
    files.push(envFileVars(text, `${fat}.value`, d));
  });
  for (const extra of input.extraEnvFiles) files.push(envFileVars(extra, "--env-file", d));
  const secrets = c.secrets.flatMap((s, i) => {
    const value = input.secrets.get(s.name);
    if (value === undefined) {
      d.error(`${at}.secrets[${i}]`, `secret ${s.name} comes from ${s.valueFrom}, which vigil local run does not read`, `pass --secret ${s.name}=VALUE, or --secret ${s.name} to take it from this environment`);
      return [];
    }
    return [{ name: s.name, value }];
  });

  const hc = c.healthCheck;
  let healthCheck: HealthCheckPlan | null = null;
  if (hc !== null && hc.command[0] !== "NONE" && hc.command.length > 1) {
    healthCheck = {
      cmd: hc.command[0] === "CMD-SHELL" ? ["/bin/sh", "-c", hc.command.slice(1).join(" ")] : hc.command.slice(1),
      intervalMs: hc.interval * 1000,
      timeoutMs: hc.timeout * 1000,
      retries: hc.retries,
      startPeriodMs: hc.startPeriod * 1000,
    };
  }
  const env = mergeEnvironment(c.environment, files, secrets);
  checkConsoleReachable(env, at, input.network, d);
  return {
    name: c.name,
    dockerName: dockerNameFor(input.taskDefinition.family, input.runId, c.name),
    image: c.image,
    essential: c.essential,
    dependsOn,
    volumesFrom,
    stopTimeout: c.stopTimeout ?? DEFAULT_STOP_TIMEOUT,
    startTimeout: c.startTimeout ?? DEFAULT_START_TIMEOUT,
    healthCheck,
    env,
    definition: c,
  };
}

/** A console on this machine's loopback (VIGIL_CONSOLE) cannot be reached from the task's own loopback. */
function checkConsoleReachable(env: readonly string[], at: string, network: TaskNetwork, d: Diagnostics): void {
  const url = env.find((e) => e.startsWith("VIGIL_CONSOLE="))?.slice("VIGIL_CONSOLE=".length);
  if (url === undefined || network !== "none") return;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return;
  }
  if (host === "localhost" || host === "[::1]" || host.startsWith("127.")) {
    d.warning(`${at}.environment`, `VIGIL_CONSOLE is ${url}: with --network none the task has its own loopback, so a console on this machine is not reachable and the enforcer's events go to stderr only`, "pass --network host");
  }
}

function envFileVars(file: EnvFileText, at: string, d: Diagnostics): [string, string][] {
  const { vars, problems } = parseEnvFile(file.text);
  for (const p of problems) d.error(at, `${file.source}:${p.line}: ${p.message}`);
  return vars;
}

function checkCycles(containers: readonly ContainerPlan[], d: Diagnostics): void {
  const edges = new Map(containers.map((c) => [c.name, [...c.dependsOn.map((x) => x.container), ...c.volumesFrom.map((x) => x.container)]]));
  const state = new Map<string, "visiting" | "done">();
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === "done") return;
    if (state.get(name) === "visiting") {
      const cycle = [...trail.slice(trail.indexOf(name)), name];
      d.error("containerDefinitions", `dependency cycle: ${cycle.join(" -> ")} (dependsOn and volumesFrom)`);
      return;
    }
    state.set(name, "visiting");
    for (const next of edges.get(name) ?? []) visit(next, [...trail, name]);
    state.set(name, "done");
  };
  for (const c of containers) visit(c.name, []);
}

/** Containers that must be stopped before `name` (they depend on it or mount its volumes). */
export function dependentsOf(plan: TaskPlan, name: string): string[] {
  return plan.containers
    .filter((c) => c.dependsOn.some((x) => x.container === name) || c.volumesFrom.some((x) => x.container === name))
    .map((c) => c.name);
}

/**
 * The body of POST /containers/create for one container, once its image is known. `runtimeEnv`:
 * variables the runtime adds (ECS_CONTAINER_METADATA_URI_V4), unless the container sets them.
 */
export function containerCreateBody(plan: TaskPlan, c: ContainerPlan, image: ImageInspect, runtimeEnv: readonly string[] = []): Record<string, unknown> {
  const def = c.definition;
  const imageVolumes = new Set(Object.keys(image.Config?.Volumes ?? {}));
  const pause = `container:${plan.pause.dockerName}`;
  const mounts = def.mountPoints.map((m) => {
    const vol = plan.volumes.find((v) => v.name === m.sourceVolume);
    if (vol === undefined || vol.dockerName === null) {
      return { Type: "bind", Source: vol?.hostPath ?? "", Target: m.containerPath, ReadOnly: m.readOnly };
    }
    // Fargate copies the image's content into a task volume only at a path the image declares as
    // a VOLUME; anywhere else the volume starts empty.
    return {
      Type: "volume",
      Source: vol.dockerName,
      Target: m.containerPath,
      ReadOnly: m.readOnly,
      VolumeOptions: { NoCopy: !imageVolumes.has(m.containerPath) },
    };
  });
  // Fargate's default nofile (65535) is not imposed: the engine's own limit may be lower.
  const ulimits = def.ulimits.map((u) => ({ Name: u.name, Soft: u.softLimit, Hard: u.hardLimit }));
  const hostConfig: Record<string, unknown> = {
    NetworkMode: pause,
    Mounts: mounts,
    VolumesFrom: c.volumesFrom.map((v) => {
      const source = plan.containers.find((x) => x.name === v.container);
      return `${source?.dockerName ?? v.container}:${v.readOnly ? "ro" : "rw"}`;
    }),
    CapAdd: def.capabilities.add,
    CapDrop: def.capabilities.drop,
    Init: def.initProcessEnabled,
    ReadonlyRootfs: def.readonlyRootFilesystem,
    Ulimits: ulimits,
    LogConfig: { Type: "json-file", Config: {} },
  };
  if (plan.pause.sharePid) hostConfig["PidMode"] = pause;
  if (plan.pause.shareIpc) hostConfig["IpcMode"] = pause;
  if (def.memory !== null) hostConfig["Memory"] = def.memory * 1024 * 1024;
  if (def.memoryReservation !== null) hostConfig["MemoryReservation"] = def.memoryReservation * 1024 * 1024;
  if (def.cpu !== null && def.cpu > 0) hostConfig["CpuShares"] = Math.max(2, def.cpu);
  const body: Record<string, unknown> = {
    Image: c.image,
    Env: [...c.env, ...runtimeEnv.filter((v) => !c.env.some((e) => e.startsWith(`${v.slice(0, v.indexOf("=") + 1)}`)))],
    Labels: { ...def.dockerLabels, ...plan.labels, [LABEL_CONTAINER]: c.name },
    StopTimeout: c.stopTimeout,
    // ECS ignores the image's HEALTHCHECK; the task definition's is run by vigil through exec.
    Healthcheck: { Test: ["NONE"] },
    AttachStdin: false,
    AttachStdout: true,
    AttachStderr: true,
    Tty: false,
    OpenStdin: false,
    HostConfig: hostConfig,
  };
  // Docker's merge (daemon/commit.go) gives ECS's truth table: a task entryPoint drops the image CMD.
  if (def.entryPoint !== null && def.entryPoint.length > 0) body["Entrypoint"] = def.entryPoint;
  if (def.command !== null && def.command.length > 0) body["Cmd"] = def.command;
  if (def.workingDirectory !== null) body["WorkingDir"] = def.workingDirectory;
  if (def.user !== null) body["User"] = def.user;
  return body;
}

/** The pause container: holds the task's network (and PID/IPC) namespaces, does nothing else. */
export function pauseCreateBody(plan: TaskPlan, image: string): Record<string, unknown> {
  return {
    Image: image,
    Labels: { ...plan.labels, [LABEL_CONTAINER]: "~pause" },
    Healthcheck: { Test: ["NONE"] },
    HostConfig: {
      NetworkMode: plan.network,
      IpcMode: plan.pause.shareIpc ? "shareable" : "private",
      LogConfig: { Type: "json-file", Config: {} },
    },
  };
}
