// The part of an ECS task definition that `vigil local run` reads, parsed from JSON with every
// problem collected (not only the first). Accepts a RegisterTaskDefinition input or the output of
// `aws ecs describe-task-definition` ({ "taskDefinition": { ... } }).

import { Diagnostics } from "./diagnostics.js";

export type DependencyCondition = "START" | "COMPLETE" | "SUCCESS" | "HEALTHY";
export const DEPENDENCY_CONDITIONS: readonly DependencyCondition[] = ["START", "COMPLETE", "SUCCESS", "HEALTHY"];

export interface KeyValue {
  name: string;
  value: string;
}

export interface HealthCheck {
  command: string[];
  /** Seconds, with the ECS defaults filled in. */
  interval: number;
  timeout: number;
  retries: number;
  startPeriod: number;
}

export interface ContainerDefinition {
  /** Index in containerDefinitions, for messages. */
  index: number;
  name: string;
  image: string;
  essential: boolean;
  entryPoint: string[] | null;
  command: string[] | null;
  environment: KeyValue[];
  environmentFiles: { value: string; type: string }[];
  secrets: { name: string; valueFrom: string }[];
  workingDirectory: string | null;
  user: string | null;
  mountPoints: { sourceVolume: string; containerPath: string; readOnly: boolean }[];
  volumesFrom: { sourceContainer: string; readOnly: boolean }[];
  dependsOn: { containerName: string; condition: DependencyCondition }[];
  healthCheck: HealthCheck | null;
  capabilities: { add: string[]; drop: string[] };
  initProcessEnabled: boolean;
  readonlyRootFilesystem: boolean;
  ulimits: { name: string; softLimit: number; hardLimit: number }[];
  stopTimeout: number | null;
  startTimeout: number | null;
  memory: number | null;
  memoryReservation: number | null;
  cpu: number | null;
  dockerLabels: Record<string, string>;
  /** The container definition as written, for the fields reported as not emulated. */
  raw: Record<string, unknown>;
}

export interface TaskVolume {
  name: string;
  /** `host.sourcePath` (EC2 only): a bind mount of this machine's path. */
  hostSourcePath: string | null;
  raw: Record<string, unknown>;
}

export interface TaskDefinition {
  family: string;
  networkMode: string | null;
  pidMode: "task" | "host" | null;
  ipcMode: "task" | "host" | "none" | null;
  volumes: TaskVolume[];
  containers: ContainerDefinition[];
  raw: Record<string, unknown>;
}

export interface Parsed<T> {
  value: T | null;
  diagnostics: Diagnostics;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === "object" && v !== null && !Array.isArray(v);
const show = (v: unknown): string => {
  const s = JSON.stringify(v);
  return s === undefined ? String(v) : s.length > 60 ? `${s.slice(0, 57)}...` : s;
};

/** Reads fields of one object, recording type errors at `base.field`. */
class Reader {
  constructor(
    readonly obj: Obj,
    readonly base: string,
    readonly d: Diagnostics,
  ) {}

  at(field: string): string {
    return this.base === "" ? field : `${this.base}.${field}`;
  }

  string(field: string, required = false): string | null {
    const v = this.obj[field];
    if (v === undefined || v === null) {
      if (required) this.d.error(this.at(field), "is required");
      return null;
    }
    if (typeof v !== "string") {
      this.d.error(this.at(field), `must be a string; received ${show(v)}`);
      return null;
    }
    return v;
  }

  bool(field: string): boolean | null {
    const v = this.obj[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== "boolean") {
      this.d.error(this.at(field), `must be true or false; received ${show(v)}`);
      return null;
    }
    return v;
  }

  int(field: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): number | null {
    const v = this.obj[field];
    if (v === undefined || v === null) return null;
    if (typeof v !== "number" || !Number.isInteger(v)) {
      this.d.error(this.at(field), `must be an integer; received ${show(v)}`);
      return null;
    }
    if (v < min || v > max) {
      this.d.error(this.at(field), `must be between ${min} and ${max}; received ${v}`);
      return null;
    }
    return v;
  }

  strings(field: string): string[] | null {
    const v = this.obj[field];
    if (v === undefined || v === null) return null;
    if (!Array.isArray(v) || v.some((x) => typeof x !== "string")) {
      this.d.error(this.at(field), `must be an array of strings; received ${show(v)}`);
      return null;
    }
    return v as string[];
  }

  objects(field: string): Reader[] {
    const v = this.obj[field];
    if (v === undefined || v === null) return [];
    if (!Array.isArray(v)) {
      this.d.error(this.at(field), `must be an array; received ${show(v)}`);
      return [];
    }
    const out: Reader[] = [];
    v.forEach((item, i) => {
      if (isObj(item)) out.push(new Reader(item, `${this.at(field)}[${i}]`, this.d));
      else this.d.error(`${this.at(field)}[${i}]`, `must be an object; received ${show(item)}`);
    });
    return out;
  }

  object(field: string): Reader | null {
    const v = this.obj[field];
    if (v === undefined || v === null) return null;
    if (!isObj(v)) {
      this.d.error(this.at(field), `must be an object; received ${show(v)}`);
      return null;
    }
    return new Reader(v, this.at(field), this.d);
  }
}

const NAME = /^[A-Za-z0-9_-]{1,255}$/;

export function parseTaskDefinition(input: unknown): Parsed<TaskDefinition> {
  const d = new Diagnostics();
  let root = input;
  if (isObj(root) && isObj(root["taskDefinition"]) && root["containerDefinitions"] === undefined) root = root["taskDefinition"];
  if (!isObj(root)) {
    d.error("", `a task definition must be a JSON object; received ${show(root)}`);
    return { value: null, diagnostics: d };
  }
  const r = new Reader(root, "", d);
  const family = r.string("family") ?? "task";
  const networkMode = r.string("networkMode");
  const pidModeRaw = r.string("pidMode");
  const ipcModeRaw = r.string("ipcMode");
  let pidMode: TaskDefinition["pidMode"] = null;
  if (pidModeRaw === "task" || pidModeRaw === "host") pidMode = pidModeRaw;
  else if (pidModeRaw !== null) d.error("pidMode", `must be "task" or "host"; received ${show(pidModeRaw)}`);
  let ipcMode: TaskDefinition["ipcMode"] = null;
  if (ipcModeRaw === "task" || ipcModeRaw === "host" || ipcModeRaw === "none") ipcMode = ipcModeRaw;
  else if (ipcModeRaw !== null) d.error("ipcMode", `must be "task", "host" or "none"; received ${show(ipcModeRaw)}`);

  const volumes: TaskVolume[] = r.objects("volumes").map((v) => {
    const name = v.string("name", true) ?? "";
    const host = v.object("host");
    return { name, hostSourcePath: host?.string("sourcePath") ?? null, raw: v.obj };
  });

  if (!Array.isArray(root["containerDefinitions"]) || root["containerDefinitions"].length === 0) {
    d.error("containerDefinitions", "must be a non-empty array of container definitions");
  }
  const containers = r.objects("containerDefinitions").map((c, index) => parseContainer(c, index));
  return { value: { family, networkMode, pidMode, ipcMode, volumes, containers, raw: root }, diagnostics: d };
}

function parseContainer(c: Reader, index: number): ContainerDefinition {
  const d = c.d;
  const name = c.string("name", true) ?? `#${index}`;
  if (c.obj["name"] !== undefined && typeof c.obj["name"] === "string" && !NAME.test(name)) {
    d.error(c.at("name"), `must be 1-255 letters, digits, "_" or "-"; received ${show(name)}`);
  }
  const keyValues = (field: string): KeyValue[] =>
    c.objects(field).flatMap((kv) => {
      const n = kv.string("name", true);
      const v = kv.string("value");
      return n === null ? [] : [{ name: n, value: v ?? "" }];
    });
  const dependsOn = c.objects("dependsOn").flatMap((dep) => {
    const containerName = dep.string("containerName", true);
    const condition = dep.string("condition", true);
    if (condition !== null && !DEPENDENCY_CONDITIONS.includes(condition as DependencyCondition)) {
      d.error(dep.at("condition"), `must be one of ${DEPENDENCY_CONDITIONS.join(", ")}; received ${show(condition)}`);
      return [];
    }
    return containerName === null || condition === null ? [] : [{ containerName, condition: condition as DependencyCondition }];
  });
  let healthCheck: HealthCheck | null = null;
  const hc = c.object("healthCheck");
  if (hc !== null) {
    const command = hc.strings("command");
    if (command === null || command.length === 0) d.error(hc.at("command"), "is required: [\"CMD-SHELL\", \"...\"] or [\"CMD\", ...]");
    else if (!["CMD", "CMD-SHELL", "NONE"].includes(command[0] ?? "")) {
      d.error(hc.at("command[0]"), `must be "CMD", "CMD-SHELL" or "NONE"; received ${show(command[0])}`);
    }
    // ECS defaults and ranges.
    healthCheck = {
      command: command ?? [],
      interval: hc.int("interval", 5, 300) ?? 30,
      timeout: hc.int("timeout", 2, 120) ?? 5,
      retries: hc.int("retries", 1, 10) ?? 3,
      startPeriod: hc.int("startPeriod", 0, 300) ?? 0,
    };
  }
  const lp = c.object("linuxParameters");
  const caps = lp?.object("capabilities") ?? null;
  const ulimits = c.objects("ulimits").flatMap((u) => {
    const n = u.string("name", true);
    const soft = u.int("softLimit");
    const hard = u.int("hardLimit");
    if (soft === null) d.error(u.at("softLimit"), "is required");
    if (hard === null) d.error(u.at("hardLimit"), "is required");
    return n === null || soft === null || hard === null ? [] : [{ name: n, softLimit: soft, hardLimit: hard }];
  });
  const labels: Record<string, string> = {};
  const dl = c.object("dockerLabels");
  if (dl !== null) for (const k of Object.keys(dl.obj)) { const v = dl.string(k); if (v !== null) labels[k] = v; }
  const entryPoint = c.strings("entryPoint");
  const command = c.strings("command");
  return {
    index,
    name,
    image: c.string("image", true) ?? "",
    essential: c.bool("essential") ?? true,
    entryPoint,
    command,
    environment: keyValues("environment"),
    environmentFiles: c.objects("environmentFiles").flatMap((f) => {
      const value = f.string("value", true);
      return value === null ? [] : [{ value, type: f.string("type") ?? "s3" }];
    }),
    secrets: c.objects("secrets").flatMap((s) => {
      const n = s.string("name", true);
      const from = s.string("valueFrom", true);
      return n === null || from === null ? [] : [{ name: n, valueFrom: from }];
    }),
    workingDirectory: c.string("workingDirectory"),
    user: c.string("user"),
    mountPoints: c.objects("mountPoints").flatMap((m) => {
      const sourceVolume = m.string("sourceVolume", true);
      const containerPath = m.string("containerPath", true);
      if (containerPath !== null && !containerPath.startsWith("/")) d.error(m.at("containerPath"), `must be an absolute path; received ${show(containerPath)}`);
      return sourceVolume === null || containerPath === null ? [] : [{ sourceVolume, containerPath, readOnly: m.bool("readOnly") ?? false }];
    }),
    volumesFrom: c.objects("volumesFrom").flatMap((v) => {
      const sourceContainer = v.string("sourceContainer", true);
      return sourceContainer === null ? [] : [{ sourceContainer, readOnly: v.bool("readOnly") ?? false }];
    }),
    dependsOn,
    healthCheck,
    capabilities: { add: caps?.strings("add") ?? [], drop: caps?.strings("drop") ?? [] },
    initProcessEnabled: lp?.bool("initProcessEnabled") ?? false,
    readonlyRootFilesystem: c.bool("readonlyRootFilesystem") ?? false,
    ulimits,
    stopTimeout: c.int("stopTimeout", 0, 120),
    startTimeout: c.int("startTimeout", 0, 7200),
    memory: c.int("memory", 6),
    memoryReservation: c.int("memoryReservation", 4),
    cpu: c.int("cpu", 0),
    dockerLabels: labels,
    raw: c.obj,
  };
}
