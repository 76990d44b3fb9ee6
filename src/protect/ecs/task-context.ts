// Shared state and small helpers for rewriting the containers of one task definition.

import type { Document, Node } from "yaml";
import type { ParsedInput, TaskView } from "./input.js";
import { joinPath, positionOf } from "./input.js";
import { isMap, isScalar, isSeq, keyFor, mapGet, scalarValue, stringAt, type YAMLMap } from "./nodes.js";
import type { ProtectRecord } from "./record.js";
import { decodeRecord, RECORD_LABEL, SIDECAR_NAME } from "./record.js";
import type { ContainerReport, ProtectDiagnostic } from "./types.js";

export interface TaskContext {
  doc: Document;
  parsed: ParsedInput;
  view: TaskView;
  diagnostics: ProtectDiagnostic[];
  report: ContainerReport[];
  /** CloudFormation parameter values known to the caller (a macro knows them), for `Ref` images. */
  parameters: Readonly<Record<string, string>>;
}

/** The document's spelling of an ECS API key (`entryPoint`, or `EntryPoint` in CloudFormation). */
export function key(ctx: TaskContext, camel: string): string {
  return keyFor(ctx.view.casing, camel);
}

export function containerMaps(ctx: TaskContext): { map: YAMLMap; index: number }[] {
  const out: { map: YAMLMap; index: number }[] = [];
  ctx.view.containers.items.forEach((item, index) => {
    if (isMap(item)) out.push({ map: item, index });
  });
  return out;
}

export function containerPath(ctx: TaskContext, index: number, field?: string): string {
  const base = joinPath(joinPath(ctx.view.path, key(ctx, "containerDefinitions")), index);
  return field === undefined ? base : joinPath(base, key(ctx, field));
}

/** The image reference: a literal, or a `Ref` to a parameter whose value is known. */
export function imageOf(ctx: TaskContext, container: YAMLMap): string | null {
  const node = mapGet(container, key(ctx, "image"));
  const literal = stringAt(container, key(ctx, "image"));
  if (literal !== null) return literal;
  let ref: unknown;
  if (isScalar(node) && node.tag === "!Ref") ref = node.value;
  else if (isMap(node) && node.items.length === 1 && scalarValue(node.items[0]?.key) === "Ref") ref = scalarValue(node.items[0]?.value);
  return typeof ref === "string" && Object.hasOwn(ctx.parameters, ref) ? (ctx.parameters[ref] ?? null) : null;
}

export function containerName(ctx: TaskContext, container: YAMLMap): string | null {
  return stringAt(container, key(ctx, "name"));
}

export function taskLabel(ctx: TaskContext): string {
  return ctx.view.label;
}

export function addDiagnostic(
  ctx: TaskContext,
  severity: "error" | "warning",
  path: string,
  node: Node | undefined,
  message: string,
  hint?: string,
): void {
  const pos = positionOf(ctx.parsed, node);
  ctx.diagnostics.push({ severity, path, ...(pos ?? {}), message, ...(hint === undefined ? {} : { hint }) });
}

/** The record protect left on a container, null when there is none, or an error message. */
export function readRecord(ctx: TaskContext, container: YAMLMap): ProtectRecord | null | string {
  const labels = mapGet(container, key(ctx, "dockerLabels"));
  if (!isMap(labels)) return null;
  const value = scalarValue(mapGet(labels, RECORD_LABEL));
  if (value === undefined) return null;
  if (typeof value !== "string") return "is not a string";
  return decodeRecord(value);
}

export function isOurSidecar(ctx: TaskContext, container: YAMLMap): boolean {
  const record = readRecord(ctx, container);
  return containerName(ctx, container) === SIDECAR_NAME && typeof record === "object" && record !== null && record.role === "sidecar";
}

/** Items of a list-valued key whose field `field` equals `value`. */
export function indexOfItem(list: Node | undefined, field: string, value: string): number {
  if (!isSeq(list)) return -1;
  for (let i = list.items.length - 1; i >= 0; i--) {
    const item = list.items[i];
    if (isMap(item) && scalarValue(mapGet(item, field)) === value) return i;
  }
  return -1;
}

export function lastIndexOfScalar(list: Node | undefined, value: string): number {
  if (!isSeq(list)) return -1;
  for (let i = list.items.length - 1; i >= 0; i--) {
    const item = list.items[i];
    if (isScalar(item) && item.value === value) return i;
  }
  return -1;
}
