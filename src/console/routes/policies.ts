// Policies: live validation, create, edit (a new version), history, rollback, assignment to groups.

import type { FastifyInstance } from "fastify";
import type { ConsoleContext } from "../context.js";
import { checkPolicy } from "../policy-check.js";
import { assignPolicy, createPolicy, getVersion, history, listGroups, listPolicies, saveVersion, unassignPolicy } from "../repositories/policies.js";
import { HttpError } from "../plugins/errors.js";
import { adminOnly } from "../plugins/session.js";
import { GROUP_NAME, POLICY_NAME } from "./names.js";

const MAX_SOURCE = 256 * 1024;
const source = { type: "string", maxLength: MAX_SOURCE } as const;
const comment = { type: "string", maxLength: 500 } as const;
const nameParams = { type: "object", properties: { name: POLICY_NAME } } as const;

function compiledOrRefuse(name: string, text: string): { source: string; compiled: string; digest: string } {
  const check = checkPolicy(name, text);
  if (!check.ok || check.compiled === null || check.digest === null) {
    throw new HttpError(422, "the policy has errors; nothing saved", check.diagnostics);
  }
  return { source: text, compiled: check.compiled, digest: check.digest };
}

export function policyRoutes(ctx: ConsoleContext) {
  const { db } = ctx;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addHook("onRequest", adminOnly(db));

    app.post<{ Body: { name?: string; source: string } }>(
      "/api/admin/policies/validate",
      {
        schema: {
          body: { type: "object", required: ["source"], additionalProperties: false, properties: { name: POLICY_NAME, source } },
        },
      },
      async (request) => {
        const check = checkPolicy(request.body.name ?? "policy", request.body.source);
        return { ok: check.ok, diagnostics: check.diagnostics, digest: check.digest };
      },
    );

    app.get("/api/admin/policies", async () => ({ policies: await listPolicies(db) }));

    app.post<{ Body: { name: string; source: string; comment?: string } }>(
      "/api/admin/policies",
      {
        schema: {
          body: { type: "object", required: ["name", "source"], additionalProperties: false, properties: { name: POLICY_NAME, source, comment } },
        },
      },
      async (request, reply) => {
        const p = compiledOrRefuse(request.body.name, request.body.source);
        const saved = await createPolicy(db, request.body.name, p, request.adminName, request.body.comment ?? "created");
        if (saved === null) throw new HttpError(409, `a policy named ${request.body.name} exists already`);
        return reply.code(201).send(saved);
      },
    );

    app.get<{ Params: { name: string } }>("/api/admin/policies/:name", { schema: { params: nameParams } }, async (request) => {
      const current = await getVersion(db, request.params.name);
      if (current === null) throw new HttpError(404, `no policy ${request.params.name}`);
      return { ...current, history: await history(db, request.params.name) };
    });

    app.get<{ Params: { name: string; version: number } }>(
      "/api/admin/policies/:name/versions/:version",
      { schema: { params: { type: "object", properties: { name: POLICY_NAME, version: { type: "integer", minimum: 1 } } } } },
      async (request) => {
        const v = await getVersion(db, request.params.name, request.params.version);
        if (v === null) throw new HttpError(404, `no version ${request.params.version} of policy ${request.params.name}`);
        return v;
      },
    );

    app.put<{ Params: { name: string }; Body: { source: string; comment?: string } }>(
      "/api/admin/policies/:name",
      { schema: { params: nameParams, body: { type: "object", required: ["source"], additionalProperties: false, properties: { source, comment } } } },
      async (request) => {
        const p = compiledOrRefuse(request.params.name, request.body.source);
        const saved = await saveVersion(db, request.params.name, p, request.adminName, request.body.comment ?? "edited");
        if (saved === null) throw new HttpError(404, `no policy ${request.params.name}`);
        return saved;
      },
    );

    app.post<{ Params: { name: string }; Body: { version: number } }>(
      "/api/admin/policies/:name/rollback",
      {
        schema: {
          params: nameParams,
          body: { type: "object", required: ["version"], additionalProperties: false, properties: { version: { type: "integer", minimum: 1 } } },
        },
      },
      async (request) => {
        const old = await getVersion(db, request.params.name, request.body.version);
        if (old === null) throw new HttpError(404, `no version ${request.body.version} of policy ${request.params.name}`);
        const saved = await saveVersion(db, request.params.name, { source: old.source, compiled: old.compiled, digest: old.digest }, request.adminName, `rollback to version ${old.version}`);
        if (saved === null) throw new HttpError(404, `no policy ${request.params.name}`);
        return saved;
      },
    );

    app.get("/api/admin/groups", async () => ({ groups: await listGroups(db) }));

    app.put<{ Params: { group: string }; Body: { policy: string | null } }>(
      "/api/admin/groups/:group/policy",
      {
        schema: {
          params: { type: "object", properties: { group: GROUP_NAME } },
          body: { type: "object", required: ["policy"], additionalProperties: false, properties: { policy: { anyOf: [POLICY_NAME, { type: "null" }] } } },
        },
      },
      async (request) => {
        const { group } = request.params;
        const policy = request.body.policy;
        if (policy === null) {
          await unassignPolicy(db, group);
          return { group, policy: null };
        }
        if (!(await assignPolicy(db, group, policy))) throw new HttpError(404, `no policy ${policy}`);
        return { group, policy };
      },
    );
  };
}
