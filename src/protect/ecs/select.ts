// Which containers of a task protect wraps: the ones named with --container, or else every
// essential container that is not a known agent sidecar. Skipped containers go into the report.

import { knownAgent } from "./agents.js";
import { boolAt, isMap, mapGet, stringAt, type YAMLMap } from "./nodes.js";
import type { TaskContext } from "./task-context.js";
import { addDiagnostic, containerMaps, containerName, containerPath, imageOf, isOurSidecar, key, taskLabel } from "./task-context.js";

export interface SelectedContainer {
  map: YAMLMap;
  index: number;
  name: string;
}

/**
 * `names`: the --container list (over all tasks; a name that matches no container anywhere is
 * reported by the caller). Returns the selected containers; adds report lines for the rest.
 */
export function selectContainers(ctx: TaskContext, names: readonly string[] | undefined, reportSkipped: boolean): SelectedContainer[] {
  const selected: SelectedContainer[] = [];
  const proxyName = proxyContainerName(ctx);
  const task = taskLabel(ctx);
  for (const { map, index } of containerMaps(ctx)) {
    if (isOurSidecar(ctx, map)) continue;
    const name = containerName(ctx, map);
    if (name === null) {
      addDiagnostic(ctx, "error", containerPath(ctx, index, "name"), mapGet(map, key(ctx, "name")), "every container needs a literal name", "give the container a name (intrinsic functions are not resolved)");
      continue;
    }
    if (names !== undefined) {
      if (names.includes(name)) selected.push({ map, index, name });
      else if (reportSkipped) ctx.report.push({ task, container: name, outcome: "skipped-not-selected" });
      continue;
    }
    const agent =
      name === proxyName
        ? "App Mesh proxy (proxyConfiguration)"
        : knownAgent(imageOf(ctx, map), name, isMap(mapGet(map, key(ctx, "firelensConfiguration"))));
    if (agent !== null) {
      if (reportSkipped) ctx.report.push({ task, container: name, outcome: "skipped-agent", agent });
      continue;
    }
    if (boolAt(map, key(ctx, "essential")) === false) {
      if (reportSkipped) ctx.report.push({ task, container: name, outcome: "skipped-not-essential" });
      continue;
    }
    selected.push({ map, index, name });
  }
  return selected;
}

function proxyContainerName(ctx: TaskContext): string | null {
  const task = ctx.view.task;
  if (task === null) return null;
  const proxy = mapGet(task, key(ctx, "proxyConfiguration"));
  return isMap(proxy) ? stringAt(proxy, key(ctx, "containerName")) : null;
}
