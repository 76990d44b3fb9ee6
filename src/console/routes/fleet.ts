// The fleet: every enforcer, when it was last seen, what it runs, and whether it protects.

import type { FastifyInstance } from "fastify";
import type { ConsoleContext } from "../context.js";
import type { Enforcer } from "../repositories/enforcers.js";
import { listEnforcers } from "../repositories/enforcers.js";
import { gapsOf } from "../repositories/events.js";
import { listGroups, listPolicies } from "../repositories/policies.js";
import { HttpError } from "../plugins/errors.js";
import { adminOnly } from "../plugins/session.js";

export type Protection = "protected" | "audit" | "failopen" | "offline";

/** Offline after three missed polls. */
export function protectionOf(e: Enforcer, pollSeconds: number, now: number): Protection {
  if (now - e.lastSeen > 3 * pollSeconds * 1000) return "offline";
  if (e.failopen) return "failopen";
  return e.mode === "audit" ? "audit" : "protected";
}

export function fleetRoutes(ctx: ConsoleContext) {
  const { db } = ctx;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addHook("onRequest", adminOnly(db));

    app.get("/api/admin/enforcers", async () => {
      const now = Date.now();
      const [enforcers, policies, groups] = await Promise.all([listEnforcers(db), listPolicies(db), listGroups(db)]);
      const byDigest = new Map(policies.map((p) => [p.digest, p]));
      const assigned = new Map(groups.map((g) => [g.group, g.policy]));
      return {
        enforcers: enforcers.map((e) => {
          const assignedName = assigned.get(e.group) ?? null;
          const assignedDigest = policies.find((p) => p.name === assignedName)?.digest ?? null;
          return {
            ...e,
            protection: protectionOf(e, ctx.pollSeconds, now),
            policyName: e.policyDigest === null ? null : (byDigest.get(e.policyDigest)?.name ?? null),
            assignedPolicy: assignedName,
            policyCurrent: assignedDigest === null || assignedDigest === e.policyDigest,
          };
        }),
      };
    });

    app.get<{ Params: { id: string } }>(
      "/api/admin/enforcers/:id/gaps",
      { schema: { params: { type: "object", properties: { id: { type: "string", pattern: "^e_[0-9a-f]{20}$" } } } } },
      async (request) => {
        const all = await listEnforcers(db);
        if (!all.some((e) => e.id === request.params.id)) throw new HttpError(404, `no enforcer ${request.params.id}`);
        return { gaps: await gapsOf(db, request.params.id) };
      },
    );
  };
}
