// The formatting of a JSON document someone else wrote (an image config or manifest), so a
// rewritten document can be written the same way and an undone rewrite gives back the same bytes.
// Go's encoding/json (Docker, containerd, BuildKit, crane) escapes <, >, & and U+2028/U+2029 and
// writes compact or MarshalIndent'ed output; JavaScript's JSON.stringify escapes none of them.

export interface JsonStyle {
  /** "" for compact output, else the indent unit ("  ", "   ", "\t"). */
  indent: string;
  /** Go's HTML-safe escaping of <, >, & and U+2028/U+2029. */
  goEscape: boolean;
  trailingNewline: boolean;
}

export const COMPACT: JsonStyle = { indent: "", goEscape: false, trailingNewline: false };

const INDENTS = ["", "  ", "   ", "\t", "    "];

export function formatJson(value: unknown, style: JsonStyle): string {
  let text = JSON.stringify(value, null, style.indent === "" ? undefined : style.indent);
  if (style.goEscape) {
    // These characters can only occur inside strings in JSON.stringify's output.
    text = text.replace(/[<>&\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
  }
  return style.trailingNewline ? `${text}\n` : text;
}

/**
 * The style that reproduces `bytes` exactly from its parsed value, or null when none does (then
 * rewrites still work, but undoing one gives equivalent JSON, not the same bytes).
 */
export function detectJsonStyle(bytes: Uint8Array, value: unknown): JsonStyle | null {
  const text = Buffer.from(bytes).toString("utf8");
  const trailingNewline = text.endsWith("\n");
  for (const indent of INDENTS) {
    for (const goEscape of [false, true]) {
      const style = { indent, goEscape, trailingNewline };
      if (formatJson(value, style) === text) return style;
    }
  }
  return null;
}

/** The detected style, else a best guess from the text (so new documents look like their source). */
export function jsonStyleOf(bytes: Uint8Array, value: unknown): { style: JsonStyle; exact: boolean } {
  const exact = detectJsonStyle(bytes, value);
  if (exact !== null) return { style: exact, exact: true };
  const text = Buffer.from(bytes).toString("utf8");
  const m = /^[{[]\r?\n([ \t]+)/.exec(text);
  return { style: { indent: m?.[1] ?? "", goEscape: /\\u00(26|3c|3e)/.test(text), trailingNewline: text.endsWith("\n") }, exact: false };
}
