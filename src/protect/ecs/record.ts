// What protect records on each container it touches, so that unprotect can restore the original
// exactly and a second protect can re-apply without asking the registry again. It lives in the
// docker label `vigil.protect` (labels are not visible inside the container) as compact JSON with a
// fixed key order, holding only small scalars, so it is the same in JSON and YAML and never has to
// copy values that may be CloudFormation intrinsics.

import type { DeliveryMode } from "./types.js";

export const RECORD_LABEL = "vigil.protect";
export const SIDECAR_NAME = "vigil";
export const VOLUME_NAME = "vigil";
export const ENFORCER_PATH = "/vigil/enforcer";
export const MOUNT_PATH = "/vigil";

/** How the original entryPoint was given: absent (→ the image's), a list we prefixed, or [""]. */
export type EntryPointRecord = "absent" | "set" | "blank";
/** What happened to command: left as it was, added from the image CMD, or `[]` replaced by it. */
export type CommandRecord = "kept" | "added" | "empty";

/** Keys protect created on the container (absent before), in the order it created them. */
export type CreatedKey =
  | "linuxParameters"
  | "capabilities"
  | "add"
  | "volumesFrom"
  | "mountPoints"
  | "dependsOn"
  | "environment"
  | "secrets"
  | "dockerLabels";

/** Keys protect filled where the input had `null` (unset), so unprotect writes `null` back. */
export type NullKey = CreatedKey | "entryPoint" | "command";

export interface AppRecord {
  role: "app";
  entryPoint: EntryPointRecord;
  command: CommandRecord;
  /** SYS_PTRACE was appended to capabilities.add (false: it was there already). */
  ptrace: boolean;
  /** Environment variables appended, by name. */
  env: string[];
  /** Secrets appended, by name (VIGIL_POLICY from SSM / Secrets Manager). Written only when non-empty. */
  secrets: string[];
  created: CreatedKey[];
  /** Keys that were `null` and were filled. Written only when non-empty. */
  nulls: NullKey[];
}

export interface SidecarRecord {
  role: "sidecar";
  mode: DeliveryMode;
  /** The task's volumes list: "created" (was absent), "null" (was `null`), "appended" (to an existing list), "none" (no task level). */
  volumes: "created" | "null" | "appended" | "none";
}

export type ProtectRecord = AppRecord | SidecarRecord;

export function encodeRecord(record: ProtectRecord): string {
  const body =
    record.role === "app"
      ? {
          v: 1,
          role: record.role,
          entryPoint: record.entryPoint,
          command: record.command,
          ptrace: record.ptrace,
          env: record.env,
          ...(record.secrets.length > 0 ? { secrets: record.secrets } : {}),
          created: record.created,
          ...(record.nulls.length > 0 ? { null: record.nulls } : {}),
        }
      : { v: 1, role: record.role, mode: record.mode, volumes: record.volumes };
  return JSON.stringify(body);
}

const CREATED_KEYS: readonly string[] = [
  "linuxParameters",
  "capabilities",
  "add",
  "volumesFrom",
  "mountPoints",
  "dependsOn",
  "environment",
  "secrets",
  "dockerLabels",
];

/** The record, or a message saying why the label is not one protect wrote. */
export function decodeRecord(text: string): ProtectRecord | string {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return "is not JSON";
  }
  if (typeof value !== "object" || value === null) return "is not a JSON object";
  const r = value as Record<string, unknown>;
  if (r["v"] !== 1) return `has version ${JSON.stringify(r["v"])}; this vigil reads version 1`;
  if (r["role"] === "sidecar") {
    const mode = r["mode"];
    const volumes = r["volumes"];
    if (mode !== "copy" && mode !== "volumes-from") return "has an unknown mode";
    if (volumes !== "created" && volumes !== "null" && volumes !== "appended" && volumes !== "none") return "has an unknown volumes value";
    return { role: "sidecar", mode, volumes };
  }
  if (r["role"] !== "app") return "has an unknown role";
  const entryPoint = r["entryPoint"];
  const command = r["command"];
  const ptrace = r["ptrace"];
  const env = r["env"];
  const created = r["created"];
  if (entryPoint !== "absent" && entryPoint !== "set" && entryPoint !== "blank") return "has an unknown entryPoint value";
  if (command !== "kept" && command !== "added" && command !== "empty") return "has an unknown command value";
  if (typeof ptrace !== "boolean") return "has no ptrace flag";
  if (!Array.isArray(env) || !env.every((e): e is string => typeof e === "string")) return "has a bad env list";
  const secrets = r["secrets"] ?? [];
  if (!Array.isArray(secrets) || !secrets.every((e): e is string => typeof e === "string")) return "has a bad secrets list";
  if (!Array.isArray(created) || !created.every((c): c is CreatedKey => typeof c === "string" && CREATED_KEYS.includes(c))) {
    return "has a bad created list";
  }
  const nulls = r["null"] ?? [];
  if (!Array.isArray(nulls) || !nulls.every((c): c is NullKey => typeof c === "string" && (CREATED_KEYS.includes(c) || c === "entryPoint" || c === "command"))) {
    return "has a bad null list";
  }
  return { role: "app", entryPoint, command, ptrace, env, secrets, created, nulls };
}
