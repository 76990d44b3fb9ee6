// --base-config FILE for protect dockerfile: the base image's ENTRYPOINT, CMD and SHELL from the
// shapes people have at hand (`docker inspect` output, an image config, just its `config`).

import { parseImageConfig } from "../ecs/image-config-file.js";
import type { BaseConfig } from "./protect.js";

/** The base config, or what is wrong with the text. */
export function parseBaseConfig(text: string): BaseConfig | string {
  const parsed = parseImageConfig(text);
  if (typeof parsed === "string") return parsed;
  const shell = shellOf(JSON.parse(text) as unknown);
  if (typeof shell === "string") return shell;
  return { entrypoint: parsed.entrypoint, cmd: parsed.cmd, shell };
}

/** `Shell` of the inner config object (the same lookup as Entrypoint/Cmd), null when unset. */
function shellOf(value: unknown): string[] | null | string {
  const top = Array.isArray(value) ? (value[0] as unknown) : value;
  if (!isObject(top)) return null;
  const inner = isObject(top["config"]) ? top["config"] : isObject(top["Config"]) ? top["Config"] : top;
  const shell = inner["Shell"] ?? inner["shell"];
  if (shell === undefined || shell === null) return null;
  if (!Array.isArray(shell) || !shell.every((v): v is string => typeof v === "string")) return "Shell must be a list of strings or null";
  return shell;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
