// A Dockerfile read the way BuildKit's parser reads it (moby/buildkit frontend/dockerfile/parser),
// as far as rewriting needs: parser directives at the top (# syntax=, # escape=), instructions
// with their exact character ranges, line continuations with the escape character (comment and
// empty lines inside them skipped), and heredoc bodies of RUN/COPY/ADD (never read as
// instructions). Every byte outside the instructions that are rewritten stays as it is.

export interface Instruction {
  /** The keyword as written (case kept). */
  keyword: string;
  /** Upper-case keyword. */
  name: string;
  /** The logical line after the keyword: continuations joined, trimmed (BuildKit's `rest`). */
  args: string;
  /** Character range of the whole instruction, heredoc bodies included; `end` is after its last line break. */
  start: number;
  end: number;
  /** End of the instruction's own logical line (before heredoc bodies), after its line break. */
  lineEnd: number;
  /** 1-based line of the keyword. */
  line: number;
}

export interface ParsedDockerfile {
  text: string;
  escape: "\\" | "`";
  eol: "\n" | "\r\n";
  instructions: Instruction[];
}

interface Line {
  text: string;
  start: number;
  /** After the line break (or at EOF). */
  end: number;
}

function splitLines(text: string): Line[] {
  const out: Line[] = [];
  let start = 0;
  while (start < text.length) {
    const nl = text.indexOf("\n", start);
    const end = nl < 0 ? text.length : nl + 1;
    out.push({ text: text.slice(start, nl < 0 ? text.length : nl).replace(/\r$/, ""), start, end });
    start = end;
  }
  return out;
}

const DIRECTIVE = /^#[ \t]*([a-zA-Z][a-zA-Z0-9_-]*)[ \t]*=[ \t]*(.*?)[ \t]*$/;
const KNOWN_DIRECTIVES = ["syntax", "escape", "check"];
const HEREDOC = /<<(-?)(["']?)([A-Za-z_][A-Za-z0-9_]*)\2/g;
const HEREDOC_INSTRUCTIONS = ["RUN", "COPY", "ADD"];

export class DockerfileSyntaxError extends Error {
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

export function parseDockerfile(text: string): ParsedDockerfile {
  const lines = splitLines(text);
  let escape: "\\" | "`" = "\\";
  let i = 0;
  // Parser directives: only before any comment, blank line or instruction.
  for (; i < lines.length; i++) {
    const m = DIRECTIVE.exec(lines[i]?.text ?? "");
    if (m === null || !KNOWN_DIRECTIVES.includes((m[1] ?? "").toLowerCase())) break;
    if ((m[1] ?? "").toLowerCase() === "escape") {
      if (m[2] !== "\\" && m[2] !== "`") throw new DockerfileSyntaxError(`invalid escape directive "${m[2]}": must be \` or \\`, i + 1);
      escape = m[2];
    }
  }
  const eol = text.includes("\r\n") ? "\r\n" : "\n";
  const isComment = (s: string): boolean => /^[ \t]*#/.test(s);
  const isBlank = (s: string): boolean => /^[ \t]*$/.test(s);
  const continues = (s: string): string | null => {
    const m = new RegExp(`${escape === "\\" ? "\\\\" : "`"}[ \\t]*$`).exec(s);
    return m === null ? null : s.slice(0, m.index);
  };

  const instructions: Instruction[] = [];
  while (i < lines.length) {
    const first = lines[i] as Line;
    if (isBlank(first.text) || isComment(first.text)) {
      i++;
      continue;
    }
    const startLine = i;
    let logical = "";
    let piece: string | null = first.text.replace(/^[ \t]+/, "");
    for (;;) {
      const cut: string | null = continues(piece);
      if (cut === null) {
        logical += piece;
        i++;
        break;
      }
      logical += cut;
      i++;
      // Comment and empty lines inside a continuation are skipped.
      while (i < lines.length && (isComment(lines[i]?.text ?? "") || isBlank(lines[i]?.text ?? ""))) i++;
      if (i >= lines.length) break;
      piece = (lines[i] as Line).text;
    }
    const lineEnd = (lines[i - 1] as Line).end;
    const m = /^(\S+)\s*([\s\S]*)$/.exec(logical.trim());
    const keyword = m?.[1] ?? "";
    const args = (m?.[2] ?? "").trim();
    const name = keyword.toUpperCase();
    if (HEREDOC_INSTRUCTIONS.includes(name)) {
      for (const h of args.matchAll(HEREDOC)) {
        const stripTabs = h[1] === "-";
        const word = h[3] ?? "";
        for (;;) {
          if (i >= lines.length) throw new DockerfileSyntaxError(`heredoc <<${word} is not closed`, startLine + 1);
          const body = (lines[i] as Line).text;
          i++;
          if ((stripTabs ? body.replace(/^\t+/, "") : body) === word) break;
        }
      }
    }
    instructions.push({ keyword, name, args, start: first.start, end: (lines[i - 1] as Line).end, lineEnd, line: startLine + 1 });
  }
  return { text, escape, eol, instructions };
}

/** Exec form (a JSON array of strings) or shell form, as BuildKit's parseMaybeJSON decides. */
export function commandForm(args: string, line: number): { form: "exec"; argv: string[] } | { form: "shell"; text: string } {
  if (args.startsWith("[")) {
    let value: unknown;
    try {
      value = JSON.parse(args);
    } catch {
      return { form: "shell", text: args };
    }
    if (Array.isArray(value)) {
      if (!value.every((v) => typeof v === "string")) throw new DockerfileSyntaxError("the exec form must be a JSON array of strings", line);
      return { form: "exec", argv: value };
    }
  }
  return { form: "shell", text: args };
}

export interface FromInstruction {
  image: string;
  platform: string | null;
  alias: string | null;
}

export function parseFrom(ins: Instruction): FromInstruction {
  const words = ins.args.split(/[ \t]+/).filter((w) => w !== "");
  let platform: string | null = null;
  while (words[0]?.startsWith("--") === true) {
    const flag = words.shift() as string;
    if (flag.startsWith("--platform=")) platform = flag.slice("--platform=".length);
  }
  const image = words[0];
  if (image === undefined) throw new DockerfileSyntaxError("FROM needs an image", ins.line);
  const alias = words.length >= 3 && (words[1] ?? "").toLowerCase() === "as" ? (words[2] ?? null) : null;
  return { image, platform, alias };
}

/** `$VAR`, `${VAR}`, `${VAR:-word}`, `${VAR-word}`, `${VAR:+word}`, `${VAR+word}`; null names the first unset variable. */
export function substitute(text: string, vars: ReadonlyMap<string, string>): { value: string } | { missing: string } {
  let missing: string | null = null;
  const value = text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([^}]*))?\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_all, braced: string | undefined, op: string | undefined, word: string | undefined, bare: string | undefined) => {
    const name = braced ?? bare ?? "";
    const set = vars.has(name);
    const v = vars.get(name) ?? "";
    if (op === ":-") return set && v !== "" ? v : (word ?? "");
    if (op === "-") return set ? v : (word ?? "");
    if (op === ":+") return set && v !== "" ? (word ?? "") : "";
    if (op === "+") return set ? (word ?? "") : "";
    if (!set) missing ??= name;
    return v;
  });
  return missing !== null ? { missing } : { value };
}
