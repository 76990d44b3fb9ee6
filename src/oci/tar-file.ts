// Tar files too large to read whole: an index of a tar file's entries (where each one's content
// starts and how long it is), so single entries can be streamed from disk; and a writer that
// streams entries into a file. Both follow tar.ts (ustar; PAX and GNU long names when reading).

import { createReadStream, createWriteStream } from "node:fs";
import { open } from "node:fs/promises";
import type { Readable } from "node:stream";
import { cstring, header, parseOctal, parsePax, tarName, type TarEntry } from "./tar.js";

const BLOCK = 512;

export interface TarFileEntry {
  path: string;
  type: "file" | "dir" | "symlink" | "hardlink" | "other";
  /** Where the content starts in the file. */
  offset: number;
  size: number;
  linkname: string;
}

export async function indexTarFile(file: string): Promise<Map<string, TarFileEntry>> {
  const fh = await open(file, "r");
  const out = new Map<string, TarFileEntry>();
  try {
    const { size: total } = await fh.stat();
    let offset = 0;
    let pax: Record<string, string> = {};
    let longName: string | null = null;
    const read = async (at: number, length: number): Promise<Buffer> => {
      const buf = Buffer.alloc(length);
      const { bytesRead } = await fh.read(buf, 0, length, at);
      if (bytesRead < length) throw new Error(`${file}: truncated tar`);
      return buf;
    };
    while (offset + BLOCK <= total) {
      const h = await read(offset, BLOCK);
      if (h.every((b) => b === 0)) break;
      let sum = 0;
      for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : (h[i] ?? 0);
      if (parseOctal(h.subarray(148, 156)) !== sum) throw new Error(`${file}: not a tar file (bad header checksum at offset ${offset})`);
      const flag = String.fromCharCode(h[156] ?? 0);
      const size = pax["size"] !== undefined ? Number(pax["size"]) : parseOctal(h.subarray(124, 136));
      const start = offset + BLOCK;
      offset = start + Math.ceil(size / BLOCK) * BLOCK;
      if (flag === "x") {
        pax = { ...pax, ...parsePax(await read(start, size)) };
        continue;
      }
      if (flag === "g") continue;
      if (flag === "L") {
        longName = cstring(await read(start, size));
        continue;
      }
      const magic = h.subarray(257, 262).toString("binary");
      const prefix = magic === "ustar" ? cstring(h.subarray(345, 500)) : "";
      let path = cstring(h.subarray(0, 100));
      if (prefix !== "") path = `${prefix}/${path}`;
      path = (pax["path"] ?? longName ?? path).replace(/^\.\//, "").replace(/\/$/, "");
      const type = flag === "0" || flag === "\u0000" || flag === "7" ? "file" : flag === "5" ? "dir" : flag === "2" ? "symlink" : flag === "1" ? "hardlink" : "other";
      out.set(path, { path, type, offset: start, size, linkname: pax["linkpath"] ?? cstring(h.subarray(157, 257)) });
      pax = {};
      longName = null;
    }
    return out;
  } finally {
    await fh.close();
  }
}

/** The content of one entry, streamed from disk (a hard link is followed to its target). */
export function openTarEntry(file: string, index: ReadonlyMap<string, TarFileEntry>, path: string): Readable {
  let entry = index.get(path);
  if (entry?.type === "hardlink") entry = index.get(entry.linkname.replace(/^\.\//, ""));
  if (entry === undefined || entry.type !== "file") throw new Error(`${file}: no file ${path} in the archive`);
  if (entry.size === 0) return createReadStream(file, { start: 1, end: 0 });
  return createReadStream(file, { start: entry.offset, end: entry.offset + entry.size - 1 });
}

export type StreamedTarEntry =
  | { type: "dir"; path: string; mode: number }
  | { type: "file"; path: string; mode: number; size: number; open: () => Readable | Promise<Readable> };

/** Writes entries in the order given (the caller sorts them), streaming each file's content. */
export async function writeTarFile(file: string, entries: readonly StreamedTarEntry[]): Promise<void> {
  const out = createWriteStream(file, { flags: "wx", mode: 0o644 });
  const write = (chunk: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      out.write(chunk, (error) => (error ? reject(error) : resolve()));
    });
  try {
    for (const e of entries) {
      const asTar: TarEntry = e.type === "dir" ? e : { type: "file", path: e.path, mode: e.mode, content: new Uint8Array(0) };
      await write(header(asTar, tarName(asTar), e.type === "file" ? e.size : 0));
      if (e.type === "dir") continue;
      let written = 0;
      const source = await e.open();
      for await (const chunk of source as AsyncIterable<Buffer>) {
        written += chunk.length;
        await write(chunk);
      }
      if (written !== e.size) throw new Error(`tar: ${e.path}: expected ${e.size} bytes, the source gave ${written}`);
      const pad = (BLOCK - (e.size % BLOCK)) % BLOCK;
      if (pad > 0) await write(Buffer.alloc(pad));
    }
    await write(Buffer.alloc(BLOCK * 2));
    await new Promise<void>((resolve, reject) => out.end((error?: Error | null) => (error ? reject(error) : resolve())));
  } catch (error) {
    out.destroy();
    throw error;
  }
}
