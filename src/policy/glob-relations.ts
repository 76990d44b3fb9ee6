// Relations between globs, used to find contradictory and redundant rules without touching any
// file system. `globCovers(outer, inner)` is sound (when it says yes, every path `inner` matches,
// `outer` matches too) and complete for the globs people write; for exotic pairs such as "/a/?*" and
// "/a/*?" it may say no where the answer is yes, so a report is never wrong, only sometimes missing.

type Token = { kind: "char"; byte: number } | { kind: "one" } | { kind: "any" };

const STAR = 0x2a;
const QUESTION = 0x3f;

function segmentsOf(glob: string): string[] {
  return glob.slice(1).split("/");
}

function tokensOf(segment: string): Token[] {
  return [...Buffer.from(segment, "utf8")].map((byte): Token =>
    byte === STAR ? { kind: "any" } : byte === QUESTION ? { kind: "one" } : { kind: "char", byte },
  );
}

/** Does the outer segment pattern match every name the inner segment pattern matches? */
function segmentCovers(outer: Token[], inner: Token[]): boolean {
  const memo = new Map<number, boolean>();
  const go = (o: number, i: number): boolean => {
    const key = o * (inner.length + 1) + i;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    const ot = outer[o];
    const it = inner[i];
    if (ot === undefined) {
      result = it === undefined;
    } else if (ot.kind === "any") {
      result = go(o + 1, i) || (it !== undefined && go(o, i + 1));
    } else if (it === undefined || it.kind === "any") {
      result = false;
    } else if (ot.kind === "one") {
      result = go(o + 1, i + 1);
    } else {
      result = it.kind === "char" && it.byte === ot.byte && go(o + 1, i + 1);
    }
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

/** Does `outer` match every path that `inner` matches? (Both valid policy globs.) */
export function globCovers(outer: string, inner: string): boolean {
  if (outer === inner) return true;
  const os = segmentsOf(outer);
  const is = segmentsOf(inner);
  const ot = os.map(tokensOf);
  const it = is.map(tokensOf);
  const memo = new Map<number, boolean>();
  const go = (o: number, i: number): boolean => {
    const key = o * (is.length + 1) + i;
    const known = memo.get(key);
    if (known !== undefined) return known;
    let result: boolean;
    const oseg = os[o];
    const iseg = is[i];
    if (oseg === undefined) {
      result = iseg === undefined;
    } else if (oseg === "**") {
      result = go(o + 1, i) || (iseg !== undefined && go(o, i + 1));
    } else if (iseg === undefined || iseg === "**") {
      result = false;
    } else {
      result = segmentCovers(ot[o] ?? [], it[i] ?? []) && go(o + 1, i + 1);
    }
    memo.set(key, result);
    return result;
  };
  return go(0, 0);
}

export function hasWildcard(glob: string): boolean {
  return glob.includes("*") || glob.includes("?");
}

/**
 * The enforcer's literal prefix (enforcer/src/glob.c, glob_literal_prefix): the whole glob when it
 * has no wildcard, else the part before the "/" that precedes the segment holding the first
 * wildcard ("/usr/bin" for "/usr/bin/nc*", "" for "/*").
 */
export function literalPrefix(glob: string): string {
  if (!hasWildcard(glob)) return glob;
  let lastSlash = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === "*" || c === "?") break;
    if (c === "/") lastSlash = i;
  }
  return glob.slice(0, lastSlash);
}
