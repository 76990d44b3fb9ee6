// Path globs as docs/compiled-policy.md defines them. Matching works on UTF-8 bytes, exactly like the
// enforcer's C matcher, so `?` is one byte (not one character).
//
//   *    any run of bytes (possibly empty) except "/", within one segment
//   ?    exactly one byte except "/"
//   **   as a whole segment: zero or more whole segments
//   everything else (including "[", "{", "\") is literal

const SLASH = 0x2f;
const STAR = 0x2a;
const QUESTION = 0x3f;

/** The enforcer's limits (enforcer/src/glob.c): longer globs, or globs with more segments, are refused. */
export const MAX_GLOB_BYTES = 4000;
export const MAX_GLOB_SEGMENTS = 128;

/** Why `glob` is not a valid policy glob, or null when it is valid. */
export function globError(glob: string): string | null {
  if (glob.length === 0) return "must not be empty; write an absolute path such as /usr/bin/*";
  if (!glob.startsWith("/")) return `must be an absolute path (start with "/"); received "${glob}"`;
  if (glob.includes("\0")) return "must not contain a NUL byte";
  if (glob.includes("\n") || glob.includes("\r")) return "must not contain a line break";
  const bytes = Buffer.byteLength(glob, "utf8");
  if (bytes > MAX_GLOB_BYTES) return `must be at most ${MAX_GLOB_BYTES} bytes long (the enforcer's limit); this one is ${bytes}`;
  const segments = glob.slice(1).split("/");
  if (segments.length > MAX_GLOB_SEGMENTS) {
    return `must have at most ${MAX_GLOB_SEGMENTS} segments (the enforcer's limit); this one has ${segments.length}`;
  }
  for (const segment of segments) {
    if (segment === "") {
      return glob.endsWith("/")
        ? `must not end with "/" (write /dir/** for everything under a directory); received "${glob}"`
        : `must not contain an empty segment ("//"); received "${glob}"`;
    }
    if (segment === "." || segment === "..") {
      return `must not contain a "${segment}" segment; write the canonical path; received "${glob}"`;
    }
    if (segment !== "**" && segment.includes("**")) {
      return `"**" must be a whole segment (use "*" within a segment); received "${glob}"`;
    }
  }
  return null;
}

/** Does the absolute `path` match `glob`? Both are compared as UTF-8 bytes. */
export function matchGlob(glob: string, path: string): boolean {
  return matchGlobBytes(Buffer.from(glob, "utf8"), Buffer.from(path, "utf8"));
}

export function matchGlobBytes(glob: Uint8Array, path: Uint8Array): boolean {
  if (glob[0] !== SLASH || path[0] !== SLASH) return false;
  const pathSegments = splitSegments(path);
  // Like the enforcer: a path deeper than the segment limit matches nothing.
  if (pathSegments.length > MAX_GLOB_SEGMENTS) return false;
  return matchSegments(splitSegments(glob), pathSegments);
}

function splitSegments(bytes: Uint8Array): Uint8Array[] {
  const segments: Uint8Array[] = [];
  let start = 1;
  for (let i = 1; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === SLASH) {
      segments.push(bytes.subarray(start, i));
      start = i + 1;
    }
  }
  return segments;
}

function isDoubleStar(segment: Uint8Array): boolean {
  return segment.length === 2 && segment[0] === STAR && segment[1] === STAR;
}

// Wildcard matching over segments where "**" is the star and every other glob segment matches one
// path segment. Greedy with backtracking to the last "**": linear in practice, never exponential.
function matchSegments(glob: Uint8Array[], path: Uint8Array[]): boolean {
  let g = 0;
  let p = 0;
  let starG = -1;
  let starP = 0;
  while (p < path.length) {
    const globSegment = glob[g];
    const pathSegment = path[p];
    if (globSegment !== undefined && isDoubleStar(globSegment)) {
      starG = g++;
      starP = p;
    } else if (globSegment !== undefined && pathSegment !== undefined && matchSegment(globSegment, pathSegment)) {
      g++;
      p++;
    } else if (starG >= 0) {
      g = starG + 1;
      p = ++starP;
    } else {
      return false;
    }
  }
  while (g < glob.length) {
    const globSegment = glob[g];
    if (globSegment === undefined || !isDoubleStar(globSegment)) return false;
    g++;
  }
  return true;
}

// Same algorithm within one segment, over bytes: "*" is the star, "?" any one byte.
function matchSegment(glob: Uint8Array, text: Uint8Array): boolean {
  let g = 0;
  let t = 0;
  let starG = -1;
  let starT = 0;
  while (t < text.length) {
    const c = glob[g];
    if (c === STAR) {
      starG = g++;
      starT = t;
    } else if (c !== undefined && (c === QUESTION || c === text[t])) {
      g++;
      t++;
    } else if (starG >= 0) {
      g = starG + 1;
      t = ++starT;
    } else {
      return false;
    }
  }
  while (glob[g] === STAR) g++;
  return g === glob.length;
}

function pathSegments(path: string): Uint8Array[] {
  return path === "/" ? [] : splitSegments(Buffer.from(path, "utf8"));
}

/**
 * Could some path strictly below directory `dir` match `glob`? The enforcer's
 * glob_may_match_below: used to prune walks, so it must never say no where a match is possible.
 */
export function globMayMatchBelow(glob: string, dir: string): boolean {
  const g = pathSegments(glob);
  const d = pathSegments(dir);
  if (d.length > MAX_GLOB_SEGMENTS) return false;
  for (let k = 0; k <= g.length; k++) {
    const head = g.slice(0, k);
    if (k < g.length && matchSegments(head, d)) return true;
    const last = g[k - 1];
    if (k > 0 && last !== undefined && isDoubleStar(last) && matchSegments(head, d)) return true;
  }
  return false;
}
