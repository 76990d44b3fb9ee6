// Where the enforcer binary for this machine is: $VIGIL_ENFORCER, or the one `npm run build`
// puts in dist/enforcer/linux-<arch>/vigil-enforcer under the package root.

import { accessSync, constants } from "node:fs";
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { UserError } from "../cli/errors.js";

/** The package root: this file is src/runner/ (tests) or dist/runner/ (built), two levels down. */
export const PACKAGE_ROOT = fileURLToPath(new URL("../../", import.meta.url));

export type EnforcerArch = "amd64" | "arm64";

export function enforcerArch(nodeArch: string): EnforcerArch | null {
  if (nodeArch === "x64") return "amd64";
  if (nodeArch === "arm64") return "arm64";
  return null;
}

export function bundledEnforcerPath(arch: EnforcerArch): string {
  return join(PACKAGE_ROOT, "dist", "enforcer", `linux-${arch}`, "vigil-enforcer");
}

export function locateEnforcer(
  env: Readonly<Record<string, string | undefined>>,
  platform: string = process.platform,
  nodeArch: string = process.arch,
): string {
  const override = env["VIGIL_ENFORCER"];
  if (override !== undefined && override !== "") {
    requireExecutable(override, "VIGIL_ENFORCER points to", "set VIGIL_ENFORCER to the path of a vigil-enforcer binary, or unset it");
    return override;
  }
  if (platform !== "linux") {
    throw new UserError(
      `the enforcer runs on Linux only; this is ${platform}`,
      "run `vigil exec` inside a Linux container or machine",
    );
  }
  const arch = enforcerArch(nodeArch);
  if (arch === null) {
    throw new UserError(`no enforcer for the ${nodeArch} architecture; Vigil supports x86_64 and arm64`);
  }
  const path = bundledEnforcerPath(arch);
  requireExecutable(path, "the enforcer binary is missing at", "run `npm run build` (scripts/setup.sh installs what it needs), or set VIGIL_ENFORCER");
  return path;
}

function requireExecutable(path: string, what: string, hint: string): void {
  try {
    accessSync(path, constants.X_OK);
  } catch {
    throw new UserError(`${what} ${path}, which is not an executable file`, hint);
  }
}
