// Policy source text (YAML or JSON) to a validated Policy, with every problem reported as a
// Diagnostic that carries the field path and, where the YAML parser knows it, the line, column and
// extent of the offending token.

import type { Document, Node } from "yaml";
import { LineCounter, isMap, isNode, isScalar, parseDocument } from "yaml";
import type { z } from "zod";
import { ZodArray, ZodObject, ZodOptional } from "zod";
import type { Diagnostic } from "./diagnostic.js";
import { formatFieldPath, sortDiagnostics } from "./diagnostic.js";
import type { Policy } from "./schema.js";
import { policySchema } from "./schema.js";
import { closestKey } from "./suggest.js";

export type FieldPath = readonly (string | number)[];
export type Position = Pick<Diagnostic, "line" | "col" | "endLine" | "endCol">;

/** Where a field is in the source: its value, or with `key`, its key. Empty when unknown. */
export type Locator = (path: FieldPath, part?: "key" | "value") => Position;

export interface ParseResult {
  value: Policy | null;
  /** The document as plain data, even when it does not validate (null when it is not even YAML). */
  data: unknown;
  errors: Diagnostic[];
  locate: Locator;
}

/** Parses and validates. `file` is only used in diagnostics. Collects all errors it can find. */
export function parsePolicySource(text: string, file: string): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const span = (start: number | undefined, end?: number): Position => {
    if (start === undefined) return {};
    const from = lineCounter.linePos(start);
    if (end === undefined || end <= start) return { line: from.line, col: from.col };
    const to = lineCounter.linePos(end);
    return { line: from.line, col: from.col, endLine: to.line, endCol: to.col };
  };
  const locate: Locator = (path, part = "value") => {
    if (part === "key" && path.length > 0) {
      const container = nodeAt(doc, path.slice(0, -1));
      const key = keyNode(container, path[path.length - 1]);
      if (key?.range) return span(key.range[0], key.range[1]);
    }
    const node = nodeAt(doc, path) ?? nearestNode(doc, path);
    return node?.range ? span(node.range[0], node.range[1]) : {};
  };

  const syntaxErrors: Diagnostic[] = doc.errors.map((error) => ({
    file,
    ...span(error.pos[0], error.pos[1]),
    path: "",
    message: `invalid YAML: ${firstLine(error.message)}`,
  }));
  if (syntaxErrors.length > 0) return { value: null, data: null, errors: syntaxErrors, locate };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { value: null, data: null, errors: [{ file, path: "", message: `invalid YAML: ${String(error)}` }], locate };
  }
  if (data === null || data === undefined) {
    return {
      value: null,
      data: null,
      errors: [{ file, path: "", message: "policy is empty; start with `apiVersion: vigil/v1` and `kind: Policy`" }],
      locate,
    };
  }

  const parsed = policySchema.safeParse(data);
  if (parsed.success) return { value: parsed.data, data, errors: [], locate };
  const errors = parsed.error.issues.flatMap((issue) => issueDiagnostics(issue, file, locate));
  return { value: null, data, errors: sortDiagnostics(errors), locate };
}

function issueDiagnostics(issue: z.core.$ZodIssue, file: string, locate: Locator): Diagnostic[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    return issue.keys.map((key) => ({
      file,
      ...locate([...path, key], "key"),
      path: formatFieldPath([...path, key]),
      message: unknownKeyMessage(key, path),
    }));
  }
  return [{ file, ...locate(path), path: formatFieldPath(path), message: issue.message }];
}

function unknownKeyMessage(key: string, path: FieldPath): string {
  const known = knownKeysAt(path);
  const expected = `expected one of: ${known.join(", ")}`;
  const close = closestKey(key, known);
  if (close !== null) return `unknown key; did you mean "${close}"? (${expected})`;
  const elsewhere = keyBelow(key, path);
  if (elsewhere !== null) return `unknown key here; did you mean ${formatFieldPath(elsewhere)}? (${expected})`;
  return `unknown key; ${expected}`;
}

/** A key written one level too high (`spec.allow` for `spec.exec.allow`): where it belongs. */
function keyBelow(key: string, path: FieldPath): FieldPath | null {
  for (const child of knownKeysAt(path)) {
    const close = closestKey(key, knownKeysAt([...path, child]));
    if (close !== null) return [...path, child, close];
  }
  return null;
}

function nodeAt(doc: Document, path: FieldPath): Node | undefined {
  const found: unknown = path.length === 0 ? doc.contents : doc.getIn(path, true);
  return isNode(found) ? found : undefined;
}

function nearestNode(doc: Document, path: FieldPath): Node | undefined {
  for (let n = path.length - 1; n >= 0; n--) {
    const node = nodeAt(doc, path.slice(0, n));
    if (node) return node;
  }
  return undefined;
}

function keyNode(container: Node | undefined, key: string | number | undefined): Node | undefined {
  if (!isMap(container) || key === undefined) return undefined;
  for (const pair of container.items) {
    if (isScalar(pair.key) && String(pair.key.value) === String(key)) return pair.key;
  }
  return undefined;
}

// The keys the schema allows at a field path (unwrapping optionals and lists).
function knownKeysAt(path: FieldPath): string[] {
  let schema: z.ZodType | undefined = policySchema;
  for (const part of path) {
    schema = typeof part === "number" ? listElement(schema) : objectShape(schema)?.[part];
  }
  return Object.keys(objectShape(schema) ?? {});
}

function unwrap(schema: z.ZodType | undefined): z.ZodType | undefined {
  let current = schema;
  while (current instanceof ZodOptional) current = current.unwrap() as z.ZodType;
  return current;
}

function objectShape(schema: z.ZodType | undefined): Record<string, z.ZodType> | undefined {
  const current = unwrap(schema);
  return current instanceof ZodObject ? (current.shape as Record<string, z.ZodType>) : undefined;
}

function listElement(schema: z.ZodType | undefined): z.ZodType | undefined {
  const current = unwrap(schema);
  return current instanceof ZodArray ? (current.element as z.ZodType) : undefined;
}

function firstLine(message: string): string {
  return message.split("\n")[0] ?? message;
}
