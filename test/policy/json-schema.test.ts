import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { policyJsonSchema, policyJsonSchemaText } from "../../src/policy/json-schema.js";

const shipped = readFileSync(new URL("../../schema/policy.schema.json", import.meta.url), "utf8");

describe("schema/policy.schema.json", () => {
  test("is what the zod schema generates (run `npm run build` to regenerate it)", () => {
    expect(shipped).toBe(policyJsonSchemaText());
  });

  test("is pinned: the shape editors rely on", () => {
    expect(policyJsonSchemaText()).toMatchSnapshot();
  });

  test("names every section and refuses unknown keys", () => {
    const schema = policyJsonSchema() as { required: string[]; additionalProperties: boolean; properties: { spec: { properties: Record<string, unknown> } } };
    expect(schema.required).toEqual(["apiVersion", "kind"]);
    expect(schema.additionalProperties).toBe(false);
    expect(Object.keys(schema.properties.spec.properties)).toEqual(["mode", "exec", "files", "network", "selfProtection", "capabilities", "noNewPrivileges"]);
  });
});
