// Enrollment tokens: create (shown once), list, revoke.

import type { FastifyInstance } from "fastify";
import type { ConsoleContext } from "../context.js";
import { createToken, listTokens, revokeToken } from "../repositories/tokens.js";
import { HttpError } from "../plugins/errors.js";
import { adminOnly } from "../plugins/session.js";
import { GROUP_NAME } from "./names.js";

export function tokenRoutes(ctx: ConsoleContext) {
  const { db } = ctx;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addHook("onRequest", adminOnly(db));

    app.get("/api/admin/tokens", async () => ({ tokens: await listTokens(db) }));

    app.post<{ Body: { name: string; group: string } }>(
      "/api/admin/tokens",
      {
        schema: {
          body: {
            type: "object",
            required: ["name", "group"],
            additionalProperties: false,
            properties: { name: { type: "string", minLength: 1, maxLength: 128 }, group: GROUP_NAME },
          },
        },
      },
      async (request, reply) => {
        const { token, info } = await createToken(db, request.body.name, request.body.group);
        return reply.code(201).send({ token, ...info });
      },
    );

    app.delete<{ Params: { id: string } }>(
      "/api/admin/tokens/:id",
      { schema: { params: { type: "object", properties: { id: { type: "string", pattern: "^[0-9a-f]{12}$" } } } } },
      async (request, reply) => {
        const revoked = await revokeToken(db, request.params.id);
        if (revoked === null) throw new HttpError(404, `no token ${request.params.id}`);
        return reply.code(revoked ? 200 : 409).send({ id: request.params.id, revoked: true, already: !revoked });
      },
    );
  };
}
