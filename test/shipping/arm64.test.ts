// The arm64 enforcer's shipping code (BearSSL from libbearssl-dev:arm64, static glibc's resolver)
// against a real console over HTTPS, under qemu-user. ptrace does not run under qemu-user, so the
// enforcer runs with --fail-open: it still registers and ships its lifecycle events.

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { REPO } from "../enforcer/helpers/paths.js";
import type { ShippingConsole, TestCa } from "./helpers.js";
import { enforcers, eventually, makeTestCa, shippingConsole, storedEvents } from "./helpers.js";

const binary = path.join(REPO, "dist/enforcer/linux-arm64/vigil-enforcer");
let ca: TestCa;
let s: ShippingConsole;
const dir = mkdtempSync(path.join(tmpdir(), "vigil-arm64-ship-"));
beforeAll(async () => {
  ca = await makeTestCa();
  s = await shippingConsole({ ca });
});
afterAll(async () => {
  await s.close();
  ca.remove();
  rmSync(dir, { recursive: true, force: true });
});

function qemu(args: string[], env: Record<string, string>): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn("qemu-aarch64", [binary, ...args], { env: { PATH: "/usr/bin:/bin", ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test("arm64: registers over HTTPS with the CA bundle and ships its events", async () => {
  const policy = path.join(dir, "policy");
  writeFileSync(policy, "vigil-policy 1\nexec.deny /usr/bin/wget\nend\n");
  const r = await qemu(["--fail-open", "--policy", policy, "--", "/bin/true"], { VIGIL_CONSOLE: s.url, VIGIL_TOKEN: s.token, VIGIL_CONSOLE_CA: ca.caPem });
  expect(r.stderr).not.toMatch(/TLS|cannot connect|cannot resolve/);
  const stored = await eventually("the arm64 enforcer's events", () => storedEvents(s), (v) => v.some((e) => e.event.kind === "lifecycle" && "event" in e.event && e.event.event === "exit"));
  const start = stored.find((e) => e.event.kind === "lifecycle" && "event" in e.event && e.event.event === "start");
  expect(start?.event).toMatchObject({ arch: "arm64" });
  const [row] = await enforcers(s);
  expect(row).toMatchObject({ arch: "arm64", group: "web" });
}, 60_000);
