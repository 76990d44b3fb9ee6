// API tokens for automation: create (shown once), list, revoke. Managed with a signed-in session
// only: a token cannot mint or revoke tokens.

import type { FastifyInstance } from "fastify";
import type { ConsoleContext } from "../context.js";
import { HttpError } from "../plugins/errors.js";
import { sessionOnly } from "../plugins/session.js";
import { createApiToken, listApiTokens, revokeApiToken } from "../repositories/api-tokens.js";

const DAY_MS = 24 * 60 * 60 * 1000;

export function apiTokenRoutes(ctx: ConsoleContext) {
  const { db } = ctx;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addHook("onRequest", sessionOnly(db));

    app.get("/api/admin/api-tokens", async () => ({ tokens: await listApiTokens(db) }));

    app.post<{ Body: { name: string; expiresInDays?: number } }>(
      "/api/admin/api-tokens",
      {
        schema: {
          body: {
            type: "object",
            required: ["name"],
            additionalProperties: false,
            properties: { name: { type: "string", minLength: 1, maxLength: 128 }, expiresInDays: { type: "integer", minimum: 1, maximum: 3650 } },
          },
        },
      },
      async (request, reply) => {
        const days = request.body.expiresInDays;
        const { token, info } = await createApiToken(db, request.body.name, request.adminName, days === undefined ? null : Date.now() + days * DAY_MS);
        return reply.code(201).send({ token, ...info });
      },
    );

    app.delete<{ Params: { id: string } }>(
      "/api/admin/api-tokens/:id",
      { schema: { params: { type: "object", properties: { id: { type: "string", pattern: "^[0-9a-f]{12}$" } } } } },
      async (request, reply) => {
        const revoked = await revokeApiToken(db, request.params.id);
        if (revoked === null) throw new HttpError(404, `no API token ${request.params.id}`);
        return reply.code(revoked ? 200 : 409).send({ id: request.params.id, revoked: true, already: !revoked });
      },
    );
  };
}
