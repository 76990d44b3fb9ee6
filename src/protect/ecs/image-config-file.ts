// Reading an image config given by the user (--image-config IMAGE=FILE or inline JSON) in any of
// the shapes people have at hand: the OCI/Docker image config, just its `config` object,
// `docker inspect` output, or { entrypoint, cmd }.

import type { ImageRunConfig } from "./types.js";

export function parseImageConfig(text: string): ImageRunConfig | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return `not valid JSON: ${(error as Error).message}`;
  }
  if (Array.isArray(value)) {
    if (value.length !== 1) return "a docker inspect array must hold exactly one image";
    value = value[0];
  }
  if (typeof value !== "object" || value === null) return "expected a JSON object";
  const top = value as Record<string, unknown>;
  const os = typeof top["os"] === "string" ? top["os"] : typeof top["Os"] === "string" ? top["Os"] : undefined;
  const inner = isObject(top["config"]) ? top["config"] : isObject(top["Config"]) ? top["Config"] : top;
  const entrypoint = pick(inner, ["Entrypoint", "entrypoint"]);
  const cmd = pick(inner, ["Cmd", "cmd"]);
  if (typeof entrypoint === "string" || typeof cmd === "string") return "Entrypoint and Cmd must be lists of strings or null";
  if (entrypoint === undefined && cmd === undefined && !("Entrypoint" in inner || "Cmd" in inner || "entrypoint" in inner || "cmd" in inner)) {
    return 'has neither Entrypoint nor Cmd (expected an image config such as {"Entrypoint": [...], "Cmd": [...]})';
  }
  return { entrypoint: entrypoint ?? null, cmd: cmd ?? null, ...(os === undefined ? {} : { os }) };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function pick(obj: Record<string, unknown>, names: readonly string[]): string[] | string | undefined {
  for (const name of names) {
    if (!(name in obj)) continue;
    const value = obj[name];
    if (value === null) return undefined;
    if (Array.isArray(value) && value.every((v): v is string => typeof v === "string")) return value;
    return "bad";
  }
  return undefined;
}
