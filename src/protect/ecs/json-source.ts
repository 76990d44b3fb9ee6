// Prints a JSON document held as yaml nodes by editing its source text: every node that came from
// the input keeps its exact text (separators `"key":value` or `"key": value`, spaces before a
// comma, blank lines, `{  ` with trailing spaces), and only the members that were added, removed
// or replaced are written. New nodes follow the document's style (indent unit, `": "` or `":"`,
// padding, one-line collections stay one line).
//
// The edits are chosen so that removing what was added gives back the original bytes:
// * an item added after item k is written as `<sep> NEW` right after item k, where <sep> is the
//   separator between the last two items (or, for a single item, a comma and the whitespace before
//   it); removing the last item removes `<sep> ITEM`, removing another removes `ITEM <sep>`;
// * an item added to an empty collection `[W]`: for W = "" it is `[NEW]` / `[ NEW ]` (one line) or
//   `[\n  NEW\n]`, which read back as "empty" (see `emptied`); for any other W it is `[A NEW W]`
//   with A chosen so that the pair (A, W) does not read back as "empty": removing the only item
//   then keeps W.

import type { Document, Node, Pair } from "yaml";
import { isMap, isPair, isScalar, isSeq } from "yaml";

export interface JsonSourceStyle {
  /** One level of indentation. */
  unit: string;
  /** `": "` or `":"`. */
  colon: string;
  /** Between items of a one-line collection: `", "` or `","`. */
  comma: string;
  objectPadding: boolean;
  arrayPadding: boolean;
}

interface CollectionOrigin {
  items: unknown[];
  gaps: string[];
  oneLine: boolean;
}

interface PairOrigin {
  keyText: string;
  colon: string;
}

interface ScalarOrigin {
  text: string;
  value: unknown;
}

/** What the input looked like, captured before any edit. */
export interface JsonSource {
  prefix: string;
  suffix: string;
  /** The separators the input uses most (structural ones only, not those inside strings). */
  colon: string;
  comma: string;
  origins: WeakMap<object, CollectionOrigin | PairOrigin | ScalarOrigin>;
}

export function detectSourceStyle(text: string, indent: number | string, source: JsonSource): JsonSourceStyle {
  const count = (re: RegExp): number => (text.match(re) ?? []).length;
  return {
    unit: typeof indent === "number" ? " ".repeat(indent) : indent,
    colon: source.colon,
    comma: source.comma,
    objectPadding: count(/\{ "/g) > count(/\{"/g),
    arrayPadding: count(/\[ [^\s\]]/g) > count(/\[[^\s\]]/g),
  };
}

type Span = [number, number];

function spanOf(node: unknown): Span | null {
  if (isPair(node)) {
    const k = spanOf(node.key);
    const v = spanOf(node.value);
    return k === null || v === null ? null : [k[0], v[1]];
  }
  const range = (node as Node | null)?.range;
  return range === undefined || range === null ? null : [range[0], range[1]];
}

/** The source of every node of `doc` (parsed from `text`), or null when a node's text is not where JSON puts it. */
export function captureJsonSource(doc: Document, text: string): JsonSource | null {
  const origins: JsonSource["origins"] = new WeakMap();
  const colons = new Map<string, number>();
  const commas = new Map<string, number>();
  const tally = (m: Map<string, number>, k: string): void => void m.set(k, (m.get(k) ?? 0) + 1);
  const visit = (node: unknown): boolean => {
    const span = spanOf(node);
    if (span === null) return false;
    if (isScalar(node)) {
      origins.set(node, { text: text.slice(span[0], span[1]), value: node.value });
      return true;
    }
    if (!isMap(node) && !isSeq(node)) return false;
    const [open, close] = isMap(node) ? ["{", "}"] : ["[", "]"];
    if (text[span[0]] !== open || text[span[1] - 1] !== close) return false;
    const gaps: string[] = [];
    let at = span[0] + 1;
    for (const item of node.items) {
      const s = spanOf(item);
      if (s === null || s[0] < at) return false;
      gaps.push(text.slice(at, s[0]));
      at = s[1];
      if (isPair(item)) {
        const keySpan = spanOf(item.key);
        const valueSpan = spanOf(item.value);
        if (keySpan === null || valueSpan === null || !isScalar(item.key)) return false;
        const colon = text.slice(keySpan[1], valueSpan[0]);
        if (!/^\s*:\s*$/.test(colon)) return false;
        origins.set(item, { keyText: text.slice(keySpan[0], keySpan[1]), colon });
        if (colon === ":" || colon === ": ") tally(colons, colon);
        if (!visit(item.key) || !visit(item.value)) return false;
      } else if (!visit(item)) return false;
    }
    gaps.push(text.slice(at, span[1] - 1));
    const ok = gaps.every((g, i) => (i === 0 || i === gaps.length - 1 || gaps.length === 1 ? /^\s*$/ : /^\s*,\s*$/).test(g));
    if (!ok) return false;
    for (const g of gaps.slice(1, -1)) if (g === "," || g === ", ") tally(commas, g);
    origins.set(node, { items: [...node.items], gaps, oneLine: !text.slice(span[0], span[1]).includes("\n") });
    return true;
  };
  const root = doc.contents;
  const span = spanOf(root);
  if (span === null || !visit(root)) return null;
  const most = (m: Map<string, number>, a: string, b: string): string => ((m.get(a) ?? 0) > (m.get(b) ?? 0) ? a : b);
  return { prefix: text.slice(0, span[0]), suffix: text.slice(span[1]), origins, colon: most(colons, ":", ": "), comma: most(commas, ",", ", ") };
}

/** Whether the inside of a collection whose only item was removed reads as "nothing was there". */
function emptied(before: string, after: string): boolean {
  return (before === "" && after === "") || (before === " " && after === " ") || (/^\n[ \t]*$/.test(before) && /^\n[ \t]*$/.test(after));
}

const afterNewline = (gap: string): string | null => {
  const at = gap.lastIndexOf("\n");
  return at < 0 ? null : gap.slice(at + 1);
};

export function printJsonSource(doc: Document, source: JsonSource, style: JsonSourceStyle): string | null {
  const origin = <T>(node: unknown): T | undefined => (node !== null && typeof node === "object" ? (source.origins.get(node) as T | undefined) : undefined);
  const wasOneLine = (node: unknown): boolean | undefined => origin<CollectionOrigin>(node)?.oneLine;
  const inline = (node: unknown, parentInline: boolean, siblings: readonly unknown[]): boolean => {
    if (parentInline) return true;
    const own = wasOneLine(node);
    if (own !== undefined) return own;
    const known = siblings.filter((s) => s !== node && (isMap(s) || isSeq(s)) && wasOneLine(s) !== undefined);
    return known.length > 0 && known.every((s) => wasOneLine(s) === true);
  };

  const printValue = (node: unknown, indent: string, parentInline: boolean, siblings: readonly unknown[]): string => {
    if (isScalar(node)) {
      const o = origin<ScalarOrigin>(node);
      return o !== undefined && Object.is(o.value, node.value) ? o.text : JSON.stringify(node.toJSON());
    }
    if (!isMap(node) && !isSeq(node)) return JSON.stringify(node ?? null);
    const o = origin<CollectionOrigin>(node);
    return o === undefined ? printNew(node, indent, parentInline, siblings) : printEdited(node, o, indent);
  };

  const printItem = (item: unknown, indent: string, oneLine: boolean, siblings: readonly unknown[]): string => {
    if (!isPair(item)) return printValue(item, indent, oneLine, siblings);
    const p = item as Pair;
    const o = origin<PairOrigin>(p);
    const keyText = o?.keyText ?? JSON.stringify(isScalar(p.key) ? String(p.key.value) : String(p.key));
    return `${keyText}${o?.colon ?? style.colon}${printValue(p.value, indent, oneLine, siblings)}`;
  };

  const printNew = (node: { items: unknown[] }, indent: string, parentInline: boolean, siblings: readonly unknown[]): string => {
    const [open, close, pad] = isMap(node) ? ["{", "}", style.objectPadding] : ["[", "]", style.arrayPadding];
    if (node.items.length === 0) return `${open}${close}`;
    const oneLine = inline(node, parentInline, siblings);
    const inner = oneLine ? indent : indent + style.unit;
    const childSiblings = node.items.map((i) => (isPair(i) ? i.value : i));
    const entries = node.items.map((i) => printItem(i, inner, oneLine, childSiblings));
    if (oneLine) return pad ? `${open} ${entries.join(style.comma)} ${close}` : `${open}${entries.join(style.comma)}${close}`;
    return `${open}\n${entries.map((e) => `${inner}${e}`).join(",\n")}\n${indent}${close}`;
  };

  const printEdited = (node: { items: unknown[] }, o: CollectionOrigin, indent: string): string => {
    const [open, close, pad] = isMap(node) ? ["{", "}", style.objectPadding] : ["[", "]", style.arrayPadding];
    const current = node.items;
    const kept = new Set(current.filter((i) => o.items.includes(i)));
    const keptInOrder = o.items.filter((i) => kept.has(i));
    if (keptInOrder.some((item, i) => item !== current.filter((c) => kept.has(c))[i])) return printNew(node, indent, false, []);
    const items = [...o.items];
    const gaps = [...o.gaps];
    // A new item of a list looks like the others (one line if they all are); a new member of a map
    // is one line only when it sits on one line.
    const childSiblings = isMap(node) ? [] : current;
    // Separator for a new item, from the neighbours' (a single item: a comma and the whitespace before it).
    const separator = (around: number): string => {
      if (items.length >= 2) return gaps[Math.min(Math.max(around, 1), items.length - 1)] as string;
      const line = afterNewline(gaps[0] as string);
      if (line !== null) return `,\n${line}`;
      return gaps[0] === " " ? ", " : style.comma;
    };
    // Insertions, in order, each right after the item before it in the result.
    let previous = -1;
    for (const item of current) {
      if (kept.has(item)) {
        previous = items.indexOf(item);
        continue;
      }
      if (items.length === 0) {
        const inside = gaps[0] as string;
        if (inside === "") {
          const a = o.oneLine ? (pad ? " " : "") : `\n${indent}${style.unit}`;
          const b = o.oneLine ? (pad ? " " : "") : `\n${indent}`;
          gaps.splice(0, 1, a, b);
        } else {
          // On its own line when the inside spans lines, else right after the bracket.
          const own = inside.includes("\n") ? `\n${indent}${style.unit}` : "";
          gaps.splice(0, 1, emptied(own, inside) ? "" : own, inside);
        }
        items.push(item);
        previous = 0;
        continue;
      }
      const at = previous + 1;
      gaps.splice(at === 0 ? 1 : at, 0, separator(at === 0 ? 1 : at));
      items.splice(at, 0, item);
      previous = at;
    }
    // Deletions of the original items no longer there.
    for (const item of o.items) {
      if (kept.has(item)) continue;
      const k = items.indexOf(item);
      if (items.length === 1) gaps.splice(0, 2, emptied(gaps[0] as string, gaps[1] as string) ? "" : (gaps[1] as string));
      else if (k === items.length - 1) gaps.splice(k, 1);
      else gaps.splice(k + 1, 1);
      items.splice(k, 1);
    }
    let out = open;
    items.forEach((item, i) => {
      const gap = gaps[i] as string;
      const oneLine = kept.has(item) ? o.oneLine : !gap.includes("\n") && !(gaps[i + 1] as string).includes("\n");
      out += gap + printItem(item, afterNewline(gap) ?? indent, oneLine, childSiblings);
    });
    return `${out}${gaps[items.length] as string}${close}`;
  };

  const root = doc.contents;
  const firstLine = afterNewline(source.prefix) ?? source.prefix;
  return `${source.prefix}${printValue(root, /^[ \t]*$/.test(firstLine) ? firstLine : "", false, [])}${source.suffix}`;
}
