// Network values of the policy: CIDR blocks with optional port ranges, and listen ports.
// Validation returns the canonical compiled text, or an error message.

import { isIPv4, isIPv6 } from "node:net";

export type Checked = { ok: true; value: string } | { ok: false; message: string };

/** "10.0.0.0/8", "::1/128", a bare address (taken as /32 or /128), each optionally followed by " PORT" or " PORT-PORT". */
export function checkCidrWithPorts(text: string): Checked {
  const parts = text.trim().split(/\s+/);
  if (parts.length === 0 || parts.length > 2 || parts[0] === "") {
    return { ok: false, message: `must be "CIDR" or "CIDR PORT[-PORT]" such as "169.254.169.254/32" or "10.0.0.0/8 443"; received "${text}"` };
  }
  const cidr = checkCidr(parts[0] ?? "");
  if (!cidr.ok) return cidr;
  if (parts.length === 1) return cidr;
  const ports = checkPortRange(parts[1] ?? "");
  if (!ports.ok) return ports;
  return { ok: true, value: `${cidr.value} ${ports.value}` };
}

export function checkCidr(text: string): Checked {
  const slash = text.indexOf("/");
  const address = slash < 0 ? text : text.slice(0, slash);
  const v4 = isIPv4(address);
  if (!v4 && !isIPv6(address)) {
    return { ok: false, message: `"${address}" is not an IPv4 or IPv6 address` };
  }
  const maxPrefix = v4 ? 32 : 128;
  if (slash < 0) return { ok: true, value: `${address}/${maxPrefix}` };
  const prefixText = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(prefixText) || Number(prefixText) > maxPrefix) {
    return { ok: false, message: `prefix length must be 0 to ${maxPrefix}; received "${text}"` };
  }
  return { ok: true, value: `${address}/${Number(prefixText)}` };
}

/** A port (1-65535) given as a number or text, or a range "LOW-HIGH" with LOW <= HIGH. */
export function checkPortRange(input: string | number): Checked {
  const text = String(input);
  const match = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(text);
  const low = Number(match?.[1]);
  const high = match?.[2] === undefined ? low : Number(match[2]);
  if (!match || !inPortRange(low) || !inPortRange(high) || low > high) {
    return { ok: false, message: `must be a port 1-65535 or a range "LOW-HIGH" such as "8000-8080"; received ${JSON.stringify(input)}` };
  }
  return { ok: true, value: low === high ? String(low) : `${low}-${high}` };
}

function inPortRange(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}
