// The image config rewrite, pure: the original config document in, the protected one out (and
// back). Protected means: the enforcer layer's DiffID appended to rootfs.diff_ids, a history entry,
// Entrypoint = ["/vigil/enforcer", "--", ...the original effective ENTRYPOINT], Cmd untouched,
// VIGIL_POLICY_FILE in Env when a policy is built in, and labels that record what was changed so
// that unprotect restores the original document key for key (and, written in the same JSON style,
// byte for byte).
//
// Docker's rule (moby daemon/create.go mergeAndVerifyConfig, containerd CRI WithProcessArgs):
// argv = Entrypoint ++ Cmd, with an Entrypoint of [""] counting as none. Cmd stays where it is, so
// `docker run IMAGE ARGS...` (which replaces Cmd) still runs the original ENTRYPOINT with ARGS,
// under the enforcer. Shell forms need nothing special: a config already stores
// `ENTRYPOINT x y` as ["/bin/sh", "-c", "x y"].

import { VigilImageError } from "./errors.js";

export const ENFORCER_PATH = "/vigil/enforcer";
export const POLICY_PATH = "/vigil/policy";
export const CA_PATH = "/vigil/ca.pem";
export const POLICY_ENV = `VIGIL_POLICY_FILE=${POLICY_PATH}`;

export const LABEL_VERSION = "dev.vigil.version";
/** The original Entrypoint as JSON (`null` when the image had none). */
export const LABEL_ORIGINAL_ENTRYPOINT = "dev.vigil.original-entrypoint";
/** What else the rewrite changed, as JSON (see RestoreRecord). */
export const LABEL_RESTORE = "dev.vigil.restore";
const OUR_LABELS = [LABEL_VERSION, LABEL_ORIGINAL_ENTRYPOINT, LABEL_RESTORE];

export const HISTORY_PREFIX = "vigil protect image:";

/** How each touched key was before the rewrite. Values are the label's wire format. */
export interface RestoreRecord {
  /** DiffID of the enforcer layer (the last one). */
  layer: string;
  config: "present" | "absent" | "null";
  entrypoint: "present" | "absent";
  env: "untouched" | "appended" | "absent" | "null";
  labels: "present" | "absent" | "null";
  history: "appended" | "none";
}

export interface ProtectConfigOptions {
  layerDiffId: string;
  version: string;
  /** A policy is built in at /vigil/policy: VIGIL_POLICY_FILE is set. */
  policy: boolean;
  /** Words for the history entry, e.g. "enforcer, policy". */
  contents: string;
}

export type ConfigDocument = Record<string, unknown>;

export interface Protection {
  version: string;
  originalEntrypoint: string[] | null;
  restore: RestoreRecord;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function stringList(v: unknown, what: string): string[] | null {
  if (v === undefined || v === null) return null;
  if (!Array.isArray(v) || !v.every((s) => typeof s === "string")) throw new VigilImageError(`${what} must be a list of strings or null`);
  return v as string[];
}

/** The protection recorded in a config's labels, or null when the image is not protected. */
export function protectionOf(doc: ConfigDocument): Protection | null {
  const config = doc["config"];
  if (!isObject(config) || !isObject(config["Labels"])) return null;
  const labels = config["Labels"];
  const version = labels[LABEL_VERSION];
  if (typeof version !== "string") return null;
  let originalEntrypoint: string[] | null;
  let restore: RestoreRecord;
  try {
    originalEntrypoint = stringList(JSON.parse(String(labels[LABEL_ORIGINAL_ENTRYPOINT])), LABEL_ORIGINAL_ENTRYPOINT);
    restore = JSON.parse(String(labels[LABEL_RESTORE])) as RestoreRecord;
  } catch {
    throw new VigilImageError(`the image carries ${LABEL_VERSION} but its ${LABEL_ORIGINAL_ENTRYPOINT}/${LABEL_RESTORE} labels are missing or not JSON; it was not protected by vigil, or was edited since`);
  }
  if (typeof restore.layer !== "string") throw new VigilImageError(`${LABEL_RESTORE} has no layer`);
  return { version, originalEntrypoint, restore };
}

export interface ProtectedConfig {
  doc: ConfigDocument;
  warnings: string[];
}

export function protectConfig(original: ConfigDocument, options: ProtectConfigOptions): ProtectedConfig {
  if (protectionOf(original) !== null) throw new Error("protectConfig: the config is already protected; unprotect it first");
  const doc = structuredClone(original);
  const warnings: string[] = [];
  const rootfs = doc["rootfs"];
  if (!isObject(rootfs) || !Array.isArray(rootfs["diff_ids"])) throw new VigilImageError("the image config has no rootfs.diff_ids");

  const configState: RestoreRecord["config"] = !("config" in doc) ? "absent" : doc["config"] === null ? "null" : "present";
  if (configState !== "present") doc["config"] = {};
  const config = doc["config"];
  if (!isObject(config)) throw new VigilImageError("the image config's config is not an object");

  const entrypoint = stringList(config["Entrypoint"], "config.Entrypoint");
  const cmd = stringList(config["Cmd"], "config.Cmd");
  const labels = config["Labels"];
  if (labels !== undefined && labels !== null && !isObject(labels)) throw new VigilImageError("config.Labels must be an object");
  for (const key of OUR_LABELS) {
    if (isObject(labels) && key in labels) throw new VigilImageError(`the image already has the label ${key} but is not protected by vigil; remove the label first`);
  }
  const env = stringList(config["Env"], "config.Env");
  if (options.policy && env?.some((e) => e.startsWith("VIGIL_POLICY_FILE=") || e.startsWith("VIGIL_POLICY="))) {
    throw new VigilImageError("the image already sets VIGIL_POLICY/VIGIL_POLICY_FILE in its Env, which would decide over the built-in policy", "remove it from the image, or protect without --policy");
  }

  // Docker: an Entrypoint of [""] is no entry point.
  const effective = entrypoint !== null && entrypoint.length === 1 && entrypoint[0] === "" ? [] : (entrypoint ?? []);
  if (effective.length === 0 && (cmd === null || cmd.length === 0)) {
    warnings.push(
      "the image has neither ENTRYPOINT nor CMD: the protected image runs the command given at run time (docker run IMAGE COMMAND) under the enforcer; without one the enforcer exits 2 (no command), as Docker would refuse to start the original",
    );
  }
  const restore: RestoreRecord = {
    layer: options.layerDiffId,
    config: configState,
    entrypoint: "Entrypoint" in config ? "present" : "absent",
    env: !options.policy ? "untouched" : !("Env" in config) ? "absent" : config["Env"] === null ? "null" : "appended",
    labels: !("Labels" in config) ? "absent" : config["Labels"] === null ? "null" : "present",
    history: Array.isArray(doc["history"]) ? "appended" : "none",
  };

  config["Entrypoint"] = [ENFORCER_PATH, "--", ...effective];
  if (options.policy) config["Env"] = [...(env ?? []), POLICY_ENV];
  config["Labels"] = {
    ...(isObject(labels) ? labels : {}),
    [LABEL_VERSION]: options.version,
    [LABEL_ORIGINAL_ENTRYPOINT]: JSON.stringify(entrypoint),
    [LABEL_RESTORE]: JSON.stringify(restore),
  };
  (rootfs["diff_ids"] as unknown[]).push(options.layerDiffId);
  if (Array.isArray(doc["history"])) {
    const created = typeof doc["created"] === "string" ? doc["created"] : "1970-01-01T00:00:00Z";
    doc["history"].push({ created, created_by: `${HISTORY_PREFIX} COPY /vigil (${options.contents})`, comment: `vigil ${options.version}` });
  }
  return { doc, warnings };
}

/** The original config document, and the DiffID of the layer to drop; null when not protected. */
export function unprotectConfig(protectedDoc: ConfigDocument): { doc: ConfigDocument; layerDiffId: string } | null {
  const protection = protectionOf(protectedDoc);
  if (protection === null) return null;
  const { restore } = protection;
  const doc = structuredClone(protectedDoc);
  const config = doc["config"] as Record<string, unknown>;
  const rootfs = doc["rootfs"];
  const diffIds = isObject(rootfs) && Array.isArray(rootfs["diff_ids"]) ? (rootfs["diff_ids"] as unknown[]) : [];
  if (diffIds.at(-1) !== restore.layer) {
    throw new VigilImageError(`the image's last layer is not vigil's enforcer layer (${restore.layer}); layers were added after protection — unprotect the image it was built from instead`);
  }
  diffIds.pop();
  if (restore.history === "appended" && Array.isArray(doc["history"])) {
    const last = doc["history"].at(-1) as Record<string, unknown> | undefined;
    if (typeof last?.["created_by"] === "string" && last["created_by"].startsWith(HISTORY_PREFIX)) doc["history"].pop();
  }
  if (restore.entrypoint === "absent") delete config["Entrypoint"];
  else config["Entrypoint"] = protection.originalEntrypoint;
  if (restore.env !== "untouched") {
    const env = stringList(config["Env"], "config.Env") ?? [];
    const at = env.lastIndexOf(POLICY_ENV);
    if (at >= 0) env.splice(at, 1);
    if (restore.env === "absent") delete config["Env"];
    else if (restore.env === "null") config["Env"] = null;
    else config["Env"] = env;
  }
  const labels = config["Labels"] as Record<string, unknown>;
  for (const key of OUR_LABELS) delete labels[key];
  if (restore.labels === "absent") delete config["Labels"];
  else if (restore.labels === "null") config["Labels"] = null;
  if (restore.config === "absent") delete doc["config"];
  else if (restore.config === "null") doc["config"] = null;
  return { doc, layerDiffId: restore.layer };
}
