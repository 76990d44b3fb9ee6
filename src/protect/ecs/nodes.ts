// Small, typed accessors over `yaml` document nodes. Both JSON and YAML inputs are held as a yaml
// Document so one set of edits serves both and YAML keeps its comments and tags (`!Ref`, `!Sub`).

import type { Document, Node } from "yaml";
import { isMap, isScalar, isSeq, Scalar, YAMLMap, YAMLSeq } from "yaml";

export type Casing = "camel" | "pascal";

/** ECS API keys are camelCase; CloudFormation's are PascalCase. `entryPoint` → `EntryPoint`. */
export function keyFor(casing: Casing, camel: string): string {
  return casing === "camel" ? camel : camel.charAt(0).toUpperCase() + camel.slice(1);
}

export function scalarValue(node: unknown): unknown {
  return isScalar(node) ? node.value : undefined;
}

/** The pair whose key is `key` (a plain scalar key), or undefined. */
function pairIndex(map: YAMLMap, key: string): number {
  return map.items.findIndex((pair) => (isScalar(pair.key) ? pair.key.value === key : pair.key === key));
}

/**
 * The value of `key`, or undefined when it is absent or `null` (ECS console exports write `null`
 * for every unset field; the ECS API reads it as unset). See isNullAt for telling the two apart.
 */
export function mapGet(map: YAMLMap, key: string): Node | undefined {
  const index = pairIndex(map, key);
  if (index < 0) return undefined;
  const value = map.items[index]?.value;
  return value === null || value === undefined || isNull(value) ? undefined : (value as Node);
}

export function mapHas(map: YAMLMap, key: string): boolean {
  return pairIndex(map, key) >= 0;
}

/** A plain `null` (not an intrinsic, not a tagged node). */
function isNull(node: unknown): boolean {
  return isScalar(node) && node.value === null && !isTagged(node);
}

/** The key is there with the value `null` (or no value): unset, but written. */
export function isNullAt(map: YAMLMap, key: string): boolean {
  const index = pairIndex(map, key);
  if (index < 0) return false;
  const value = map.items[index]?.value;
  return value === null || value === undefined || isNull(value);
}

/** Puts `null` back as the value of an existing key (where protect had filled a `null`). */
export function mapSetNull(map: YAMLMap, key: string): void {
  const pair = map.items[pairIndex(map, key)];
  if (pair !== undefined) pair.value = new Scalar(null) as never;
}

/** Replaces the value in place (the key keeps its position) or appends a new pair at the end. */
export function mapSet(doc: Document, map: YAMLMap, key: string, value: Node): void {
  const index = pairIndex(map, key);
  if (index >= 0) {
    const pair = map.items[index];
    if (pair !== undefined) pair.value = value;
    return;
  }
  map.items.push(doc.createPair(key, value) as never);
}

export function mapDelete(map: YAMLMap, key: string): void {
  const index = pairIndex(map, key);
  if (index >= 0) map.items.splice(index, 1);
}

/** A string scalar's value, or null (intrinsics, numbers, absent). */
export function stringAt(map: YAMLMap, key: string): string | null {
  const value = scalarValue(mapGet(map, key));
  return typeof value === "string" && !isTagged(mapGet(map, key)) ? value : null;
}

export function boolAt(map: YAMLMap, key: string): boolean | null {
  const node = mapGet(map, key);
  const value = scalarValue(node);
  if (typeof value === "boolean") return value;
  // CloudFormation accepts "true"/"false" strings for Boolean properties.
  if (value === "true") return true;
  if (value === "false") return false;
  return null;
}

function isTagged(node: unknown): boolean {
  return (isScalar(node) || isMap(node) || isSeq(node)) && typeof node.tag === "string" && node.tag.startsWith("!");
}

/**
 * A CloudFormation intrinsic function: a `!Tag` node in YAML, or a one-key map `{"Ref": …}` /
 * `{"Fn::…": …}` (also `Condition`) in either format. Returns its name, or null.
 */
export function intrinsicName(node: unknown): string | null {
  if (isTagged(node)) return (node as Scalar).tag ?? null;
  if (isMap(node) && node.items.length === 1) {
    const key = scalarValue(node.items[0]?.key);
    if (typeof key === "string" && (key === "Ref" || key === "Condition" || key.startsWith("Fn::"))) return key;
  }
  return null;
}

/** The list of string literals in a sequence node, or null when any item is not a plain string. */
export function stringList(node: unknown): string[] | null {
  if (!isSeq(node)) return null;
  const out: string[] = [];
  for (const item of node.items) {
    if (!isScalar(item) || typeof item.value !== "string" || isTagged(item)) return null;
    out.push(item.value);
  }
  return out;
}

export function newScalar(value: string): Scalar {
  return new Scalar(value);
}

export function newSeqOf(doc: Document, values: readonly string[]): YAMLSeq {
  return doc.createNode([...values]) as YAMLSeq;
}

export function newMapOf(doc: Document, value: Record<string, unknown>): YAMLMap {
  return doc.createNode(value) as YAMLMap;
}

export { isMap, isScalar, isSeq, YAMLMap, YAMLSeq };
