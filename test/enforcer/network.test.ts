// network.connect.* and network.listen.allow (docs/compiled-policy.md "Network rules"): each refused
// destination is shown to receive no byte at all (a loopback listener records what arrives), next
// to a neighbour that the same policy lets through. Only 127.0.0.0/8 and ::1 are used.

import { copyFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { expectExit, validateEventsAfterEach } from "./helpers/assert.js";
import { lifecycle } from "./helpers/events.js";
import type { VigilEvent } from "./helpers/events.js";
import { settle, tcpListener, udpListener } from "./helpers/listeners.js";
import type { TcpListener, UdpListener } from "./helpers/listeners.js";
import { ensureBuilt, probe } from "./helpers/paths.js";
import { runEnforcer } from "./helpers/run.js";
import type { Mechanism, RunResult } from "./helpers/run.js";
import { makeTempDir } from "./helpers/tmp.js";
import type { TempDir } from "./helpers/tmp.js";

validateEventsAfterEach();

type NetEvent = Extract<VigilEvent, { kind: "connect" } | { kind: "listen" }>;

function netEvents(r: RunResult, kind: "connect" | "listen"): NetEvent[] {
  return r.events.filter((e): e is NetEvent => e.kind === kind);
}

let tmp: TempDir;
let denied: TcpListener; // 127.0.0.2: network.connect.deny[0]
let allowed: TcpListener; // 127.0.0.1
let denied6: TcpListener; // ::1, denied by port: network.connect.deny[1]
let allowed6: TcpListener; // ::1, another port
let udpDenied: UdpListener;
let udpAllowed: UdpListener;
let allowedCopy: string; // a copy of net-ops that network.connect.exception[0] lets reach 127.0.0.2

beforeAll(async () => {
  ensureBuilt();
  tmp = makeTempDir("net");
  denied = await tcpListener("127.0.0.2");
  allowed = await tcpListener("127.0.0.1");
  denied6 = await tcpListener("::1");
  allowed6 = await tcpListener("::1");
  udpDenied = await udpListener("127.0.0.2");
  udpAllowed = await udpListener("127.0.0.1");
  allowedCopy = tmp.join("allowed-net-ops");
  copyFileSync(probe("net-ops"), allowedCopy);
});
afterAll(async () => {
  for (const l of [denied, allowed, denied6, allowed6, udpDenied, udpAllowed]) await l?.close();
  tmp?.remove();
});

function policy(extra: readonly string[] = []): string {
  return [
    "vigil-policy 1",
    "network.connect.deny 127.0.0.2/32",
    `network.connect.deny ::1 ${denied6.port}`,
    `network.connect.exception ${allowedCopy} 127.0.0.2`,
    "network.listen.allow 20000-20100",
    ...extra,
    "end",
    "",
  ].join("\n");
}

const NET = (...args: string[]): string[] => [probe("net-ops"), ...args];

describe.each(["seccomp", "landlock"] as const)("mechanism %s", (mechanism: Mechanism) => {
  const run = (command: string[], extra: readonly string[] = [], timeoutMs = 30_000): Promise<RunResult> =>
    runEnforcer({ mechanism, policy: policy(extra), command, timeoutMs });

  test("connect to a denied address is refused before a byte leaves; 127.0.0.1 still works", async () => {
    const before = denied.bytes().length;
    const r = await run(["sh", "-c", `${NET("connect", "127.0.0.2", String(denied.port)).join(" ")}; ${NET("connect", "127.0.0.1", String(allowed.port)).join(" ")}`]);
    expectExit(r, 0);
    expect(r.stdout).toBe("connect errno=EPERM\nconnect ok\nsend ok\n");
    await settle();
    expect(denied.bytes().length).toBe(before);
    expect(allowed.bytes()).toContain("hello");
    const blocked = netEvents(r, "connect");
    expect(blocked).toHaveLength(1);
    expect(blocked[0]).toMatchObject({
      verdict: "blocked",
      rule: "network.connect.deny[0]",
      pattern: "127.0.0.2/32",
      address: "127.0.0.2",
      port: denied.port,
      family: "ipv4",
      protocol: "tcp",
      syscall: "connect",
      exe: probe("net-ops"),
    });
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" && start.mechanisms.seccomp).toBe(true);
  });

  test("IPv6: ::1 on the denied port is refused, ::1 on another port works; non-blocking connect too", async () => {
    const r = await run([
      "sh",
      "-c",
      [
        NET("connect", "::1", String(denied6.port)),
        NET("connect-nb", "::1", String(denied6.port)),
        NET("connect", "::1", String(allowed6.port)),
      ]
        .map((c) => c.join(" "))
        .join("; "),
    ]);
    expectExit(r, 0);
    expect(r.stdout).toBe("connect errno=EPERM\nconnect-nb errno=EPERM\nconnect ok\nsend ok\n");
    await settle();
    expect(denied6.connections()).toBe(0);
    expect(netEvents(r, "connect").map((e) => [e.rule, "family" in e ? e.family : "", e.address])).toEqual([
      ["network.connect.deny[1]", "ipv6", "::1"],
      ["network.connect.deny[1]", "ipv6", "::1"],
    ]);
  });

  test("an IPv4-mapped IPv6 address matches the IPv4 rule", async () => {
    const r = await run(NET("connect", "::ffff:127.0.0.2", String(denied.port)));
    expectExit(r, 0);
    expect(r.stdout).toBe("connect errno=EPERM\n");
    expect(netEvents(r, "connect")[0]).toMatchObject({ rule: "network.connect.deny[0]", address: "127.0.0.2", family: "ipv4" });
  });

  test("an exception lets one program through; the same program under another name is refused", async () => {
    const before = denied.bytes();
    const r = await run([
      "sh",
      "-c",
      `${allowedCopy} connect 127.0.0.2 ${denied.port}; ${NET("connect", "127.0.0.2", String(denied.port)).join(" ")}`,
    ]);
    expectExit(r, 0);
    expect(r.stdout).toBe("connect ok\nsend ok\nconnect errno=EPERM\n");
    await settle();
    expect(denied.bytes()).toBe(`${before}hello`);
    const events = netEvents(r, "connect");
    expect(events.map((e) => [e.verdict, e.rule, e.exe])).toEqual([
      ["allowed", "network.connect.exception[0]", allowedCopy],
      ["blocked", "network.connect.deny[0]", probe("net-ops")],
    ]);
  });

  test("UDP sendto and sendmsg to a denied address send nothing; to 127.0.0.1 they arrive", async () => {
    const r = await run([
      "sh",
      "-c",
      [
        NET("sendto", "127.0.0.2", String(udpDenied.port)),
        NET("sendmsg", "127.0.0.2", String(udpDenied.port)),
        NET("sendto", "127.0.0.1", String(udpAllowed.port)),
        NET("sendmsg", "127.0.0.1", String(udpAllowed.port)),
      ]
        .map((c) => c.join(" "))
        .join("; "),
    ]);
    expectExit(r, 0);
    expect(r.stdout).toBe("sendto errno=EPERM\nsendmsg errno=EPERM\nsendto ok\nsendmsg ok\n");
    await settle();
    expect(udpDenied.datagrams()).toEqual([]);
    expect(udpAllowed.datagrams().length).toBeGreaterThanOrEqual(2);
    expect(netEvents(r, "connect").map((e) => ["syscall" in e ? e.syscall : "", "protocol" in e ? e.protocol : ""])).toEqual([
      ["sendto", "udp"],
      ["sendmsg", "udp"],
    ]);
  });

  test("TCP fast open (MSG_FASTOPEN) is refused with EOPNOTSUPP: applications fall back to connect", async () => {
    const r = await run(NET("fastopen", "127.0.0.1", String(allowed.port)));
    expectExit(r, 0);
    expect(r.stdout).toBe("fastopen errno=EOPNOTSUPP\n");
  });

  test("race: a thread flipping the sockaddr during 2000 connects never gets a byte to the denied listener", async () => {
    const before = denied.bytes();
    const beforeOk = allowed.bytes().length;
    const r = await run(NET("race", "127.0.0.2", String(denied.port), "127.0.0.1", String(allowed.port), "2000"), [], 120_000);
    expectExit(r, 0);
    const m = /^race n=2000 ok=(\d+) refused=(\d+)$/m.exec(r.stdout);
    expect(m, r.stdout).not.toBeNull();
    await settle(300);
    expect(denied.bytes()).toBe(before);
    expect(Number(m?.[1])).toBeGreaterThan(0);
    expect(allowed.bytes().length).toBeGreaterThan(beforeOk);
  }, 130_000);

  test("listen on a port outside network.listen.allow is refused, inside it works; a UDP bind too", async () => {
    const r = await run([
      "sh",
      "-c",
      [NET("listen", "20200"), NET("listen", "20050"), NET("udp-bind", "20201"), NET("udp-bind", "20051")]
        .map((c) => c.join(" "))
        .join("; "),
    ]);
    expectExit(r, 0);
    expect(r.stdout).toBe("bind ok\nlisten errno=EPERM\nbind ok\nlisten ok\nbind errno=EPERM\nbind ok\n");
    expect(netEvents(r, "listen").map((e) => [e.verdict, e.rule, e.port, "protocol" in e ? e.protocol : ""])).toEqual([
      ["blocked", "network.listen.allow", 20200, "tcp"],
      ["blocked", "network.listen.allow", 20201, "udp"],
    ]);
  });

  test("io_uring_setup is refused with ENOSYS while network rules are active", async () => {
    const r = await run(NET("io_uring"));
    expect(r.stdout).toBe("io_uring errno=ENOSYS\n");
  });
});

describe("without network rules nothing changes", () => {
  test("io_uring_setup and connect behave as without the enforcer; no seccomp filter", async () => {
    const r = await runEnforcer({
      policy: "vigil-policy 1\nend\n",
      command: ["sh", "-c", `${NET("io_uring").join(" ")}; ${NET("connect", "127.0.0.2", String(denied.port)).join(" ")}`],
    });
    expect(r.stdout).not.toContain("io_uring errno=ENOSYS");
    expect(r.stdout).toContain("connect ok");
    const start = lifecycle(r.events, "start")[0];
    expect(start?.event === "start" && start.mechanisms.seccomp).toBe(false);
  });
});

describe("audit mode", () => {
  test("a denied destination is reached and reported as an alert", async () => {
    const r = await runEnforcer({ policy: policy(["mode audit"]), command: NET("connect", "127.0.0.2", String(denied.port)) });
    expectExit(r, 0);
    expect(r.stdout).toBe("connect ok\nsend ok\n");
    expect(netEvents(r, "connect").map((e) => [e.verdict, e.rule])).toEqual([["alert", "network.connect.deny[0]"]]);
  });
});

// Known mining-pool ports on a public address are reported (verdict alert), not blocked. The run is
// in a network namespace of its own with only loopback, so the connect fails at once with
// ENETUNREACH and no packet leaves; the enforcer judges it at the seccomp stop before that.
describe("mining-pool ports", () => {
  function isolated(args: string[]) {
    return runEnforcer({ command: ["unshare", "--net", "--", probe("net-ops"), ...args], policy: policy(), timeoutMs: 20_000 });
  }

  test("a connect to a public address on a stratum port (3333) is an alert; the call itself is not refused", async () => {
    const r = await isolated(["connect", "198.51.100.7", "3333"]);
    expectExit(r, 0);
    expect(r.stdout).toMatch(/^connect errno=ENETUNREACH$/m);
    expect(netEvents(r, "connect")).toEqual([expect.objectContaining({ verdict: "alert", rule: "network.miningPort", address: "198.51.100.7", port: 3333 })]);
  });

  test("the neighbours: a public address on 443, and loopback on 3333, are not reported", async () => {
    const web = await isolated(["connect", "198.51.100.7", "443"]);
    expectExit(web, 0);
    expect(netEvents(web, "connect")).toEqual([]);
    const local = await isolated(["connect", "127.0.0.1", "3333"]);
    expectExit(local, 0);
    expect(netEvents(local, "connect")).toEqual([]);
  });
});
