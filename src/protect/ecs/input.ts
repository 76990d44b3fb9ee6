// Reading an ECS input document: which of the four forms it is, where its task definitions are,
// and writing it back in the same format and style.

import type { Node } from "yaml";
import { Document, LineCounter, parseDocument } from "yaml";
import { mergeLines, splitLines } from "../../text/line-diff.js";
import { detectJsonStyle, printJson } from "./json-printer.js";
import type { JsonSource } from "./json-source.js";
import { captureJsonSource, detectSourceStyle, printJsonSource } from "./json-source.js";
import type { Casing } from "./nodes.js";
import { intrinsicName, isMap, isSeq, mapDelete, mapGet, mapHas, scalarValue, stringAt, YAMLMap, YAMLSeq } from "./nodes.js";
import type { InputKind, ProtectDiagnostic } from "./types.js";

/** One task definition inside the document. */
export interface TaskView {
  casing: Casing;
  /** The task definition map, or null for a bare containerDefinitions array. */
  task: YAMLMap | null;
  containers: YAMLSeq;
  /** Field path of the task definition ("" at the root), for messages. */
  path: string;
  /** Family (or CloudFormation logical id): names the workload. */
  name: string;
  /** How the report names this task: family, logical id, or "containerDefinitions". */
  label: string;
}

export interface ParsedInput {
  doc: Document;
  kind: InputKind;
  format: "json" | "yaml";
  views: TaskView[];
  lineCounter: LineCounter;
  style: OutputStyle;
  /** The input text, so unchanged parts keep the user's formatting. */
  source: string;
  /** JSON only: where each node of the input was, so output edits the input text (null: it cannot). */
  jsonSource: JsonSource | null;
  /** Read-only fields (of a describe output or a console export) removed so the result can be registered. */
  removed: string[];
}

interface OutputStyle {
  indent: number | string;
  indentSeq: boolean;
  finalNewline: boolean;
  flowPadding: boolean;
}

/** Read-only fields of DescribeTaskDefinition output that RegisterTaskDefinition rejects. */
export const READ_ONLY_FIELDS = [
  "taskDefinitionArn",
  "revision",
  "status",
  "requiresAttributes",
  "compatibilities",
  "registeredAt",
  "registeredBy",
  "deregisteredAt",
  "deleteRequestedAt",
] as const;

export class InputError extends Error {
  override readonly name = "InputError";
  constructor(readonly diagnostics: ProtectDiagnostic[]) {
    super(diagnostics.map((d) => d.message).join("; "));
  }
}

export function joinPath(base: string, key: string | number): string {
  if (typeof key === "number") return `${base}[${key}]`;
  return base === "" ? key : `${base}.${key}`;
}

export function parseInput(text: string): ParsedInput {
  const lineCounter = new LineCounter();
  const trimmed = text.trimStart();
  const format: "json" | "yaml" = trimmed.startsWith("{") || trimmed.startsWith("[") ? "json" : "yaml";
  let doc: Document;
  let jsonSource: JsonSource | null = null;
  if (format === "json") {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (error) {
      throw new InputError([{ severity: "error", path: "", message: `not valid JSON: ${(error as Error).message}` }]);
    }
    doc = parseJson(text, value, lineCounter);
    jsonSource = captureJsonSource(doc, text);
  } else {
    doc = parseDocument(text, { lineCounter, uniqueKeys: true });
  }
  const errors = doc.errors;
  if (errors.length > 0) {
    throw new InputError(
      errors.map((e) => {
        const pos = e.linePos?.[0];
        return { severity: "error" as const, path: "", message: e.message.split("\n")[0] ?? e.message, ...(pos ? { line: pos.line, col: pos.col } : {}) };
      }),
    );
  }
  const style = detectStyle(text, format);
  const root = doc.contents;
  const common = { format, lineCounter, style, source: text, jsonSource, removed: [] as string[] };
  if (isSeq(root)) {
    return { ...common, doc, kind: "container-definitions", views: [{ casing: "camel", task: null, containers: root, path: "", name: "", label: "containerDefinitions" }] };
  }
  if (!isMap(root)) throw new InputError([{ severity: "error", path: "", message: "expected a task definition, a describe-task-definition output, a containerDefinitions array or a CloudFormation template" }]);

  const inner = mapGet(root, "taskDefinition");
  if (isMap(inner) && isSeq(mapGet(inner, "containerDefinitions"))) {
    const removed = READ_ONLY_FIELDS.filter((field) => mapHas(inner, field));
    return { ...common, doc: describeToRegister(doc, root, inner), kind: "describe", views: [], removed };
  }
  if (mapGet(root, "containerDefinitions") !== undefined) {
    const containers = mapGet(root, "containerDefinitions");
    if (!isSeq(containers)) throw new InputError([{ severity: "error", path: "containerDefinitions", message: "must be a list of container definitions" }]);
    const family = stringAt(root, "family") ?? "";
    // A console export ("Export JSON") is the register form with the read-only fields at the top.
    const removed = READ_ONLY_FIELDS.filter((field) => mapHas(root, field));
    for (const field of removed) mapDelete(root, field);
    return { ...common, doc, kind: "register", views: [{ casing: "camel", task: root, containers, path: "", name: family, label: family || "task" }], removed };
  }
  const resources = mapGet(root, "Resources");
  if (isMap(resources)) {
    return { ...common, doc, kind: "cloudformation", views: cloudFormationViews(resources) };
  }
  throw new InputError([
    {
      severity: "error",
      path: "",
      message: "expected a task definition (containerDefinitions), a describe-task-definition output (taskDefinition), a containerDefinitions array or a CloudFormation template (Resources)",
    },
  ]);
}

/** Views over the register form, after parseInput turned a describe output into it. */
export function finishDescribe(parsed: ParsedInput): ParsedInput {
  if (parsed.kind !== "describe") return parsed;
  const root = parsed.doc.contents as YAMLMap;
  const family = stringAt(root, "family") ?? "";
  return { ...parsed, views: [{ casing: "camel", task: root, containers: mapGet(root, "containerDefinitions") as YAMLSeq, path: "", name: family, label: family || "task" }] };
}

/** `{taskDefinition: {...}, tags: [...]}` → the register request: read-only fields removed, tags kept. */
function describeToRegister(doc: Document, root: YAMLMap, inner: YAMLMap): Document {
  for (const field of READ_ONLY_FIELDS) mapDelete(inner, field);
  const tags = mapGet(root, "tags");
  if (isSeq(tags) && tags.items.length > 0 && mapGet(inner, "tags") === undefined) inner.items.push(doc.createPair("tags", tags) as never);
  doc.contents = inner as never;
  return doc;
}

function cloudFormationViews(resources: YAMLMap): TaskView[] {
  const views: TaskView[] = [];
  for (const pair of resources.items) {
    const logicalId = scalarValue(pair.key);
    const resource = pair.value;
    if (typeof logicalId !== "string" || !isMap(resource)) continue;
    if (scalarValue(mapGet(resource, "Type")) !== "AWS::ECS::TaskDefinition") continue;
    const path = joinPath(joinPath("Resources", logicalId), "Properties");
    const properties = mapGet(resource, "Properties");
    if (!isMap(properties)) throw new InputError([{ severity: "error", path, message: "an AWS::ECS::TaskDefinition needs Properties" }]);
    const containers = mapGet(properties, "ContainerDefinitions");
    const fn = intrinsicName(containers);
    if (!isSeq(containers) || fn !== null) {
      throw new InputError([
        {
          severity: "error",
          path: joinPath(path, "ContainerDefinitions"),
          message: fn === null ? "must be a list of container definitions" : `is given through ${fn}; vigil can only rewrite a literal list of container definitions`,
          hint: "write ContainerDefinitions as a list in the template (intrinsics inside each container are fine)",
        },
      ]);
    }
    views.push({ casing: "pascal", task: properties, containers, path, name: stringAt(properties, "Family") ?? logicalId, label: logicalId });
  }
  return views;
}

function detectStyle(text: string, format: "json" | "yaml"): OutputStyle {
  const finalNewline = text.endsWith("\n");
  const indentMatch = /^\n?([ \t]+)\S/m.exec(text.slice(text.indexOf("\n")));
  let indent: number | string = 2;
  if (indentMatch?.[1] !== undefined) indent = indentMatch[1].startsWith("\t") ? "\t" : indentMatch[1].length;
  if (format === "yaml") {
    // A block sequence whose "- " sits at the same column as its parent key: `key:\n- item`.
    const unindented = /^( *)[^\s#-][^\n]*:\s*\n\1- /m.test(text);
    // `[a, b]` or `[ a, b ]`: whichever the document uses more.
    const padded = (text.match(/[[{] \S/g) ?? []).length;
    const tight = (text.match(/[[{][^\s\]}]/g) ?? []).length;
    return { indent: typeof indent === "number" ? indent : 2, indentSeq: !unindented, finalNewline, flowPadding: padded >= tight };
  }
  // One line of JSON (Terraform's jsonencode, `jq -c`): stay on one line.
  if (!text.trim().includes("\n")) indent = 0;
  return { indent, indentSeq: true, finalNewline, flowPadding: true };
}

/**
 * The document as text in its input format. JSON (but a describe output) is edited in place
 * (json-source.ts), so unchanged members keep their bytes and unprotect gives back the input.
 * Otherwise only the regions that changed are re-rendered: the
 * edits (from rendering the input as parsed to rendering the result) are merged onto the input
 * text by lines, and the merge is kept only if it reads back as exactly the result.
 */
export function renderOutput(parsed: ParsedInput): string {
  if (parsed.jsonSource !== null && parsed.kind !== "describe") {
    const edited = printJsonSource(parsed.doc, parsed.jsonSource, detectSourceStyle(parsed.source, parsed.style.indent, parsed.jsonSource));
    if (edited !== null && sameJson(edited, parsed.doc)) return edited;
  }
  const rendered = render(parsed, parsed.doc);
  const base = renderSource(parsed);
  if (base === null || base === parsed.source) return rendered;
  const merged = mergeLines(splitLines(base), splitLines(parsed.source), splitLines(rendered));
  const text = merged.join("\n") + (merged.length > 0 && parsed.style.finalNewline ? "\n" : "");
  return readsAs(parsed, text, rendered) ? text : rendered;
}

/**
 * JSON as yaml nodes. Parsed as YAML (JSON is YAML) so nodes keep their source ranges and the
 * printer can keep one-line collections on one line; built from the plain value instead when the
 * YAML reading differs from JSON's in any way.
 */
function parseJson(text: string, value: unknown, lineCounter?: LineCounter): Document {
  try {
    const doc = parseDocument(text, { uniqueKeys: true, ...(lineCounter === undefined ? {} : { lineCounter }) });
    if (doc.errors.length === 0 && JSON.stringify(doc.toJS()) === JSON.stringify(value)) return doc;
  } catch {
    // fall through
  }
  return new Document(value);
}

function render(parsed: ParsedInput, doc: Document, source: string = parsed.source): string {
  if (parsed.format === "json") {
    const body = parsed.style.indent === 0 ? JSON.stringify(doc.toJS()) : printJson(doc, source, detectJsonStyle(source, parsed.style.indent));
    return parsed.style.finalNewline ? `${body}\n` : body;
  }
  return doc.toString({
    lineWidth: 0,
    indent: typeof parsed.style.indent === "number" ? parsed.style.indent : 2,
    indentSeq: parsed.style.indentSeq,
    flowCollectionPadding: parsed.style.flowPadding,
  });
}

function sameJson(text: string, doc: Document): boolean {
  try {
    return JSON.stringify(JSON.parse(text)) === JSON.stringify(doc.toJS());
  } catch {
    return false;
  }
}

/** The input as this module would render it unchanged, or null when it cannot be read again. */
function renderSource(parsed: ParsedInput): string | null {
  if (parsed.kind === "describe") return null;
  return render(parsed, reparse(parsed, parsed.source), parsed.source);
}

function reparse(parsed: ParsedInput, text: string): Document {
  return parsed.format === "json" ? parseJson(text, JSON.parse(text)) : parseDocument(text, { uniqueKeys: true });
}

function readsAs(parsed: ParsedInput, text: string, rendered: string): boolean {
  try {
    if (parsed.format === "json") return JSON.stringify(JSON.parse(text)) === JSON.stringify(JSON.parse(rendered));
    return render(parsed, reparse(parsed, text)) === rendered;
  } catch {
    return false;
  }
}

/** 1-based line and column of a node in the input, when it has a position. */
export function positionOf(parsed: ParsedInput, node: Node | undefined): { line: number; col: number } | undefined {
  let offset = node?.range?.[0];
  if (offset === undefined || parsed.format === "json") return undefined;
  // A node's range starts after its tag; point at the tag (`!Join`), which is what the user wrote.
  const tag = node?.tag;
  if (tag !== undefined && tag.startsWith("!")) {
    const at = parsed.source.lastIndexOf(tag, offset);
    if (at >= 0 && !parsed.source.slice(at, offset).includes("\n")) offset = at;
  }
  const pos = parsed.lineCounter.linePos(offset);
  return { line: pos.line, col: pos.col };
}
