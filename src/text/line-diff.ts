// Line diffs: Myers' O(ND) algorithm, a unified-diff printer (for `--diff`), and a three-way
// merge used to carry a re-rendered document's edits back onto the user's own formatting.

export type DiffOp = { op: "equal" | "delete" | "insert"; line: string };

export function splitLines(text: string): string[] {
  if (text === "") return [];
  const lines = text.split("\n");
  if (lines[lines.length - 1] === "") lines.pop();
  return lines;
}

/** The shortest edit script turning `a` into `b`. */
export function diffLines(a: readonly string[], b: readonly string[]): DiffOp[] {
  const n = a.length;
  const m = b.length;
  const max = n + m;
  const offset = max + 1;
  const v = new Int32Array(2 * max + 3);
  const trace: Int32Array[] = [];
  let found = false;
  for (let d = 0; d <= max && !found; d++) {
    trace.push(v.slice());
    for (let k = -d; k <= d; k += 2) {
      let x: number;
      if (k === -d || (k !== d && (v[offset + k - 1] ?? 0) < (v[offset + k + 1] ?? 0))) x = v[offset + k + 1] ?? 0;
      else x = (v[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < n && y < m && a[x] === b[y]) {
        x++;
        y++;
      }
      v[offset + k] = x;
      if (x >= n && y >= m) {
        found = true;
        break;
      }
    }
  }
  // Walk the trace backwards to recover the script.
  const ops: DiffOp[] = [];
  let x = n;
  let y = m;
  for (let d = trace.length - 1; d >= 0; d--) {
    const vd = trace[d] as Int32Array;
    const k = x - y;
    let prevK: number;
    if (k === -d || (k !== d && (vd[offset + k - 1] ?? 0) < (vd[offset + k + 1] ?? 0))) prevK = k + 1;
    else prevK = k - 1;
    const prevX = d === 0 ? 0 : (vd[offset + prevK] ?? 0);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      ops.push({ op: "equal", line: a[x - 1] as string });
      x--;
      y--;
    }
    if (d > 0) {
      if (x === prevX) ops.push({ op: "insert", line: b[y - 1] as string });
      else ops.push({ op: "delete", line: a[x - 1] as string });
    }
    x = prevX;
    y = prevY;
  }
  while (x > 0 && y > 0) {
    ops.push({ op: "equal", line: a[x - 1] as string });
    x--;
    y--;
  }
  return ops.reverse();
}

/** `diff -u` style output; "" when the texts are equal. */
export function unifiedDiff(before: string, after: string, beforeName: string, afterName: string, context = 3): string {
  if (before === after) return "";
  const a = splitLines(before);
  const b = splitLines(after);
  const ops = diffLines(a, b);
  const out: string[] = [`--- ${beforeName}`, `+++ ${afterName}`];
  // Positions of each op in a and b.
  const positions: { ai: number; bi: number }[] = [];
  let ai = 0;
  let bi = 0;
  for (const op of ops) {
    positions.push({ ai, bi });
    if (op.op !== "insert") ai++;
    if (op.op !== "delete") bi++;
  }
  let i = 0;
  while (i < ops.length) {
    if (ops[i]?.op === "equal") {
      i++;
      continue;
    }
    let start = Math.max(0, i - context);
    let end = i;
    // Extend the hunk while changes are within 2*context lines of each other.
    for (;;) {
      while (end < ops.length && ops[end]?.op !== "equal") end++;
      let next = end;
      while (next < ops.length && ops[next]?.op === "equal") next++;
      if (next < ops.length && next - end <= 2 * context) end = next;
      else break;
    }
    const stop = Math.min(ops.length, end + context);
    const first = positions[start] ?? { ai: 0, bi: 0 };
    const slice = ops.slice(start, stop);
    const aCount = slice.filter((o) => o.op !== "insert").length;
    const bCount = slice.filter((o) => o.op !== "delete").length;
    out.push(`@@ -${aCount === 0 ? first.ai : first.ai + 1},${aCount} +${bCount === 0 ? first.bi : first.bi + 1},${bCount} @@`);
    for (const o of slice) out.push(`${o.op === "equal" ? " " : o.op === "delete" ? "-" : "+"}${o.line}`);
    i = stop;
    start = stop;
  }
  return `${out.join("\n")}\n`;
}

/**
 * Three-way merge by lines: the changes base→theirs applied onto ours, where ours is base with
 * other (formatting) changes. Where both changed the same lines, theirs wins for that region.
 */
export function mergeLines(base: readonly string[], ours: readonly string[], theirs: readonly string[]): string[] {
  const toOurs = alignment(base, ours);
  const toTheirs = alignment(base, theirs);
  const out: string[] = [];
  let bi = 0;
  let oi = 0;
  let ti = 0;
  while (bi < base.length || oi < ours.length || ti < theirs.length) {
    // A stable point: this base line is kept, unchanged, in both.
    if (bi < base.length && toOurs.map[bi] === oi && toTheirs.map[bi] === ti) {
      out.push(ours[oi] as string);
      bi++;
      oi++;
      ti++;
      continue;
    }
    // Find the next base line kept by both, after the current position.
    let nb = bi;
    while (nb < base.length && !((toOurs.map[nb] ?? -1) >= oi && (toTheirs.map[nb] ?? -1) >= ti)) nb++;
    const no = nb < base.length ? (toOurs.map[nb] as number) : ours.length;
    const nt = nb < base.length ? (toTheirs.map[nb] as number) : theirs.length;
    const baseChunk = base.slice(bi, nb);
    const oursChunk = ours.slice(oi, no);
    const theirsChunk = theirs.slice(ti, nt);
    if (sameLines(baseChunk, theirsChunk)) out.push(...oursChunk);
    else if (baseChunk.length === oursChunk.length) {
      // Ours changed these lines one for one (formatting): apply theirs' edits line by line,
      // keeping our version of every line theirs left alone.
      let i = 0;
      for (const op of diffLines(baseChunk, theirsChunk)) {
        if (op.op === "equal") out.push(oursChunk[i++] as string);
        else if (op.op === "delete") i++;
        else out.push(op.line);
      }
    } else out.push(...theirsChunk);
    bi = nb;
    oi = no;
    ti = nt;
  }
  return out;
}

function sameLines(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((line, i) => line === b[i]);
}

/** For each line of a: its index in b when kept by the diff, else -1. */
function alignment(a: readonly string[], b: readonly string[]): { map: number[] } {
  const map = new Array<number>(a.length).fill(-1);
  let ai = 0;
  let bi = 0;
  for (const op of diffLines(a, b)) {
    if (op.op === "equal") {
      map[ai] = bi;
      ai++;
      bi++;
    } else if (op.op === "delete") ai++;
    else bi++;
  }
  return { map };
}
