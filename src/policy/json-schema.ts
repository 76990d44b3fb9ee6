// The JSON Schema of the policy document, generated from the zod schema (the one source), for
// editors to validate and complete policies. Shipped as schema/policy.schema.json; a test fails
// when that file is stale (`npm run build` regenerates it).

import { z } from "zod";
import { policySchema } from "./schema.js";

export const POLICY_SCHEMA_ID = "https://vigil.dev/schema/policy.schema.json";

export function policyJsonSchema(): Record<string, unknown> {
  const generated = z.toJSONSchema(policySchema, { io: "input", unrepresentable: "any" }) as Record<string, unknown>;
  const { $schema, ...rest } = generated;
  return { $schema, $id: POLICY_SCHEMA_ID, ...rest };
}

/** The file's exact text: two-space JSON and a final newline. */
export function policyJsonSchemaText(): string {
  return `${JSON.stringify(policyJsonSchema(), null, 2)}\n`;
}
