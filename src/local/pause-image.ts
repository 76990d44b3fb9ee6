// The pause container's image, made here rather than pulled: a 130-byte static ELF that waits for
// signals forever (x86_64: pause(); arm64: ppoll(NULL, 0, NULL, NULL)), alone in a scratch image.
// Like Fargate's own pause container, it only holds the task's namespaces. It ignores SIGTERM as
// PID 1; vigil removes it with SIGKILL after every other container has stopped.

import { createHash } from "node:crypto";
import { writeTar } from "../oci/tar.js";

export type PauseArch = "amd64" | "arm64";

const CODE: Record<PauseArch, { machine: number; code: number[] }> = {
  // loop: mov eax, 34 (pause); syscall; jmp loop
  amd64: { machine: 0x3e, code: [0xb8, 0x22, 0x00, 0x00, 0x00, 0x0f, 0x05, 0xeb, 0xf7] },
  // loop: mov x8, #73 (ppoll); mov x0..x3, #0; svc #0; b loop
  arm64: {
    machine: 0xb7,
    code: [0xd2800928, 0xd2800000, 0xd2800001, 0xd2800002, 0xd2800003, 0xd4000001, 0x17fffffa].flatMap((w) => [
      w & 0xff, (w >>> 8) & 0xff, (w >>> 16) & 0xff, (w >>> 24) & 0xff,
    ]),
  },
};

const BASE = 0x400000;
const EHDR = 64;
const PHDR = 56;

export function pauseElf(arch: PauseArch): Buffer {
  const { machine, code } = CODE[arch];
  const size = EHDR + PHDR + code.length;
  const b = Buffer.alloc(size);
  b.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1, 0], 0); // ELF, 64-bit, little-endian, version 1, SysV
  b.writeUInt16LE(2, 16); // ET_EXEC
  b.writeUInt16LE(machine, 18);
  b.writeUInt32LE(1, 20);
  b.writeBigUInt64LE(BigInt(BASE + EHDR + PHDR), 24); // entry
  b.writeBigUInt64LE(BigInt(EHDR), 32); // program headers
  b.writeUInt16LE(EHDR, 52);
  b.writeUInt16LE(PHDR, 54);
  b.writeUInt16LE(1, 56);
  b.writeUInt16LE(64, 58);
  // PT_LOAD of the whole file, R+X
  b.writeUInt32LE(1, EHDR);
  b.writeUInt32LE(5, EHDR + 4);
  b.writeBigUInt64LE(0n, EHDR + 8);
  b.writeBigUInt64LE(BigInt(BASE), EHDR + 16);
  b.writeBigUInt64LE(BigInt(BASE), EHDR + 24);
  b.writeBigUInt64LE(BigInt(size), EHDR + 32);
  b.writeBigUInt64LE(BigInt(size), EHDR + 40);
  b.writeBigUInt64LE(0x1000n, EHDR + 48);
  b.set(code, EHDR + PHDR);
  return b;
}

export interface PauseImage {
  repo: string;
  tag: string;
  ref: string;
  tar: Buffer;
  changes: string[];
}

export function pauseImage(arch: PauseArch): PauseImage {
  const elf = pauseElf(arch);
  const tar = writeTar([{ type: "file", path: "pause", mode: 0o755, content: elf }]);
  const tag = `${arch}-${createHash("sha256").update(tar).digest("hex").slice(0, 12)}`;
  return { repo: "vigil-local/pause", tag, ref: `vigil-local/pause:${tag}`, tar, changes: ['CMD ["/pause"]'] };
}

export function pauseArch(engineArch: string): PauseArch | null {
  if (engineArch === "amd64" || engineArch === "x86_64") return "amd64";
  if (engineArch === "arm64" || engineArch === "aarch64") return "arm64";
  return null;
}
