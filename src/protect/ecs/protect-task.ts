// Protect one task definition (already stripped of any earlier protection): validate, select the
// containers, rewrite each so the enforcer starts first with the same effective argv, and add the
// sidecar that delivers the enforcer.

import type { Node } from "yaml";
import type { ArgvAnalysis } from "./container-argv.js";
import type { ConsoleOptions } from "./console.js";
import { CONSOLE_VARIABLE, INSECURE_VARIABLE, storeTokenHint, TOKEN_VARIABLE } from "./console.js";
import { analyzeArgv, lookupKey, taskPlatform } from "./container-argv.js";
import { intrinsicName, isMap, isNullAt, isScalar, isSeq, mapGet, mapSet, newMapOf, newScalar, newSeqOf, scalarValue, stringAt, type YAMLMap, type YAMLSeq } from "./nodes.js";
import type { AppRecord, CommandRecord, CreatedKey, EntryPointRecord, NullKey, SidecarRecord } from "./record.js";
import { ENFORCER_PATH, encodeRecord, MOUNT_PATH, RECORD_LABEL, SIDECAR_NAME, VOLUME_NAME } from "./record.js";
import type { SelectedContainer } from "./select.js";
import { selectContainers } from "./select.js";
import type { TaskContext } from "./task-context.js";
import { addDiagnostic, containerMaps, containerName, containerPath, imageOf, key, taskLabel } from "./task-context.js";
import type { UnprotectOutcome } from "./unprotect-task.js";
import type { DeliveryMode, ImageRunConfig, ProtectOptions } from "./types.js";

/** Options with the delivery mode decided for this task. */
export type TaskOptions = ProtectOptions & { mode: DeliveryMode };

/** ECS: "Containers per task definition: 10", not adjustable. */
export const MAX_CONTAINERS = 10;

const WINDOWS_IMAGE = /(^|\/)(windows|windows\/servercore|windows\/nanoserver|servercore|nanoserver)([:@]|$)|mcr\.microsoft\.com\/(windows|dotnet\/framework)/i;

export interface TaskPlan {
  container: SelectedContainer;
  argv: ArgvAnalysis;
  image: ImageRunConfig | null;
  /** The console connection this container gets (given now, or kept from an earlier protect), or null. */
  console: ConsoleOptions | null;
}

/** Task-level checks that do not depend on which containers are chosen. */
export function validateTask(ctx: TaskContext, options: TaskOptions): void {
  const task = ctx.view.task;
  const path = (field: string): string => `${ctx.view.path === "" ? "" : `${ctx.view.path}.`}${key(ctx, field)}`;
  if (task !== null) {
    const runtime = mapGet(task, key(ctx, "runtimePlatform"));
    const os = isMap(runtime) ? stringAt(runtime, key(ctx, "operatingSystemFamily")) : null;
    if (os !== null && os.startsWith("WINDOWS")) {
      addDiagnostic(
        ctx,
        "error",
        `${path("runtimePlatform")}.${key(ctx, "operatingSystemFamily")}`,
        runtime,
        `is ${os}: Windows tasks are not supported`,
        "the enforcer is a Linux program that uses ptrace; Windows containers have no linuxParameters (no SYS_PTRACE) and Fargate does not share volumes between Windows containers",
      );
    }
    const pidMode = scalarValue(mapGet(task, key(ctx, "pidMode")));
    if (pidMode === "host") {
      addDiagnostic(ctx, "error", path("pidMode"), mapGet(task, key(ctx, "pidMode")), 'is "host": the application would see and could signal every process on the host, outside the enforcer', "remove pidMode (Fargate does not accept host anyway)");
    } else if (pidMode === "task") {
      addDiagnostic(
        ctx,
        options.allowSharedPid === true ? "warning" : "error",
        path("pidMode"),
        mapGet(task, key(ctx, "pidMode")),
        'is "task": every container of the task shares one PID namespace, so processes of other containers (and ECS Exec sessions in them) can signal or inspect the protected application outside the enforcer',
        options.allowSharedPid === true ? undefined : "remove pidMode if nothing needs it, or pass --allow-shared-pid to accept the weaker isolation",
      );
    }
    if (options.mode === "copy") {
      const volumes = mapGet(task, key(ctx, "volumes"));
      if (isSeq(volumes)) {
        volumes.items.forEach((volume, i) => {
          if (isMap(volume) && scalarValue(mapGet(volume, key(ctx, "name"))) === VOLUME_NAME) {
            addDiagnostic(ctx, "error", `${path("volumes")}[${i}]`, volume as Node, `a volume named "${VOLUME_NAME}" exists and was not added by vigil`, "rename that volume; vigil needs the name for the enforcer");
          }
        });
      } else if (volumes !== undefined) {
        addDiagnostic(ctx, "error", path("volumes"), volumes, `is given through ${intrinsicName(volumes) ?? "a non-list value"}; vigil must add its volume to a literal list`, "write Volumes as a list in the template");
      }
    }
  }
  for (const { map, index } of containerMaps(ctx)) {
    if (containerName(ctx, map) === SIDECAR_NAME) {
      addDiagnostic(ctx, "error", containerPath(ctx, index, "name"), mapGet(map, key(ctx, "name")), `a container named "${SIDECAR_NAME}" exists and is not vigil's sidecar`, "rename that container; vigil needs the name for its sidecar");
    }
  }
  const count = ctx.view.containers.items.length + 1;
  if (count > MAX_CONTAINERS) {
    addDiagnostic(ctx, "error", `${ctx.view.path === "" ? "" : `${ctx.view.path}.`}${key(ctx, "containerDefinitions")}`, ctx.view.containers, `with vigil's sidecar the task would have ${count} containers; ECS allows at most ${MAX_CONTAINERS} per task definition`, "move an agent to another task or build the enforcer into the image (vigil protect image)");
  }
}

/**
 * ECS reads `secrets` with the task execution role: warn when protect adds a secret (the policy,
 * the enrollment token) to a task that has none.
 */
export function checkExecutionRole(ctx: TaskContext, options: TaskOptions, plans: readonly TaskPlan[]): void {
  const task = ctx.view.task;
  if (task === null || mapGet(task, key(ctx, "executionRoleArn")) !== undefined) return;
  const what = [
    options.policySecret !== undefined ? "the policy" : null,
    plans.some((p) => p.console?.tokenSecret !== undefined) ? `the enrollment token (${TOKEN_VARIABLE})` : null,
  ].filter((x) => x !== null);
  if (what.length === 0) return;
  addDiagnostic(
    ctx,
    "warning",
    `${ctx.view.path === "" ? "" : `${ctx.view.path}.`}${key(ctx, "executionRoleArn")}`,
    undefined,
    `is not set: ECS needs a task execution role to read ${what.join(" and ")} from SSM or Secrets Manager`,
    `add an execution role allowed ssm:GetParameters (or secretsmanager:GetSecretValue) on ${what.length === 1 ? "it" : "them"}`,
  );
}

/** The containers to protect and what each needs; errors go to ctx.diagnostics. */
export function planTask(ctx: TaskContext, options: TaskOptions, previous: UnprotectOutcome): TaskPlan[] {
  const plans: TaskPlan[] = [];
  const platform = taskPlatform(ctx);
  for (const container of selectContainers(ctx, options.containers, true)) {
    const { map, index, name } = container;
    const argv = analyzeArgv(ctx, map, index);
    const consoleFor = options.console === undefined ? (previous.console.get(name) ?? null) : options.console;
    checkContainer(ctx, map, index, options);
    if (consoleFor !== null) checkConsoleContainer(ctx, map, index, consoleFor, options);
    else warnClearToken(ctx, map, index);
    if (argv === null) continue;
    let image: ImageRunConfig | null = null;
    const needsEntrypoint = argv.sources.entrypoint === "image";
    const needsCmd = argv.sources.command === "image";
    if (needsEntrypoint || needsCmd) {
      const literal = imageOf(ctx, map);
      const imageNode = mapGet(map, key(ctx, "image"));
      const recovered = previous.recovered.get(name);
      const given = options.imageConfigs?.get(lookupKey(literal, name));
      const entrypoint = needsEntrypoint ? (recovered?.entrypoint ?? (given === undefined ? undefined : given.entrypoint)) : null;
      const cmd = needsCmd ? (recovered?.cmd ?? (given === undefined ? undefined : given.cmd)) : null;
      if (entrypoint === undefined || cmd === undefined) {
        const needs = [needsEntrypoint ? "ENTRYPOINT" : null, needsCmd ? "CMD" : null].filter((x) => x !== null).join(" and ");
        const fn = intrinsicName(imageNode);
        addDiagnostic(
          ctx,
          "error",
          containerPath(ctx, index, "image"),
          imageNode,
          literal !== null
            ? `the task definition does not set ${key(ctx, needsEntrypoint ? "entryPoint" : "command")}, so the image's ${needs} is needed and was not read (${platform.os}/${platform.architecture})`
            : `is given through ${fn ?? "a non-string value"}, so vigil cannot read the image's ${needs}`,
          imageConfigHint(ctx, options, literal, name),
        );
        continue;
      }
      if (given?.os !== undefined && given.os.toLowerCase() === "windows") {
        addDiagnostic(ctx, "error", containerPath(ctx, index, "image"), imageNode, "is a Windows image: Windows containers are not supported", "the enforcer is a Linux program that uses ptrace");
        continue;
      }
      image = { entrypoint, cmd };
    }
    const entry = argv.sources.entrypoint === "task" ? (argv.entryPointNode?.items.length ?? 0) : argv.sources.entrypoint === "image" ? (image?.entrypoint?.filter((x, i, a) => !(a.length === 1 && x === "")).length ?? 0) : 0;
    const command = argv.sources.command === "task" ? (argv.commandNode?.items.length ?? 0) : argv.sources.command === "image" ? (image?.cmd?.length ?? 0) : 0;
    if (entry + command === 0) {
      addDiagnostic(ctx, "error", containerPath(ctx, index), map, "has no command: neither the task definition nor the image gives an entry point or a command (Docker refuses to start it: \"no command specified\")", "set command in the task definition");
      continue;
    }
    plans.push({ container, argv, image, console: consoleFor });
  }
  return plans;
}

function checkContainer(ctx: TaskContext, map: YAMLMap, index: number, options: TaskOptions): void {
  const image = imageOf(ctx, map);
  if (image !== null && WINDOWS_IMAGE.test(image)) {
    addDiagnostic(ctx, "error", containerPath(ctx, index, "image"), mapGet(map, key(ctx, "image")), `"${image}" is a Windows image: Windows containers are not supported`, "the enforcer is a Linux program that uses ptrace");
  }
  for (const field of ["environment", "linuxParameters", "dockerLabels", "dependsOn", options.mode === "copy" ? "mountPoints" : "volumesFrom"]) {
    const node = mapGet(map, key(ctx, field));
    const fn = intrinsicName(node);
    const bad = fn !== null || (node !== undefined && (field === "linuxParameters" || field === "dockerLabels" ? !isMap(node) : !isSeq(node)));
    if (bad) {
      addDiagnostic(ctx, "error", containerPath(ctx, index, field), node, `is given through ${fn ?? "an unexpected value"}; vigil adds entries to it and needs it literal`, `write ${key(ctx, field)} literally in the template (intrinsic functions inside it are fine)`);
    }
  }
  const linux = mapGet(map, key(ctx, "linuxParameters"));
  const caps = isMap(linux) ? mapGet(linux, key(ctx, "capabilities")) : undefined;
  const add = isMap(caps) ? mapGet(caps, key(ctx, "add")) : undefined;
  if ((caps !== undefined && !isMap(caps)) || (add !== undefined && !isSeq(add))) {
    addDiagnostic(ctx, "error", `${containerPath(ctx, index, "linuxParameters")}.${key(ctx, "capabilities")}`, caps, "must be literal (a map with an add list)", "write the capabilities literally in the template");
  }
  const mounts = mapGet(map, key(ctx, "mountPoints"));
  if (isSeq(mounts)) {
    mounts.items.forEach((mount, i) => {
      const path = isMap(mount) ? scalarValue(mapGet(mount, key(ctx, "containerPath"))) : undefined;
      if (typeof path === "string" && (path === MOUNT_PATH || path.startsWith(`${MOUNT_PATH}/`) || path === "/")) {
        addDiagnostic(ctx, "error", `${containerPath(ctx, index, "mountPoints")}[${i}]`, mount as Node, `mounts a volume at ${path}, where vigil mounts the enforcer`, "move that mount elsewhere");
      }
    });
  }
  if (options.policy !== undefined || options.policySecret !== undefined) {
    for (const field of ["environment", "secrets"]) {
      const list = mapGet(map, key(ctx, field));
      if (!isSeq(list)) continue;
      list.items.forEach((item, i) => {
        const name = isMap(item) ? scalarValue(mapGet(item, key(ctx, "name"))) : undefined;
        if (name === "VIGIL_POLICY" || name === "VIGIL_POLICY_FILE") {
          addDiagnostic(ctx, "error", `${containerPath(ctx, index, field)}[${i}]`, item as Node, `already sets ${name}, and --policy gives another policy`, `remove ${name} from the container, or protect without --policy`);
        }
      });
    }
  }
  const secrets = mapGet(map, key(ctx, "secrets"));
  if (options.policySecret !== undefined && secrets !== undefined && !isSeq(secrets)) {
    addDiagnostic(ctx, "error", containerPath(ctx, index, "secrets"), secrets, `is given through ${intrinsicName(secrets) ?? "an unexpected value"}; vigil adds the policy to it and needs it literal`, `write ${key(ctx, "secrets")} literally`);
  }
}

/** A container not connected to the console by protect that carries a token in clear anyway. */
function warnClearToken(ctx: TaskContext, map: YAMLMap, index: number): void {
  const env = mapGet(map, key(ctx, "environment"));
  if (isSeq(env)) {
    env.items.forEach((item, i) => {
      if (isMap(item) && scalarValue(mapGet(item, key(ctx, "name"))) === TOKEN_VARIABLE && isScalar(mapGet(item, key(ctx, "value")))) {
        addDiagnostic(ctx, "warning", `${containerPath(ctx, index, "environment")}[${i}]`, item as Node, `holds ${TOKEN_VARIABLE}, the console enrollment token, in clear: anyone who can describe the task definition can read it`, storeTokenHint("--token-secret"));
      }
    });
  }
}

/** What a container must not have already when protect connects it to the console. */
function checkConsoleContainer(ctx: TaskContext, map: YAMLMap, index: number, settings: ConsoleOptions, options: TaskOptions): void {
  const flag = options.surface === "macro" ? "the Console parameter" : options.surface === "cdk" ? "console" : "--console";
  const tokenFlag = options.surface === "macro" ? "TokenParameter" : options.surface === "cdk" ? "console.tokenSecret" : "--token-secret";
  const env = mapGet(map, key(ctx, "environment"));
  if (isSeq(env)) {
    env.items.forEach((item, i) => {
      const name = isMap(item) ? scalarValue(mapGet(item, key(ctx, "name"))) : undefined;
      const at = `${containerPath(ctx, index, "environment")}[${i}]`;
      if (name === TOKEN_VARIABLE) {
        addDiagnostic(ctx, "error", at, item as Node, `sets ${TOKEN_VARIABLE} in clear; vigil never connects a container to the console with a token written into the task definition`, `remove it from ${key(ctx, "environment")}: ${storeTokenHint(tokenFlag)}`);
      } else if (name === CONSOLE_VARIABLE || name === INSECURE_VARIABLE) {
        addDiagnostic(ctx, "error", at, item as Node, `already sets ${name}, and ${flag} gives the console`, `remove ${name} from the container, or protect without ${flag}`);
      }
    });
  }
  const secrets = mapGet(map, key(ctx, "secrets"));
  if (secrets !== undefined && !isSeq(secrets)) {
    if (settings.tokenSecret !== undefined) {
      addDiagnostic(ctx, "error", containerPath(ctx, index, "secrets"), secrets, `is given through ${intrinsicName(secrets) ?? "an unexpected value"}; vigil adds the enrollment token to it and needs it literal`, `write ${key(ctx, "secrets")} literally`);
    }
    return;
  }
  const own = isSeq(secrets) ? secrets.items.findIndex((item) => isMap(item) && scalarValue(mapGet(item, key(ctx, "name"))) === TOKEN_VARIABLE) : -1;
  if (settings.tokenSecret !== undefined && own >= 0 && isSeq(secrets)) {
    addDiagnostic(ctx, "error", `${containerPath(ctx, index, "secrets")}[${own}]`, secrets.items[own] as Node, `already takes ${TOKEN_VARIABLE} from a secret, and ${tokenFlag} gives another`, `remove that entry, or pass ${options.surface === "cli" || options.surface === undefined ? "--token-env" : `no ${tokenFlag}`} to keep yours`);
  }
  if (settings.tokenSecret === undefined && own < 0 && mapGet(map, key(ctx, "environmentFiles")) === undefined) {
    addDiagnostic(
      ctx,
      "warning",
      containerPath(ctx, index),
      map,
      `nothing in the task definition gives the container ${TOKEN_VARIABLE}: the enforcer will not reach the console without an enrollment token`,
      `add a ${key(ctx, "secrets")} entry named ${TOKEN_VARIABLE} (or pass ${tokenFlag} ARN), or make sure an environment file gives it`,
    );
  }
}

/** Apply the plans: rewrite the containers and add the sidecar. Call only when planning found no error. */
export function applyTask(ctx: TaskContext, options: TaskOptions, plans: readonly TaskPlan[], sidecarImage: string): void {
  const doc = ctx.doc;
  const task = taskLabel(ctx);
  for (const plan of plans) {
    rewriteContainer(ctx, plan, options);
    ctx.report.push({ task, container: plan.container.name, outcome: "protected" });
  }
  let volumes: SidecarRecord["volumes"] = "none";
  const taskMap = ctx.view.task;
  if (options.mode === "copy") {
    if (taskMap === null) {
      addDiagnostic(
        ctx,
        "warning",
        "",
        undefined,
        `copy mode needs a task volume named "${VOLUME_NAME}", which a bare containerDefinitions array cannot declare`,
        `declare it with the task definition (Terraform: volume { name = "${VOLUME_NAME}" }), or use --mode volumes-from`,
      );
    } else {
      const existing = mapGet(taskMap, key(ctx, "volumes"));
      volumes = isSeq(existing) ? "appended" : isNullAt(taskMap, key(ctx, "volumes")) ? "null" : "created";
      const list = isSeq(existing) ? existing : (doc.createNode([]) as YAMLSeq);
      list.items.push(newMapOf(doc, { [key(ctx, "name")]: VOLUME_NAME }) as never);
      if (!isSeq(existing)) mapSet(doc, taskMap, key(ctx, "volumes"), list);
    }
  }
  const record: SidecarRecord = { role: "sidecar", mode: options.mode, volumes };
  const sidecar: Record<string, unknown> = {
    [key(ctx, "name")]: SIDECAR_NAME,
    [key(ctx, "image")]: sidecarImage,
    [key(ctx, "essential")]: false,
    [key(ctx, "entryPoint")]: [ENFORCER_PATH, "--noop"],
  };
  if (options.mode === "copy") {
    sidecar[key(ctx, "mountPoints")] = [{ [key(ctx, "sourceVolume")]: VOLUME_NAME, [key(ctx, "containerPath")]: MOUNT_PATH, [key(ctx, "readOnly")]: false }];
  }
  // EC2 tasks without task-level memory need a limit on every container.
  if (taskMap !== null && mapGet(taskMap, key(ctx, "memory")) === undefined) sidecar[key(ctx, "memory")] = 32;
  sidecar[key(ctx, "dockerLabels")] = { [RECORD_LABEL]: encodeRecord(record) };
  ctx.view.containers.items.push(newMapOf(doc, sidecar) as never);
  ctx.report.push({ task, container: SIDECAR_NAME, outcome: "sidecar", mode: options.mode });
}

function rewriteContainer(ctx: TaskContext, plan: TaskPlan, options: TaskOptions): void {
  const doc = ctx.doc;
  const map = plan.container.map;
  const created: CreatedKey[] = [];
  // Keys written as `null` (a console export's unset fields) are filled in place and recorded, so
  // unprotect writes `null` back instead of removing them.
  const nulls: NullKey[] = [];
  const createdOrNull = (parent: YAMLMap, field: CreatedKey): void => {
    if (isNullAt(parent, key(ctx, field))) nulls.push(field);
    else created.push(field);
  };
  const { argv, image } = plan;

  // entryPoint := [enforcer, "--", ...effective entry point]
  let entryPoint: EntryPointRecord;
  const prefix = [newScalar(ENFORCER_PATH), newScalar("--")];
  if (argv.entryPoint === "set" && argv.entryPointNode !== undefined) {
    entryPoint = "set";
    argv.entryPointNode.items.unshift(...(prefix as never[]));
  } else if (argv.entryPoint === "blank" && argv.entryPointNode !== undefined) {
    entryPoint = "blank";
    argv.entryPointNode.items.splice(0, argv.entryPointNode.items.length, ...(prefix as never[]));
  } else {
    entryPoint = "absent";
    if (isNullAt(map, key(ctx, "entryPoint"))) nulls.push("entryPoint");
    const fromImage = (image?.entrypoint ?? []).filter((x, _i, a) => !(a.length === 1 && x === ""));
    mapSet(doc, map, key(ctx, "entryPoint"), newSeqOf(doc, [ENFORCER_PATH, "--", ...fromImage]));
  }

  // command := effective command, written out because setting entryPoint drops the image CMD.
  let command: CommandRecord = "kept";
  if (argv.sources.command === "image") {
    const cmd = image?.cmd ?? [];
    if (argv.command === "empty" && argv.commandNode !== undefined) {
      if (cmd.length > 0) {
        command = "empty";
        argv.commandNode.items.push(...(newSeqOf(doc, cmd).items as never[]));
      }
    } else if (cmd.length > 0) {
      command = "added";
      if (isNullAt(map, key(ctx, "command"))) nulls.push("command");
      mapSet(doc, map, key(ctx, "command"), newSeqOf(doc, cmd));
    }
  }

  // linuxParameters.capabilities.add gets SYS_PTRACE; nothing else there changes.
  let linux = mapGet(map, key(ctx, "linuxParameters")) as YAMLMap | undefined;
  if (linux === undefined) {
    linux = newMapOf(doc, {});
    createdOrNull(map, "linuxParameters");
    mapSet(doc, map, key(ctx, "linuxParameters"), linux);
  }
  let caps = mapGet(linux, key(ctx, "capabilities")) as YAMLMap | undefined;
  if (caps === undefined) {
    caps = newMapOf(doc, {});
    createdOrNull(linux, "capabilities");
    mapSet(doc, linux, key(ctx, "capabilities"), caps);
  }
  let add = mapGet(caps, key(ctx, "add")) as YAMLSeq | undefined;
  if (add === undefined) {
    add = doc.createNode([]) as YAMLSeq;
    createdOrNull(caps, "add");
    mapSet(doc, caps, key(ctx, "add"), add);
  }
  const hasPtrace = add.items.some((item) => isScalar(item) && (item.value === "SYS_PTRACE" || item.value === "ALL"));
  if (!hasPtrace) add.items.push(newScalar("SYS_PTRACE") as never);

  if (options.mode === "copy") {
    appendItem(ctx, map, "mountPoints", { [key(ctx, "sourceVolume")]: VOLUME_NAME, [key(ctx, "containerPath")]: MOUNT_PATH, [key(ctx, "readOnly")]: true }, createdOrNull);
  } else {
    appendItem(ctx, map, "volumesFrom", { [key(ctx, "sourceContainer")]: SIDECAR_NAME, [key(ctx, "readOnly")]: true }, createdOrNull);
  }
  appendItem(ctx, map, "dependsOn", { [key(ctx, "containerName")]: SIDECAR_NAME, [key(ctx, "condition")]: "SUCCESS" }, createdOrNull);

  const env: string[] = [];
  const existingEnv = mapGet(map, key(ctx, "environment"));
  const hasVariable = (name: string): boolean =>
    isSeq(existingEnv) && existingEnv.items.some((item) => isMap(item) && scalarValue(mapGet(item, key(ctx, "name"))) === name);
  const workload = ctx.view.name === "" ? plan.container.name : `${ctx.view.name}/${plan.container.name}`;
  if (!hasVariable("VIGIL_WORKLOAD")) {
    appendItem(ctx, map, "environment", { [key(ctx, "name")]: "VIGIL_WORKLOAD", [key(ctx, "value")]: workload }, createdOrNull);
    env.push("VIGIL_WORKLOAD");
  }
  if (options.policy !== undefined) {
    appendItem(ctx, map, "environment", { [key(ctx, "name")]: "VIGIL_POLICY", [key(ctx, "value")]: options.policy }, createdOrNull);
    env.push("VIGIL_POLICY");
  }
  const secrets: string[] = [];
  if (options.policySecret !== undefined) {
    appendItem(ctx, map, "secrets", { [key(ctx, "name")]: "VIGIL_POLICY", [key(ctx, "valueFrom")]: options.policySecret }, createdOrNull);
    secrets.push("VIGIL_POLICY");
  }
  if (plan.console !== null) {
    appendItem(ctx, map, "environment", { [key(ctx, "name")]: CONSOLE_VARIABLE, [key(ctx, "value")]: plan.console.url }, createdOrNull);
    env.push(CONSOLE_VARIABLE);
    if (plan.console.insecure === true) {
      appendItem(ctx, map, "environment", { [key(ctx, "name")]: INSECURE_VARIABLE, [key(ctx, "value")]: "1" }, createdOrNull);
      env.push(INSECURE_VARIABLE);
    }
    if (plan.console.tokenSecret !== undefined) {
      appendItem(ctx, map, "secrets", { [key(ctx, "name")]: TOKEN_VARIABLE, [key(ctx, "valueFrom")]: plan.console.tokenSecret }, createdOrNull);
      secrets.push(TOKEN_VARIABLE);
    }
  }

  const record: AppRecord = { role: "app", entryPoint, command, ptrace: !hasPtrace, env, secrets, created: [], nulls };
  if (mapGet(map, key(ctx, "dockerLabels")) === undefined) {
    createdOrNull(map, "dockerLabels");
    mapSet(doc, map, key(ctx, "dockerLabels"), newMapOf(doc, {}));
  }
  record.created = created;
  const labels = mapGet(map, key(ctx, "dockerLabels")) as YAMLMap;
  mapSet(doc, labels, RECORD_LABEL, newScalar(encodeRecord(record)));
}

function appendItem(ctx: TaskContext, map: YAMLMap, field: CreatedKey, value: Record<string, unknown>, createdOrNull: (parent: YAMLMap, field: CreatedKey) => void): void {
  let list = mapGet(map, key(ctx, field)) as YAMLSeq | undefined;
  if (list === undefined) {
    list = ctx.doc.createNode([]) as YAMLSeq;
    createdOrNull(map, field);
    mapSet(ctx.doc, map, key(ctx, field), list);
  }
  list.items.push(newMapOf(ctx.doc, value) as never);
}

function imageConfigHint(ctx: TaskContext, options: TaskOptions, literal: string | null, name: string): string {
  const set = `set ${key(ctx, "entryPoint")} and ${key(ctx, "command")} in the ${ctx.view.casing === "pascal" ? "template" : "task definition"}`;
  switch (options.surface ?? "cli") {
    case "macro":
      return literal !== null ? `the macro could not read ${literal}; ${set}` : `give the image as a literal or a template parameter, or ${set}`;
    case "cdk":
      return `pass imageConfigs: { "${literal ?? name}": { entrypoint: [...], cmd: [...] } } to VigilProtect, or set entryPoint and command on the container`;
    case "cli":
      return `pass --image-config ${literal ?? name}=FILE (a JSON image config with Entrypoint and Cmd), or ${set}`;
  }
}
