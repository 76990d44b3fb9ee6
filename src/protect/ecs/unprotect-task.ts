// Undo what protect did to one task definition, using the records it left. Also tells what a
// re-protect needs to know: the image ENTRYPOINT/CMD it had copied in (so the registry is not
// asked again), which containers carried a policy, and the sidecar image and mode in use.

import type { Node } from "yaml";
import type { ConsoleOptions } from "./console.js";
import { CONSOLE_VARIABLE, INSECURE_VARIABLE, TOKEN_VARIABLE } from "./console.js";
import { isMap, isSeq, mapDelete, mapGet, mapSetNull, newScalar, stringAt, stringList, type YAMLMap } from "./nodes.js";
import type { AppRecord, CreatedKey, NullKey } from "./record.js";
import { ENFORCER_PATH, RECORD_LABEL, SIDECAR_NAME, VOLUME_NAME } from "./record.js";
import type { TaskContext } from "./task-context.js";
import {
  addDiagnostic,
  containerMaps,
  containerName,
  containerPath,
  indexOfItem,
  isOurSidecar,
  key,
  lastIndexOfScalar,
  readRecord,
} from "./task-context.js";
import type { DeliveryMode } from "./types.js";

export interface RecoveredImage {
  entrypoint?: string[];
  cmd?: string[];
}

export interface UnprotectOutcome {
  /** Image ENTRYPOINT/CMD recovered per container name, for a re-protect (undefined: not known). */
  recovered: Map<string, RecoveredImage>;
  /** Containers whose VIGIL_POLICY protect had added. */
  hadPolicy: Set<string>;
  /** The console connection protect had added, per container name (kept by a re-protect without --console). */
  console: Map<string, ConsoleOptions>;
  /** Names of the containers that were protected. */
  wasProtected: Set<string>;
  sidecarImage: string | null;
  mode: DeliveryMode | null;
}

export function unprotectTask(ctx: TaskContext): UnprotectOutcome {
  const outcome: UnprotectOutcome = { recovered: new Map(), hadPolicy: new Set(), console: new Map(), wasProtected: new Set(), sidecarImage: null, mode: null };
  for (const { map, index } of containerMaps(ctx)) {
    if (isOurSidecar(ctx, map)) continue;
    const record = readRecord(ctx, map);
    if (record === null) continue;
    if (typeof record === "string" || record.role !== "app") {
      addDiagnostic(
        ctx,
        "error",
        containerPath(ctx, index, "dockerLabels"),
        mapGet(map, key(ctx, "dockerLabels")),
        `label ${RECORD_LABEL} ${typeof record === "string" ? record : "marks a sidecar on an application container"}`,
        "the label is written by vigil protect; restore it or remove the container's protection by hand",
      );
      continue;
    }
    unprotectContainer(ctx, map, index, record, outcome);
  }
  removeSidecar(ctx, outcome);
  return outcome;
}

function unprotectContainer(ctx: TaskContext, container: YAMLMap, index: number, record: AppRecord, outcome: UnprotectOutcome): void {
  const name = containerName(ctx, container) ?? `#${index}`;
  // A key protect added goes away again; one that was `null` gets its `null` back.
  const nulls = new Set<NullKey>(record.nulls);
  const unset = (parent: YAMLMap, field: NullKey): void => (nulls.has(field) ? mapSetNull(parent, key(ctx, field)) : mapDelete(parent, key(ctx, field)));
  const epKey = key(ctx, "entryPoint");
  const cmdKey = key(ctx, "command");
  const ep = mapGet(container, epKey);
  const cmd = mapGet(container, cmdKey);
  if (!isSeq(ep) || !startsWithEnforcer(ep)) {
    addDiagnostic(
      ctx,
      "error",
      containerPath(ctx, index, "entryPoint"),
      ep,
      `was changed after vigil protect: it no longer starts with ["${ENFORCER_PATH}", "--"]`,
      "fix the entry point by hand, or remove the vigil.protect label to treat the container as unprotected",
    );
    return;
  }
  outcome.wasProtected.add(name);
  const recovered: RecoveredImage = {};
  const setIf = (field: "entrypoint" | "cmd", value: string[] | null | undefined): void => {
    if (value !== null && value !== undefined) recovered[field] = value;
  };
  switch (record.entryPoint) {
    case "set":
      ep.items.splice(0, 2);
      break;
    case "absent":
      setIf("entrypoint", stringList(ep)?.slice(2));
      unset(container, "entryPoint");
      break;
    case "blank":
      ep.items.splice(0, ep.items.length, newScalar(""));
      break;
  }
  switch (record.command) {
    case "kept":
      // Had the image given a CMD that was needed, protect would have added it.
      if (cmd === undefined || (isSeq(cmd) && cmd.items.length === 0)) recovered.cmd = [];
      break;
    case "added":
      setIf("cmd", stringList(cmd));
      unset(container, "command");
      break;
    case "empty":
      setIf("cmd", stringList(cmd));
      if (isSeq(cmd)) cmd.items.splice(0, cmd.items.length);
      break;
  }
  outcome.recovered.set(name, recovered);

  const env = mapGet(container, key(ctx, "environment"));
  const secrets = mapGet(container, key(ctx, "secrets"));
  const consoleSettings = recoverConsole(ctx, record, env, secrets);
  if (consoleSettings !== null) outcome.console.set(name, consoleSettings);
  for (const variable of record.env) {
    const at = indexOfItem(env, key(ctx, "name"), variable);
    if (at >= 0 && isSeq(env)) env.items.splice(at, 1);
    if (variable === "VIGIL_POLICY") outcome.hadPolicy.add(name);
  }
  for (const secret of record.secrets) {
    const at = indexOfItem(secrets, key(ctx, "name"), secret);
    if (at >= 0 && isSeq(secrets)) secrets.items.splice(at, 1);
    if (secret === "VIGIL_POLICY") outcome.hadPolicy.add(name);
  }
  removeItem(mapGet(container, key(ctx, "dependsOn")), key(ctx, "containerName"), SIDECAR_NAME);
  removeItem(mapGet(container, key(ctx, "volumesFrom")), key(ctx, "sourceContainer"), SIDECAR_NAME);
  removeItem(mapGet(container, key(ctx, "mountPoints")), key(ctx, "sourceVolume"), VOLUME_NAME);

  const linux = mapGet(container, key(ctx, "linuxParameters"));
  const caps = isMap(linux) ? mapGet(linux, key(ctx, "capabilities")) : undefined;
  const add = isMap(caps) ? mapGet(caps, key(ctx, "add")) : undefined;
  if (record.ptrace && isSeq(add)) {
    const at = lastIndexOfScalar(add, "SYS_PTRACE");
    if (at >= 0) add.items.splice(at, 1);
  }
  const labels = mapGet(container, key(ctx, "dockerLabels"));
  if (isMap(labels)) mapDelete(labels, RECORD_LABEL);

  // Keys protect created go away again, innermost first, if nothing else was put in them since.
  const created = new Set<CreatedKey>(record.created);
  const added = (field: CreatedKey): boolean => created.has(field) || nulls.has(field);
  if (added("add") && isMap(caps) && isEmpty(add)) unset(caps, "add");
  if (added("capabilities") && isMap(linux) && isEmpty(caps)) unset(linux, "capabilities");
  if (added("linuxParameters") && isEmpty(linux)) unset(container, "linuxParameters");
  for (const simple of ["volumesFrom", "mountPoints", "dependsOn", "environment", "secrets", "dockerLabels"] as const) {
    if (added(simple) && isEmpty(mapGet(container, key(ctx, simple)))) unset(container, simple);
  }
}

/** The console URL and token secret protect had added (read before they are removed), or null. */
function recoverConsole(ctx: TaskContext, record: AppRecord, env: Node | undefined, secrets: Node | undefined): ConsoleOptions | null {
  if (!record.env.includes(CONSOLE_VARIABLE)) return null;
  const valueOf = (list: Node | undefined, name: string, field: string): string | null => {
    const at = indexOfItem(list, key(ctx, "name"), name);
    const item = at >= 0 && isSeq(list) ? list.items[at] : undefined;
    return isMap(item) ? stringAt(item, key(ctx, field)) : null;
  };
  const url = valueOf(env, CONSOLE_VARIABLE, "value");
  if (url === null) return null;
  const settings: ConsoleOptions = { url };
  if (record.secrets.includes(TOKEN_VARIABLE)) {
    const secret = valueOf(secrets, TOKEN_VARIABLE, "valueFrom");
    if (secret === null) return null;
    settings.tokenSecret = secret;
  }
  if (record.env.includes(INSECURE_VARIABLE)) settings.insecure = true;
  return settings;
}

function startsWithEnforcer(ep: Node): boolean {
  const list = isSeq(ep) ? ep.items.slice(0, 2) : [];
  const values = list.map((n) => (n as { value?: unknown }).value);
  return values[0] === ENFORCER_PATH && values[1] === "--";
}

function removeItem(list: Node | undefined, field: string, value: string): void {
  const at = indexOfItem(list, field, value);
  if (at >= 0 && isSeq(list)) list.items.splice(at, 1);
}

function isEmpty(node: Node | undefined): boolean {
  return (isSeq(node) || isMap(node)) && node.items.length === 0;
}

function removeSidecar(ctx: TaskContext, outcome: UnprotectOutcome): void {
  const containers = ctx.view.containers;
  for (let i = containers.items.length - 1; i >= 0; i--) {
    const item = containers.items[i];
    if (!isMap(item) || !isOurSidecar(ctx, item)) continue;
    const record = readRecord(ctx, item);
    if (typeof record !== "object" || record === null || record.role !== "sidecar") continue;
    outcome.sidecarImage = stringAt(item, key(ctx, "image"));
    outcome.mode = record.mode;
    containers.items.splice(i, 1);
    const task = ctx.view.task;
    if (task !== null && record.volumes !== "none") {
      const volumes = mapGet(task, key(ctx, "volumes"));
      removeItem(volumes, key(ctx, "name"), VOLUME_NAME);
      if (record.volumes === "created" && isEmpty(volumes)) mapDelete(task, key(ctx, "volumes"));
      if (record.volumes === "null" && isEmpty(volumes)) mapSetNull(task, key(ctx, "volumes"));
    }
  }
}

export function isProtectedContainer(ctx: TaskContext, container: YAMLMap): boolean {
  const record = readRecord(ctx, container);
  const ep = mapGet(container, key(ctx, "entryPoint"));
  return typeof record === "object" && record !== null && record.role === "app" && ep !== undefined && startsWithEnforcer(ep);
}
