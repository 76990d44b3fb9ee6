// Reads the enforcer binaries the sidecar image carries and checks each is a static ELF
// executable of the right architecture (the sidecar is FROM scratch and the binary runs inside
// arbitrary application images, so a dynamic or wrong-architecture binary would fail there).

import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { UserError } from "../cli/errors.js";
import type { SidecarArch } from "./image.js";

const ELF_MACHINE: Record<SidecarArch, number> = { amd64: 62, arm64: 183 };
const PT_INTERP = 3;

export function enforcerBinaryPath(dir: string, arch: SidecarArch): string {
  return join(dir, `linux-${arch}`, "vigil-enforcer");
}

export async function readEnforcerBinary(dir: string, arch: SidecarArch): Promise<Buffer> {
  const path = enforcerBinaryPath(dir, arch);
  let data: Buffer;
  try {
    data = await readFile(path);
  } catch (error) {
    throw new UserError(
      `the ${arch} enforcer is missing: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
      "run `npm run build` (it builds both architectures), or pass --enforcer-dir DIR holding linux-amd64/ and linux-arm64/",
    );
  }
  const problem = checkStaticElf(data, arch);
  if (problem !== null) throw new UserError(`${path}: ${problem}`, "the sidecar needs the static release builds from `npm run build`");
  return data;
}

/** null when `data` is a static 64-bit little-endian ELF executable for `arch`, else why not. */
export function checkStaticElf(data: Buffer, arch: SidecarArch): string | null {
  if (data.length < 64 || data.readUInt32BE(0) !== 0x7f454c46) return "not an ELF file";
  if (data[4] !== 2 || data[5] !== 1) return "not a 64-bit little-endian ELF file";
  const type = data.readUInt16LE(16);
  if (type !== 2 && type !== 3) return "not an ELF executable";
  const machine = data.readUInt16LE(18);
  if (machine !== ELF_MACHINE[arch]) return `built for ELF machine ${machine}, not ${arch} (${ELF_MACHINE[arch]})`;
  const phoff = Number(data.readBigUInt64LE(32));
  const phentsize = data.readUInt16LE(54);
  const phnum = data.readUInt16LE(56);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 4 > data.length) return "truncated program headers";
    if (data.readUInt32LE(at) === PT_INTERP) return "dynamically linked (has a program interpreter); the sidecar needs a static binary";
  }
  return null;
}
