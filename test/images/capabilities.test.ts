// capabilities.drop and noNewPrivileges: a root application in a Docker container (which has
// CAP_NET_RAW by default, as on ECS) loses what the policy lists, for itself and for every program it
// starts; what it keeps still works.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";
import { enforcerContainers } from "./enforcer-container.js";

const CAP_NET_RAW = 13n;
const containers = enforcerContainers("caps");

function underPolicy(policyLines: string[], script: string) {
  const file = path.join(containers.dir, `policy-${Math.random().toString(36).slice(2)}`);
  writeFileSync(file, `vigil-policy 1\n${policyLines.join("\n")}${policyLines.length ? "\n" : ""}end\n`);
  return containers.run(file, script);
}

const PROBE = [
  "grep -E '^(CapInh|CapEff|CapBnd|CapAmb|NoNewPrivs):' /proc/self/status",
  // a raw IPv4 socket (ICMP) and a plain TCP socket, by a program started from the application
  `perl -e 'use Socket; print socket(S, PF_INET, SOCK_RAW, 1) ? "raw=ok\\n" : "raw=" . ($!+0) . "\\n"; print socket(T, PF_INET, SOCK_STREAM, 0) ? "tcp=ok\\n" : "tcp=" . ($!+0) . "\\n"'`,
].join("; ");

function capField(stdout: string, name: string): bigint {
  const hex = new RegExp(`^${name}:\\s+([0-9a-f]+)$`, "m").exec(stdout)?.[1];
  if (hex === undefined) throw new Error(`no ${name} in\n${stdout}`);
  return BigInt(`0x${hex}`);
}

describe("capabilities.drop", () => {
  test("NET_RAW dropped: no raw socket for the root application, TCP still works", async () => {
    const r = await underPolicy(["capabilities.drop NET_RAW", "network.connect.deny 169.254.170.2/32"], PROBE);
    expect(r.code, r.stderr).toBe(0);
    for (const set of ["CapBnd", "CapEff", "CapInh", "CapAmb"]) expect(capField(r.stdout, set) & (1n << CAP_NET_RAW), set).toBe(0n);
    expect(r.stdout).toMatch(/^raw=1$/m); // EPERM
    expect(r.stdout).toMatch(/^tcp=ok$/m);
    expect(r.stderr).not.toMatch(/add NET_RAW to capabilities.drop/);
  });

  // A docker exec / ECS Exec session keeps the container's capabilities: the filter it gets at
  // adoption refuses what the dropped NET_RAW would (raw IPv4/IPv6 and packet sockets).
  test("NET_RAW dropped: a docker exec session cannot open a raw or packet socket either; its TCP socket works", async () => {
    const file = path.join(containers.dir, "policy-session-raw");
    writeFileSync(file, "vigil-policy 1\ncapabilities.drop NET_RAW\nnetwork.connect.deny 169.254.170.2/32\nend\n");
    const session = await containers.session(file, [
      "perl",
      "-e",
        'use Socket; select(undef, undef, undef, 0.3); sub sk { my ($n, @a) = @_; print "$n=" . (socket(my $f, $a[0], $a[1], $a[2]) ? "ok" : $!+0) . "\\n" } ' +
        'sk("raw", PF_INET, SOCK_RAW, 1); sk("raw6", PF_INET6, SOCK_RAW, 58); sk("packet", 17, SOCK_RAW, 0); sk("tcp", PF_INET, SOCK_STREAM, 0); sk("udp", PF_INET6, SOCK_DGRAM, 0);',
    ]);
    expect(session.code, session.stderr).toBe(0);
    expect(session.stdout.trim().split("\n")).toEqual(["raw=1", "raw6=1", "packet=1", "tcp=ok", "udp=ok"]);
  });

  test("the neighbour: without it the same root application opens a raw socket, and the enforcer warns when connect rules are set", async () => {
    const r = await underPolicy(["network.connect.deny 169.254.170.2/32"], PROBE);
    expect(r.code, r.stderr).toBe(0);
    expect(capField(r.stdout, "CapBnd") & (1n << CAP_NET_RAW)).not.toBe(0n);
    expect(r.stdout).toMatch(/^raw=ok$/m);
    expect(r.stderr).toMatch(/a raw socket \(CAP_NET_RAW, which this container has\) can build packets around them: add NET_RAW to capabilities.drop/);
  });

  test("ALL: the root application keeps no capability at all (and cannot chown what it does not own)", async () => {
    const r = await underPolicy(["capabilities.drop ALL"], `${PROBE}; touch /tmp/f; chown 1000 /tmp/f; echo "chown=$?"`);
    expect(r.code, r.stderr).toBe(0);
    expect(capField(r.stdout, "CapBnd")).toBe(0n);
    expect(capField(r.stdout, "CapEff")).toBe(0n);
    expect(r.stdout).toMatch(/^chown=1$/m);
  });
});

describe("noNewPrivileges", () => {
  test("on: set for the application even with no filter (audit mode); off: not set", async () => {
    const on = await underPolicy(["mode audit", "noNewPrivileges on"], "grep NoNewPrivs /proc/self/status");
    expect(on.stdout).toMatch(/^NoNewPrivs:\s+1$/m);
    const off = await underPolicy(["mode audit"], "grep NoNewPrivs /proc/self/status");
    expect(off.stdout).toMatch(/^NoNewPrivs:\s+0$/m);
  });
});
