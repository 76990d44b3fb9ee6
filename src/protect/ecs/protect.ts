// The library entry points for ECS: protect, unprotect, check, and the list of image configs
// protect needs. All pure (text in, text and diagnostics out) except protectEcsWithResolver,
// which reads image configs through an injected resolver first.

import { checkConsoleOptions } from "./console.js";
import { analyzeArgv, lookupKey, taskPlatform } from "./container-argv.js";
import type { ParsedInput, TaskView } from "./input.js";
import { finishDescribe, InputError, parseInput, renderOutput } from "./input.js";
import { stringAt } from "./nodes.js";
import type { TaskOptions, TaskPlan } from "./protect-task.js";
import { applyTask, checkExecutionRole, planTask, validateTask } from "./protect-task.js";
import { SIDECAR_NAME } from "./record.js";
import { selectContainers } from "./select.js";
import type { TaskContext } from "./task-context.js";
import { addDiagnostic, containerMaps, imageOf, isOurSidecar, key, taskLabel } from "./task-context.js";
import type { UnprotectOutcome } from "./unprotect-task.js";
import { isProtectedContainer, unprotectTask } from "./unprotect-task.js";
import type {
  ContainerReport,
  ImageConfigResolver,
  ImageLookup,
  ImageRunConfig,
  ProtectDiagnostic,
  ProtectOptions,
  ProtectResult,
} from "./types.js";
import { DEFAULT_MODE } from "./types.js";

/** RegisterTaskDefinition rejects task definitions larger than this (bytes of JSON). */
export const MAX_TASK_DEFINITION_BYTES = 64 * 1024;
/** CloudFormation's limit for a template uploaded through S3. */
export const MAX_TEMPLATE_BYTES = 1024 * 1024;
/** CloudFormation's limit for a template passed in the request body. */
export const MAX_TEMPLATE_BODY_BYTES = 51_200;

interface Loaded {
  parsed: ParsedInput;
  contexts: TaskContext[];
  diagnostics: ProtectDiagnostic[];
  report: ContainerReport[];
}

function load(text: string, parameters: Readonly<Record<string, string>> = {}): Loaded | ProtectResult {
  let parsed: ParsedInput;
  try {
    parsed = finishDescribe(parseInput(text));
  } catch (error) {
    if (error instanceof InputError) return { text: null, diagnostics: error.diagnostics, report: { kind: "register", format: "json", containers: [] } };
    throw error;
  }
  const diagnostics: ProtectDiagnostic[] = [];
  const report: ContainerReport[] = [];
  const contexts = parsed.views.map((view: TaskView) => ({ doc: parsed.doc, parsed, view, diagnostics, report, parameters }));
  return { parsed, contexts, diagnostics, report };
}

function result(loaded: Loaded, text: string | null): ProtectResult {
  const removed = loaded.parsed.removed;
  return {
    text,
    diagnostics: loaded.diagnostics,
    report: { kind: loaded.parsed.kind, format: loaded.parsed.format, containers: loaded.report, ...(removed.length > 0 ? { removedReadOnly: [...removed] } : {}) },
  };
}

const hasErrors = (diagnostics: readonly ProtectDiagnostic[]): boolean => diagnostics.some((d) => d.severity === "error");

export function protectEcs(text: string, options: ProtectOptions): ProtectResult {
  const loaded = load(text, options.parameters);
  if (!("contexts" in loaded)) return loaded;
  const { contexts, diagnostics, parsed } = loaded;
  if (contexts.length === 0) {
    diagnostics.push({ severity: "error", path: "Resources", message: "the template has no AWS::ECS::TaskDefinition resource" });
    return result(loaded, null);
  }
  if (options.console !== undefined && options.console !== null) diagnostics.push(...checkConsoleOptions(options.console, options.surface ?? "cli"));
  const planned: { ctx: TaskContext; plans: TaskPlan[]; sidecarImage: string | null; previous: UnprotectOutcome; options: TaskOptions }[] = [];
  for (const ctx of contexts) {
    const previous = unprotectTask(ctx);
    const taskOptions: TaskOptions = { ...options, mode: options.mode ?? previous.mode ?? DEFAULT_MODE };
    validateTask(ctx, taskOptions);
    const plans = planTask(ctx, taskOptions, previous);
    checkExecutionRole(ctx, taskOptions, plans);
    for (const name of previous.hadPolicy) {
      if (options.policy === undefined && options.policySecret === undefined && plans.some((p) => p.container.name === name)) {
        addDiagnostic(ctx, "warning", "", undefined, `container ${name} had a policy from an earlier vigil protect; this run gives none (--policy), so it was removed`);
      }
    }
    planned.push({ ctx, plans, sidecarImage: options.sidecarImage ?? previous.sidecarImage, previous, options: taskOptions });
  }
  for (const name of options.containers ?? []) {
    const found = contexts.some((ctx) => containerMaps(ctx).some(({ map }) => stringAt(map, key(ctx, "name")) === name && !isOurSidecar(ctx, map)));
    if (!found) diagnostics.push({ severity: "error", path: "", message: `--container ${name}: no container of that name`, hint: "give the name of a container in containerDefinitions" });
    if (name === SIDECAR_NAME) diagnostics.push({ severity: "error", path: "", message: `--container ${SIDECAR_NAME}: that is vigil's own sidecar` });
  }
  const total = planned.reduce((n, p) => n + p.plans.length, 0);
  if (total === 0 && !hasErrors(diagnostics)) {
    diagnostics.push({
      severity: "error",
      path: "",
      message: "no container to protect: every container is a known agent or not essential",
      hint: "name the containers to protect with --container NAME",
    });
  }
  for (const p of planned) {
    if (p.plans.length === 0 && p.previous.wasProtected.size > 0) {
      addDiagnostic(p.ctx, "warning", "", undefined, `${taskLabel(p.ctx)} was protected and no container of it is selected now, so its protection was removed`, "name its containers with --container to keep it protected");
    }
    if (p.plans.length > 0 && p.sidecarImage === null) {
      addDiagnostic(p.ctx, "error", "", undefined, `${taskLabel(p.ctx)}: which sidecar image? none was given and the task has no vigil sidecar yet`, "build and push it with `vigil sidecar build --push REF`, then pass --sidecar-image REF");
    }
  }
  if (hasErrors(diagnostics)) return result(loaded, null);

  for (const p of planned) {
    if (p.plans.length === 0 || p.sidecarImage === null) continue;
    applyTask(p.ctx, p.options, p.plans, p.sidecarImage);
    for (const line of loaded.report) {
      if (line.outcome === "protected" && line.task === taskLabel(p.ctx) && p.previous.wasProtected.has(line.container)) line.outcome = "reprotected";
    }
    checkSize(p.ctx);
  }
  const out = renderOutput(parsed);
  if (parsed.kind === "cloudformation") {
    const bytes = Buffer.byteLength(out);
    if (bytes > MAX_TEMPLATE_BYTES) {
      diagnostics.push({ severity: "error", path: "", message: `the protected template is ${bytes} bytes; CloudFormation accepts at most ${MAX_TEMPLATE_BYTES}` });
    } else if (bytes > MAX_TEMPLATE_BODY_BYTES) {
      diagnostics.push({ severity: "warning", path: "", message: `the protected template is ${bytes} bytes, over the ${MAX_TEMPLATE_BODY_BYTES} CloudFormation takes inline; deploy it through S3 (aws cloudformation deploy --s3-bucket)` });
    }
  }
  return result(loaded, hasErrors(diagnostics) ? null : out);
}

function checkSize(ctx: TaskContext): void {
  const node = ctx.view.task ?? ctx.view.containers;
  const bytes = Buffer.byteLength(JSON.stringify(node.toJSON()));
  if (bytes > MAX_TASK_DEFINITION_BYTES) {
    addDiagnostic(
      ctx,
      "error",
      ctx.view.path,
      undefined,
      `the protected task definition is ${bytes} bytes of JSON; ECS accepts at most ${MAX_TASK_DEFINITION_BYTES}`,
      "an inline policy is copied into every protected container: protect fewer containers (--container) or use a smaller policy",
    );
  }
}

export function unprotectEcs(text: string): ProtectResult {
  const loaded = load(text);
  if (!("contexts" in loaded)) return loaded;
  for (const ctx of loaded.contexts) {
    const outcome = unprotectTask(ctx);
    for (const name of outcome.wasProtected) loaded.report.push({ task: taskLabel(ctx), container: name, outcome: "unprotected" });
  }
  if (hasErrors(loaded.diagnostics)) return result(loaded, null);
  return result(loaded, renderOutput(loaded.parsed));
}

export interface CheckResult {
  /** Selected containers that are not protected. */
  unprotected: { task: string; container: string }[];
  diagnostics: ProtectDiagnostic[];
}

/** Which of the containers protect would select are not protected (for CI gates). */
export function checkEcs(text: string, options: Pick<ProtectOptions, "containers"> = {}): CheckResult {
  const loaded = load(text);
  if (!("contexts" in loaded)) return { unprotected: [], diagnostics: loaded.diagnostics };
  const unprotected: CheckResult["unprotected"] = [];
  for (const ctx of loaded.contexts) {
    const hasSidecar = containerMaps(ctx).some(({ map }) => isOurSidecar(ctx, map));
    for (const { map, name } of selectContainers(ctx, options.containers, false)) {
      if (!hasSidecar || !isProtectedContainer(ctx, map)) unprotected.push({ task: taskLabel(ctx), container: name });
    }
  }
  return { unprotected, diagnostics: loaded.diagnostics };
}

/** The image configs protect will need for `text` under `options` (none for containers that set entryPoint). */
export function planImageLookups(text: string, options: Pick<ProtectOptions, "containers" | "parameters">): ImageLookup[] {
  const loaded = load(text, options.parameters);
  if (!("contexts" in loaded)) return [];
  const lookups = new Map<string, ImageLookup>();
  for (const ctx of loaded.contexts) {
    const previous = unprotectTask(ctx);
    const platform = taskPlatform(ctx);
    for (const { map, index, name } of selectContainers(ctx, options.containers, false)) {
      const argv = analyzeArgv(ctx, map, index);
      if (argv === null) continue;
      const recovered = previous.recovered.get(name);
      const needEntrypoint = argv.sources.entrypoint === "image" && recovered?.entrypoint === undefined;
      const needCmd = argv.sources.command === "image" && recovered?.cmd === undefined;
      if (!needEntrypoint && !needCmd) continue;
      const image = imageOf(ctx, map);
      const lookupId = `${lookupKey(image, name)}\u0000${platform.os}/${platform.architecture}`;
      const path = `${taskLabel(ctx)}/${name}`;
      const existing = lookups.get(lookupId);
      if (existing !== undefined) existing.containers.push(path);
      else lookups.set(lookupId, { key: lookupKey(image, name), image, platform, containers: [path] });
    }
  }
  return [...lookups.values()];
}

/**
 * protectEcs after reading every needed image config through `resolver` (configs already in
 * options.imageConfigs are not read again). A resolver failure becomes an error diagnostic naming
 * the image and the containers, never a silently skipped container.
 */
export async function protectEcsWithResolver(text: string, options: ProtectOptions, resolver: ImageConfigResolver | null): Promise<ProtectResult> {
  const configs = new Map<string, ImageRunConfig>(options.imageConfigs ?? []);
  const failures: ProtectDiagnostic[] = [];
  for (const lookup of planImageLookups(text, options)) {
    if (configs.has(lookup.key) || lookup.image === null || resolver === null) continue;
    try {
      configs.set(lookup.key, await resolver(lookup.image, lookup.platform));
    } catch (error) {
      failures.push({
        severity: "error",
        path: "",
        message: `cannot read the image config of ${lookup.image} (${lookup.platform.os}/${lookup.platform.architecture}) for ${lookup.containers.join(", ")}: ${(error as Error).message}`,
        hint:
          options.surface === "macro"
            ? "give the macro's function access to the registry (its role, for ECR), or set EntryPoint and Command in the template"
            : `pass --image-config ${lookup.image}=FILE, or set entryPoint and command in the task definition`,
      });
    }
  }
  const protectedResult = protectEcs(text, { ...options, imageConfigs: configs });
  if (failures.length === 0) return protectedResult;
  // The resolver's reason is more useful than "was not read"; keep the other diagnostics.
  const rest = protectedResult.diagnostics.filter((d) => !d.message.includes("was not read"));
  return { ...protectedResult, text: null, diagnostics: [...failures, ...rest] };
}

