// CIDR blocks as numbers, to test whether an address is in a block and whether one block contains
// another. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) are taken as the IPv4 address they carry,
// which is what a connection to them reaches.

import { isIPv4, isIPv6 } from "node:net";

export interface Cidr {
  family: 4 | 6;
  /** The block's first address (host bits cleared). */
  base: bigint;
  prefix: number;
  /** True when the text had host bits set ("10.0.0.1/8"). */
  hostBits: boolean;
}

export interface PortRange {
  low: number;
  high: number;
}

export function parseAddress(text: string): { family: 4 | 6; value: bigint } | null {
  if (isIPv4(text)) return { family: 4, value: ipv4Value(text) };
  if (!isIPv6(text)) return null;
  const value = ipv6Value(text);
  if (value >> 32n === 0xffffn) return { family: 4, value: value & 0xffffffffn };
  return { family: 6, value };
}

/** "10.0.0.0/8", "::1" (a bare address is /32 or /128). Null when not a CIDR. */
export function parseCidr(text: string): Cidr | null {
  const slash = text.indexOf("/");
  const address = parseAddress(slash < 0 ? text : text.slice(0, slash));
  if (address === null) return null;
  const bits = address.family === 4 ? 32 : 128;
  const mapped = address.family === 4 && !isIPv4(slash < 0 ? text : text.slice(0, slash));
  let prefix = slash < 0 ? bits : Number(text.slice(slash + 1));
  if (mapped && slash >= 0) prefix -= 96;
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > bits) return null;
  const mask = prefixMask(address.family, prefix);
  const base = address.value & mask;
  return { family: address.family, base, prefix, hostBits: base !== address.value };
}

/** "CIDR" or "CIDR PORT[-PORT]" as the policy writes connect rules. */
export function parseConnectRule(text: string): { cidr: Cidr; ports: PortRange | null } | null {
  const [cidrText = "", portText] = text.trim().split(/\s+/);
  const cidr = parseCidr(cidrText);
  if (cidr === null) return null;
  if (portText === undefined) return { cidr, ports: null };
  const match = /^(\d+)(?:-(\d+))?$/.exec(portText);
  if (!match) return null;
  const low = Number(match[1]);
  return { cidr, ports: { low, high: match[2] === undefined ? low : Number(match[2]) } };
}

export function cidrContainsAddress(cidr: Cidr, address: { family: 4 | 6; value: bigint }): boolean {
  return cidr.family === address.family && (address.value & prefixMask(cidr.family, cidr.prefix)) === cidr.base;
}

/** Does `outer` contain every address of `inner`? */
export function cidrCovers(outer: Cidr, inner: Cidr): boolean {
  return outer.family === inner.family && outer.prefix <= inner.prefix && (inner.base & prefixMask(outer.family, outer.prefix)) === outer.base;
}

export function formatCidr(cidr: Cidr): string {
  return `${formatAddress(cidr.family, cidr.base)}/${cidr.prefix}`;
}

export function formatAddress(family: 4 | 6, value: bigint): string {
  if (family === 4) return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join(".");
  const groups = Array.from({ length: 8 }, (_, i) => ((value >> BigInt(112 - 16 * i)) & 0xffffn).toString(16));
  return groups.join(":").replace(/(^|:)0(:0)+(:|$)/, "::").replace(/:{3,}/, "::");
}

function prefixMask(family: 4 | 6, prefix: number): bigint {
  const bits = family === 4 ? 32n : 128n;
  const all = (1n << bits) - 1n;
  return prefix === 0 ? 0n : (all >> (bits - BigInt(prefix))) << (bits - BigInt(prefix));
}

function ipv4Value(text: string): bigint {
  return text.split(".").reduce((n, part) => (n << 8n) | BigInt(Number(part)), 0n);
}

function ipv6Value(text: string): bigint {
  let head = text;
  let tailV4: bigint | null = null;
  const lastColon = text.lastIndexOf(":");
  if (text.slice(lastColon + 1).includes(".")) {
    tailV4 = ipv4Value(text.slice(lastColon + 1));
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const [left = "", right] = head.split("::");
  const leftGroups = left === "" ? [] : left.split(":");
  const rightGroups = right === undefined || right === "" ? [] : right.split(":");
  const missing = 8 - leftGroups.length - rightGroups.length;
  const groups = [...leftGroups, ...Array<string>(right === undefined ? 0 : missing).fill("0"), ...rightGroups];
  let value = groups.reduce((n, g) => (n << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (tailV4 !== null) value = (value & ~0xffffffffn) | tailV4;
  return value;
}
