// How a container definition gives its entryPoint and command, checked, and which parts of the
// effective argv must come from the image config.

import type { Node } from "yaml";
import type { ArgvSources, FieldState } from "./docker-argv.js";
import { argvSources } from "./docker-argv.js";
import { intrinsicName, isScalar, isSeq, mapGet, stringAt, type YAMLMap, type YAMLSeq } from "./nodes.js";
import type { TaskContext } from "./task-context.js";
import { addDiagnostic, containerPath, key } from "./task-context.js";
import type { ImagePlatform } from "./types.js";

export interface ArgvAnalysis {
  entryPoint: FieldState;
  command: FieldState;
  entryPointNode: YAMLSeq | undefined;
  commandNode: YAMLSeq | undefined;
  sources: ArgvSources;
}

/** null when a field is unusable (an error diagnostic was added). */
export function analyzeArgv(ctx: TaskContext, container: YAMLMap, index: number): ArgvAnalysis | null {
  const ep = listField(ctx, container, index, "entryPoint");
  const cmd = listField(ctx, container, index, "command");
  if (ep === null || cmd === null) return null;
  if (ep.state === "empty") {
    addDiagnostic(
      ctx,
      "error",
      containerPath(ctx, index, "entryPoint"),
      ep.node,
      "is an empty list, which Docker and the ECS API treat differently (Docker drops the image ENTRYPOINT, ECS may drop the empty list)",
      "remove the key to use the image's ENTRYPOINT, or list the entry point you mean",
    );
    return null;
  }
  return { entryPoint: ep.state, command: cmd.state, entryPointNode: ep.node, commandNode: cmd.node, sources: argvSources(ep.state, cmd.state) };
}

function listField(ctx: TaskContext, container: YAMLMap, index: number, field: "entryPoint" | "command"): { state: FieldState; node: YAMLSeq | undefined } | null {
  const node: Node | undefined = mapGet(container, key(ctx, field));
  const path = containerPath(ctx, index, field);
  if (node === undefined || (isScalar(node) && node.value === null)) return { state: "absent", node: undefined };
  const fn = intrinsicName(node);
  if (fn !== null) {
    addDiagnostic(ctx, "error", path, node, `is given through ${fn}; vigil must see the list to keep the argv exactly`, "write it as a list in the template (intrinsic functions inside the list are fine)");
    return null;
  }
  if (!isSeq(node)) {
    const shown = isScalar(node) ? JSON.stringify(node.value) : "a map";
    addDiagnostic(ctx, "error", path, node, `must be a list of strings, one per argument; received ${shown}`, 'write each argument as its own string, e.g. ["nginx", "-g", "daemon off;"]');
    return null;
  }
  for (let i = 0; i < node.items.length; i++) {
    const item = node.items[i];
    const ok = (isScalar(item) && typeof item.value === "string") || (ctx.view.casing === "pascal" && intrinsicName(item) !== null);
    if (!ok) {
      const shown = isScalar(item) ? JSON.stringify(item.value) : "a collection";
      addDiagnostic(ctx, "error", `${path}[${i}]`, item as Node, `must be a string; received ${shown}`, "quote it so it is a string");
      return null;
    }
  }
  const first = node.items[0];
  const state: FieldState =
    node.items.length === 0 ? "empty" : node.items.length === 1 && isScalar(first) && first.value === "" ? "blank" : "set";
  return { state, node };
}

/** The platform the task runs on, in OCI terms (Fargate's default is X86_64). */
export function taskPlatform(ctx: TaskContext): ImagePlatform {
  const task = ctx.view.task;
  const runtime = task === null ? undefined : mapGet(task, key(ctx, "runtimePlatform"));
  const arch = runtime !== undefined && !isScalar(runtime) && !isSeq(runtime) ? stringAt(runtime as YAMLMap, key(ctx, "cpuArchitecture")) : null;
  return { os: "linux", architecture: arch === "ARM64" ? "arm64" : "amd64" };
}

/** The key an image config is looked up by: the literal image, or `container:NAME` for intrinsics. */
export function lookupKey(image: string | null, containerName: string): string {
  return image ?? `container:${containerName}`;
}
