#!/usr/bin/env node
// Writes schema/policy.schema.json from the compiled zod schema (run after tsc; part of npm run build).
import { writeFileSync } from "node:fs";
import { policyJsonSchemaText } from "../dist/policy/json-schema.js";

writeFileSync(new URL("../schema/policy.schema.json", import.meta.url), policyJsonSchemaText());
