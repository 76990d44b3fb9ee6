// A small tar (POSIX ustar) writer and reader. The writer is deterministic: entries sorted by
// path, mtime 0, uid/gid 0, no user or group names — the same files give the same bytes, so an
// image layer built from the same binaries has the same digest.

export type TarEntry =
  | { type: "file"; path: string; mode: number; content: Uint8Array }
  | { type: "dir"; path: string; mode: number }
  | { type: "symlink"; path: string; mode: number; target: string };

const BLOCK = 512;

export function writeTar(entries: readonly TarEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (tarName(a) < tarName(b) ? -1 : tarName(a) > tarName(b) ? 1 : 0));
  const parts: Buffer[] = [];
  const seen = new Set<string>();
  for (const entry of sorted) {
    const name = tarName(entry);
    if (seen.has(name)) throw new Error(`tar: duplicate entry ${name}`);
    seen.add(name);
    const size = entry.type === "file" ? entry.content.length : 0;
    parts.push(header(entry, name, size));
    if (entry.type === "file") {
      parts.push(Buffer.from(entry.content));
      const pad = (BLOCK - (size % BLOCK)) % BLOCK;
      if (pad > 0) parts.push(Buffer.alloc(pad));
    }
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

export function tarName(entry: TarEntry): string {
  const clean = entry.path.replace(/^\.?\/+/, "").replace(/\/+$/, "");
  if (clean === "" || clean.split("/").some((c) => c === ".." || c === "." || c === "")) {
    throw new Error(`tar: bad path "${entry.path}"`);
  }
  return entry.type === "dir" ? `${clean}/` : clean;
}

/** The 512-byte ustar header of an entry (`size` bytes of content follow, padded to 512). */
export function header(entry: TarEntry, name: string, size: number): Buffer {
  const h = Buffer.alloc(BLOCK);
  let prefix = "";
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    // ustar: split at a "/" so the name fits in prefix (155) + name (100).
    const cut = name.lastIndexOf("/", name.length - 2);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (cut < 0 || Buffer.byteLength(prefix) > 155 || Buffer.byteLength(base) > 100) throw new Error(`tar: path too long: ${name}`);
  }
  h.write(base, 0, 100, "utf8");
  octal(h, 100, 8, entry.mode & 0o7777);
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0); // mtime
  h.fill(0x20, 148, 156); // checksum is computed with its own field as spaces
  h.write(entry.type === "file" ? "0" : entry.type === "dir" ? "5" : "2", 156, 1, "ascii");
  if (entry.type === "symlink") {
    if (Buffer.byteLength(entry.target) > 100) throw new Error(`tar: link target too long: ${entry.target}`);
    h.write(entry.target, 157, 100, "utf8");
  }
  h.write("ustar\u000000", 257, 8, "binary");
  octal(h, 329, 8, 0); // devmajor
  octal(h, 337, 8, 0); // devminor
  h.write(prefix, 345, 155, "utf8");
  let sum = 0;
  for (const byte of h) sum += byte;
  h.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, 8, "binary");
  return h;
}

function octal(buf: Buffer, offset: number, length: number, value: number): void {
  buf.write(`${value.toString(8).padStart(length - 1, "0")}\u0000`, offset, length, "ascii");
}

export interface ReadEntry {
  path: string;
  type: "file" | "dir" | "symlink" | "hardlink" | "other";
  mode: number;
  uid: number;
  gid: number;
  mtime: number;
  size: number;
  linkname: string;
  content: Buffer;
}

/** Reads a whole (uncompressed) tar: ustar, GNU long names and PAX path/linkpath/size records. */
export function readTar(data: Uint8Array): ReadEntry[] {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.length);
  const out: ReadEntry[] = [];
  let offset = 0;
  let pax: Record<string, string> = {};
  let longName: string | null = null;
  let longLink: string | null = null;
  while (offset + BLOCK <= buf.length) {
    const h = buf.subarray(offset, offset + BLOCK);
    if (h.every((b) => b === 0)) break;
    const stored = parseOctal(h.subarray(148, 156));
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
    if (stored !== sum) throw new Error(`tar: bad header checksum at offset ${offset}`);
    const flag = String.fromCharCode(h[156] ?? 0);
    const size = pax["size"] !== undefined ? Number(pax["size"]) : parseOctal(h.subarray(124, 136));
    const content = buf.subarray(offset + BLOCK, offset + BLOCK + size);
    if (content.length < size) throw new Error("tar: truncated");
    offset += BLOCK + Math.ceil(size / BLOCK) * BLOCK;
    if (flag === "x") {
      pax = { ...pax, ...parsePax(content) };
      continue;
    }
    if (flag === "g") continue;
    if (flag === "L") {
      longName = cstring(content);
      continue;
    }
    if (flag === "K") {
      longLink = cstring(content);
      continue;
    }
    const magic = h.subarray(257, 262).toString("binary");
    const prefix = magic === "ustar" ? cstring(h.subarray(345, 500)) : "";
    let path = cstring(h.subarray(0, 100));
    if (prefix !== "") path = `${prefix}/${path}`;
    path = pax["path"] ?? longName ?? path;
    const linkname = pax["linkpath"] ?? longLink ?? cstring(h.subarray(157, 257));
    const type = flag === "0" || flag === "\u0000" || flag === "7" ? "file" : flag === "5" ? "dir" : flag === "2" ? "symlink" : flag === "1" ? "hardlink" : "other";
    out.push({
      path: path.replace(/^\.\//, "").replace(/\/$/, ""),
      type,
      mode: parseOctal(h.subarray(100, 108)),
      uid: parseOctal(h.subarray(108, 116)),
      gid: parseOctal(h.subarray(116, 124)),
      mtime: parseOctal(h.subarray(136, 148)),
      size,
      linkname,
      content: Buffer.from(content),
    });
    pax = {};
    longName = null;
    longLink = null;
  }
  return out;
}

export function cstring(b: Uint8Array): string {
  const buf = Buffer.from(b);
  const end = buf.indexOf(0);
  return buf.subarray(0, end < 0 ? buf.length : end).toString("utf8");
}

export function parseOctal(b: Uint8Array): number {
  const s = cstring(b).trim();
  return s === "" ? 0 : parseInt(s, 8);
}

export function parsePax(content: Buffer): Record<string, string> {
  const out: Record<string, string> = {};
  let i = 0;
  while (i < content.length) {
    const space = content.indexOf(0x20, i);
    if (space < 0) break;
    const len = Number(content.subarray(i, space).toString("ascii"));
    if (!Number.isFinite(len) || len <= 0) break;
    const record = content.subarray(space + 1, i + len - 1).toString("utf8");
    const eq = record.indexOf("=");
    if (eq > 0) out[record.slice(0, eq)] = record.slice(eq + 1);
    i += len;
  }
  return out;
}
