// Small builders for ECS rewrite tests.

import { effectiveArgv } from "../../src/protect/ecs/docker-argv.js";
import type { ImageRunConfig, ProtectOptions, ProtectResult } from "../../src/protect/ecs/types.js";
import { protectEcs } from "../../src/protect/ecs/protect.js";

export const SIDECAR = "registry.example/vigil/sidecar:0.1.0";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function taskJson(containers: Json[], extra: Record<string, Json> = {}): string {
  return `${JSON.stringify({ family: "web", networkMode: "awsvpc", requiresCompatibilities: ["FARGATE"], cpu: "256", memory: "512", ...extra, containerDefinitions: containers }, null, 2)}\n`;
}

export function protect(text: string, options: Partial<ProtectOptions> & { images?: Record<string, ImageRunConfig> } = {}): ProtectResult {
  const { images, ...rest } = options;
  return protectEcs(text, {
    sidecarImage: SIDECAR,
    ...(images === undefined ? {} : { imageConfigs: new Map(Object.entries(images)) }),
    ...rest,
  });
}

export function ok(result: ProtectResult): string {
  if (result.text === null) throw new Error(`expected success, got:\n${result.diagnostics.map((d) => `${d.severity}: ${d.path}: ${d.message}`).join("\n")}`);
  return result.text;
}

export function containerOf(text: string, name: string): Record<string, Json> {
  const doc = JSON.parse(text) as { containerDefinitions: Record<string, Json>[] } | Record<string, Json>[];
  const list = Array.isArray(doc) ? doc : doc.containerDefinitions;
  const found = list.find((c) => c["name"] === name);
  if (found === undefined) throw new Error(`no container ${name}`);
  return found;
}

/** The argv Docker runs for a container of a (protected or not) task definition. */
export function argvOf(container: Record<string, Json>, image: ImageRunConfig): string[] {
  return effectiveArgv((container["entryPoint"] as string[] | undefined) ?? null, (container["command"] as string[] | undefined) ?? null, image);
}

export function errors(result: ProtectResult): string[] {
  return result.diagnostics.filter((d) => d.severity === "error").map((d) => `${d.path}: ${d.message}`);
}
