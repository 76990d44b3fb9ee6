// Prints a JSON document held as yaml nodes the way its author wrote it: collections that were on
// one line in the input (`{ "containerPort": 80 }`, `["FARGATE"]`) stay on one line, the others
// are indented. New collections follow their siblings (an item appended to a list of one-line
// objects is one line too), or are indented.

import type { Document, Node } from "yaml";
import { isMap, isScalar, isSeq } from "yaml";

export interface JsonStyle {
  indent: string;
  /** `{ "a": 1 }` rather than `{"a": 1}`. */
  objectPadding: boolean;
  /** `[ "a" ]` rather than `["a"]`. */
  arrayPadding: boolean;
}

export function detectJsonStyle(text: string, indent: number | string): JsonStyle {
  const count = (re: RegExp): number => (text.match(re) ?? []).length;
  return {
    indent: typeof indent === "number" ? " ".repeat(indent) : indent,
    objectPadding: count(/\{ "/g) > count(/\{"/g),
    arrayPadding: count(/\[ [^\s\]]/g) > count(/\[[^\s\]]/g),
  };
}

export function printJson(doc: Document, source: string, style: JsonStyle): string {
  const wasInline = (node: Node): boolean | undefined => {
    const range = node.range;
    if (range === undefined || range === null) return undefined;
    return !source.slice(range[0], range[1]).includes("\n");
  };
  const inline = (node: Node, parentInline: boolean, siblings: readonly unknown[]): boolean => {
    if (parentInline) return true;
    const own = wasInline(node);
    if (own !== undefined) return own;
    const known = siblings.filter((s): s is Node => s !== node && (isMap(s) || isSeq(s)) && wasInline(s) !== undefined);
    return known.length > 0 && known.every((s) => wasInline(s) === true);
  };
  const print = (node: unknown, level: number, parentInline: boolean, siblings: readonly unknown[]): string => {
    if (isScalar(node)) return JSON.stringify(node.toJSON());
    if (!isMap(node) && !isSeq(node)) return JSON.stringify(node ?? null);
    const [open, close, pad] = isMap(node) ? ["{", "}", style.objectPadding] : ["[", "]", style.arrayPadding];
    if (node.items.length === 0) return `${open}${close}`;
    const oneLine = inline(node as Node, parentInline, siblings);
    const entries = isMap(node)
      ? node.items.map((pair) => `${JSON.stringify(isScalar(pair.key) ? String(pair.key.value) : String(pair.key))}: ${print(pair.value, level + 1, oneLine, node.items.map((p) => p.value))}`)
      : node.items.map((item) => print(item, level + 1, oneLine, node.items));
    if (oneLine) return pad ? `${open} ${entries.join(", ")} ${close}` : `${open}${entries.join(", ")}${close}`;
    const inner = style.indent.repeat(level + 1);
    return `${open}\n${entries.map((e) => `${inner}${e}`).join(",\n")}\n${style.indent.repeat(level)}${close}`;
  };
  return print(doc.contents, 0, false, []);
}
