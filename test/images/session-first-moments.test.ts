// A `docker exec` session that acts at once. The enforcer, as PID 1, finds processes entered from
// outside by looking for them every few milliseconds; until it has adopted one, nothing it does is
// controlled. Looking every 50 ms, about one `docker exec C sh -c 'echo … >> /etc/passwd'` in four
// (8 of 30 here) appended to the read-only file before it was found: runc's exec helper stays in the
// container 10 to 25 ms before it runs the command, and a scan that misses it finds only a finished
// session. Every 5 ms, each session is found while the helper still runs, so the command itself is
// under the filter from its first instruction.
import { writeFileSync } from "node:fs";
import path from "node:path";
import { beforeAll, expect, test } from "vitest";
import { enforcerContainers } from "./enforcer-container.js";

const containers = enforcerContainers("first-moments");
const SESSIONS = 25;

beforeAll(() => {
  writeFileSync(path.join(containers.dir, "policy"), "vigil-policy 1\nexec.allow /bin/*\nexec.allow /usr/bin/*\nexec.deny /usr/bin/wget\nfiles.readOnly /etc/**\nend\n");
});

test(`${SESSIONS} sessions appending to /etc/passwd at once: every append refused; their own files written`, async () => {
  const argvs = Array.from({ length: SESSIONS }, (_, i) => [
    "sh",
    "-c",
    `echo 'hacked${i}:x:0:0::/:/bin/sh' >> /etc/passwd 2>/dev/null; echo "passwd=$?"; echo mine${i} > /tmp/own${i} && cat /tmp/own${i}`,
  ]);
  argvs.push(["grep", "-c", "hacked", "/etc/passwd"]);
  const results = await containers.sessions(path.join(containers.dir, "policy"), argvs);
  const appended = results.slice(0, SESSIONS).filter((r) => !/^passwd=[12]$/m.test(r.stdout));
  expect(appended.map((r) => r.stdout + r.stderr)).toEqual([]);
  results.slice(0, SESSIONS).forEach((r, i) => expect(r.stdout).toMatch(new RegExp(`^mine${i}$`, "m")));
  const count = results[SESSIONS];
  expect(count?.stdout.trim()).toBe("0"); // grep -c: no line appended
}, 180_000);
