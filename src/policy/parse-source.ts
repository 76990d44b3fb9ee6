// Policy source text (YAML or JSON) to a validated Policy, with every problem reported as a
// Diagnostic that carries the field path and, where the YAML parser knows it, line and column.

import type { Document, Node } from "yaml";
import { LineCounter, isMap, isNode, isScalar, parseDocument } from "yaml";
import type { z } from "zod";
import { ZodArray, ZodObject, ZodOptional } from "zod";
import type { Diagnostic } from "./diagnostic.js";
import { formatFieldPath } from "./diagnostic.js";
import type { Policy } from "./schema.js";
import { policySchema } from "./schema.js";

export interface ParseResult {
  value: Policy | null;
  errors: Diagnostic[];
}

/** Parses and validates. `file` is only used in diagnostics. Collects all errors it can find. */
export function parsePolicySource(text: string, file: string): ParseResult {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const at = (offset: number | undefined): Pick<Diagnostic, "line" | "col"> => {
    if (offset === undefined) return {};
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, col: pos.col };
  };

  const syntaxErrors: Diagnostic[] = doc.errors.map((error) => ({
    file,
    ...at(error.pos[0]),
    path: "",
    message: `invalid YAML: ${firstLine(error.message)}`,
  }));
  if (syntaxErrors.length > 0) return { value: null, errors: syntaxErrors };

  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { value: null, errors: [{ file, path: "", message: `invalid YAML: ${String(error)}` }] };
  }
  if (data === null || data === undefined) {
    return {
      value: null,
      errors: [{ file, path: "", message: "policy is empty; start with `apiVersion: vigil/v1` and `kind: Policy`" }],
    };
  }

  const parsed = policySchema.safeParse(data);
  if (parsed.success) return { value: parsed.data, errors: [] };
  const errors = parsed.error.issues.flatMap((issue) => issueDiagnostics(issue, doc, file, at));
  errors.sort((a, b) => (a.line ?? 0) - (b.line ?? 0) || (a.col ?? 0) - (b.col ?? 0));
  return { value: null, errors };
}

function issueDiagnostics(
  issue: z.core.$ZodIssue,
  doc: Document,
  file: string,
  at: (offset: number | undefined) => Pick<Diagnostic, "line" | "col">,
): Diagnostic[] {
  const path = issue.path.filter((p): p is string | number => typeof p !== "symbol");
  if (issue.code === "unrecognized_keys") {
    const container = nodeAt(doc, path);
    return issue.keys.map((key) => ({
      file,
      ...at(keyOffset(container, key) ?? container?.range?.[0]),
      path: formatFieldPath([...path, key]),
      message: `unknown key; expected one of: ${knownKeysAt(path).join(", ")}`,
    }));
  }
  const node = nodeAt(doc, path) ?? nearestNode(doc, path);
  return [{ file, ...at(node?.range?.[0]), path: formatFieldPath(path), message: issue.message }];
}

function nodeAt(doc: Document, path: readonly (string | number)[]): Node | undefined {
  const found: unknown = path.length === 0 ? doc.contents : doc.getIn(path, true);
  return isNode(found) ? found : undefined;
}

function nearestNode(doc: Document, path: readonly (string | number)[]): Node | undefined {
  for (let n = path.length - 1; n >= 0; n--) {
    const node = nodeAt(doc, path.slice(0, n));
    if (node) return node;
  }
  return undefined;
}

function keyOffset(container: Node | undefined, key: string): number | undefined {
  if (!isMap(container)) return undefined;
  for (const pair of container.items) {
    if (isScalar(pair.key) && String(pair.key.value) === key) return pair.key.range?.[0];
  }
  return undefined;
}

// The keys the schema allows at a field path (unwrapping optionals, lists and unions).
function knownKeysAt(path: readonly (string | number)[]): string[] {
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
