// Loopback listeners that record what reached them (connections and bytes), for network-policy
// tests: a refused destination must receive no byte at all.

import { createSocket } from "node:dgram";
import type { Socket as UdpSocket } from "node:dgram";
import { createServer } from "node:net";
import type { Server } from "node:net";

export interface TcpListener {
  readonly host: string;
  readonly port: number;
  /** Connections accepted so far. */
  connections(): number;
  /** Every byte received, over all connections. */
  bytes(): string;
  close(): Promise<void>;
}

/** `greeting`, when given, is written to every connection as it is accepted (an attacker's commands). */
export async function tcpListener(host: string, greeting?: string): Promise<TcpListener> {
  let connections = 0;
  const chunks: Buffer[] = [];
  const server: Server = createServer((socket) => {
    connections++;
    socket.on("data", (b: Buffer) => chunks.push(b));
    socket.on("error", () => undefined);
    if (greeting !== undefined) socket.write(greeting);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, host, () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("listener has no port");
  return {
    host,
    port: address.port,
    connections: () => connections,
    bytes: () => Buffer.concat(chunks).toString("latin1"),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface UdpListener {
  readonly host: string;
  readonly port: number;
  datagrams(): string[];
  close(): Promise<void>;
}

export async function udpListener(host: string): Promise<UdpListener> {
  const socket: UdpSocket = createSocket(host.includes(":") ? "udp6" : "udp4");
  const received: string[] = [];
  socket.on("message", (m: Buffer) => received.push(m.toString("latin1")));
  await new Promise<void>((resolve, reject) => {
    socket.once("error", reject);
    socket.bind(0, host, () => resolve());
  });
  return {
    host,
    port: socket.address().port,
    datagrams: () => [...received],
    close: () => new Promise<void>((resolve) => socket.close(() => resolve())),
  };
}

/** Let in-flight bytes reach the listeners before asserting on them. */
export function settle(ms = 150): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
