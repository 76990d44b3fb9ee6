// Compiled policies (docs/compiled-policy.md), written as text: these tests do not depend on the
// TypeScript compiler.

export interface PolicySpec {
  name?: string;
  mode?: "enforce" | "audit";
  allow?: readonly string[];
  deny?: readonly string[];
}

export function compiledPolicy(spec: PolicySpec): string {
  const lines = ["vigil-policy 1"];
  if (spec.name !== undefined) lines.push(`name ${spec.name}`);
  if (spec.mode !== undefined) lines.push(`mode ${spec.mode}`);
  for (const glob of spec.allow ?? []) lines.push(`exec.allow ${glob}`);
  for (const glob of spec.deny ?? []) lines.push(`exec.deny ${glob}`);
  lines.push("end");
  return `${lines.join("\n")}\n`;
}
