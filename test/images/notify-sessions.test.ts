// `docker exec` sessions under `--mechanism notify` (VIGIL_MECHANISM=notify), the enforcer as PID 1
// of a Debian container. The application is not followed under notify (only attached across each
// exec), so the scan that finds sessions entered from outside must tell them apart from the
// application's own untraced processes (by the filter those carry): sessions are adopted and
// traced as under every other mechanism, the application's processes are left alone.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, expect, test } from "vitest";
import { enforcerContainers } from "./enforcer-container.js";

const containers = enforcerContainers("notify-sessions");
const SESSIONS = 15;
const NOTIFY = ["-e", "VIGIL_MECHANISM=notify"];

beforeAll(() => {
  writeFileSync(path.join(containers.dir, "policy"), "vigil-policy 1\nexec.allow /bin/*\nexec.allow /usr/bin/*\nexec.deny /usr/bin/id\nend\n");
});

test(`${SESSIONS} sessions running a denied program at once: each refused; allowed commands run; the application stays untraced`, async () => {
  const argvs = Array.from({ length: SESSIONS }, (_, i) => ["sh", "-c", `/usr/bin/id -u 2>/dev/null; echo "id=$?"; echo mine${i}`]);
  // The application's own process (sleep, PID 2 under the enforcer): not traced by anyone.
  argvs.push(["sh", "-c", 'for p in /proc/[0-9]*; do [ "$(cat $p/comm 2>/dev/null)" = sleep ] && grep TracerPid $p/status; done']);
  const results = await containers.sessions(path.join(containers.dir, "policy"), argvs, NOTIFY);
  const ran = results.slice(0, SESSIONS).filter((r) => !/^id=126$/m.test(r.stdout));
  expect(ran.map((r) => r.stdout + r.stderr)).toEqual([]);
  results.slice(0, SESSIONS).forEach((r, i) => expect(r.stdout).toMatch(new RegExp(`^mine${i}$`, "m")));
  expect(results[SESSIONS]?.stdout.trim()).toBe("TracerPid:\t0");
}, 180_000);

test("the application under notify: its denied exec refused (126), its container goes on", async () => {
  const r = await containers.run(path.join(containers.dir, "policy"), "/usr/bin/id -u; echo \"id=$?\"; /bin/true && echo after", NOTIFY);
  expect(r.code, r.stderr).toBe(0);
  expect(r.stdout).toMatch(/^id=126$/m);
  expect(r.stdout).not.toMatch(/^0$/m); // id's output
  expect(r.stdout).toMatch(/^after$/m);
  expect(r.stderr).toMatch(/vigil: blocked exec of \/usr\/bin\/id/);
  expect(r.stderr).toMatch(/"verdict":"blocked","rule":"exec\.deny\[0\]"[^\n]*"mechanism":"notify"/);
});
