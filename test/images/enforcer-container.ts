// The set-up the Debian-image tests share: the Docker Engine, the test images and a temp dir
// (registered as beforeAll/afterAll), and `bash -c SCRIPT` run as the enforcer's command, the
// enforcer as PID 1 of a Debian container as on ECS (SYS_PTRACE added, the binary and the policy
// mounted read-only under /vigil, no network).

import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect } from "vitest";
import { Docker, REPO, buildTestImages, ensureDockerEngine } from "../helpers/docker.js";
import type { CommandResult, TestImage } from "../helpers/docker.js";

export const ENFORCER = path.join(REPO, "dist/enforcer/linux-amd64/vigil-enforcer");

export interface EnforcerContainers {
  docker: Docker;
  images: Record<TestImage, string>;
  /** A temp dir of the test file, removed after it. */
  dir: string;
  /**
   * bash -c script under the enforcer with the compiled policy in policyFile; bounded to 60 s.
   * dockerArgs: more `docker run` options (a volume the container starts with).
   */
  run(policyFile: string, script: string, dockerArgs?: readonly string[]): Promise<CommandResult>;
  /**
   * The enforcer as PID 1 (its command: sleep 30) under the policy in policyFile, and argv run in that
   * container with `docker exec`, as a session from outside (ECS Exec): argv's result; the container is
   * removed after. The enforcer finds a session within 5 ms (usually while runc's exec helper still runs).
   */
  session(policyFile: string, argv: readonly string[]): Promise<CommandResult>;
  /** As session, with one `docker exec` per argv, one after the other, in the same container. */
  sessions(policyFile: string, argvs: readonly (readonly string[])[]): Promise<CommandResult[]>;
}

export function enforcerContainers(name: string): EnforcerContainers {
  /** docker run arguments for the enforcer as PID 1 of a Debian container, up to its command. */
  const enforcerRun = (container: string, policyFile: string, detached: boolean, dockerArgs: readonly string[] = []): string[] => [
    "run", ...(detached ? ["-d"] : []), "--rm", "--network", "none", "--cap-add", "SYS_PTRACE", "--name", container, ...dockerArgs,
    "-v", `${ENFORCER}:/vigil/enforcer:ro`, "-v", `${policyFile}:/vigil/policy:ro`,
    "--entrypoint", "/vigil/enforcer", suite.images.debian, "--policy", "/vigil/policy", "--",
  ];
  const suite = {
    run: async (policyFile: string, script: string, dockerArgs: readonly string[] = []): Promise<CommandResult> => {
      const r = await suite.docker.run([...enforcerRun(suite.docker.uniqueName(name), policyFile, false, dockerArgs), "bash", "-c", script], 60_000);
      expect(r.timedOut).toBe(false);
      return r;
    },
    session: async (policyFile: string, argv: readonly string[]): Promise<CommandResult> => {
      const [r] = await suite.sessions(policyFile, [argv]);
      return r as CommandResult;
    },
    sessions: async (policyFile: string, argvs: readonly (readonly string[])[]): Promise<CommandResult[]> => {
      const container = suite.docker.uniqueName(`${name}-exec`);
      const started = await suite.docker.run([...enforcerRun(container, policyFile, true), "sleep", "60"], 60_000);
      expect(started.code, started.stderr).toBe(0);
      try {
        const results: CommandResult[] = [];
        for (const argv of argvs) {
          const r = await suite.docker.run(["exec", container, ...argv], 30_000);
          expect(r.timedOut).toBe(false);
          results.push(r);
        }
        return results;
      } finally {
        await suite.docker.run(["rm", "-f", container], 30_000);
      }
    },
  } as EnforcerContainers;
  beforeAll(async () => {
    if (!existsSync(ENFORCER)) throw new Error(`enforcer binary not found at ${ENFORCER}: run npm run build`);
    suite.docker = new Docker(await ensureDockerEngine());
    suite.images = await buildTestImages();
    suite.dir = mkdtempSync(path.join(tmpdir(), `vigil-${name}-`));
  }, 1_500_000);
  afterAll(async () => {
    await suite.docker?.removeAll();
    if (suite.dir !== undefined) rmSync(suite.dir, { recursive: true, force: true });
  }, 120_000);
  return suite;
}
