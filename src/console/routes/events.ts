// Events for people: filtered list, counts per time bucket (the chart), and one event's detail
// with its process ancestry.

import type { FastifyInstance } from "fastify";
import type { ConsoleContext } from "../context.js";
import type { EventFilter } from "../repositories/events.js";
import { ancestry, countBuckets, getEvent, queryEvents } from "../repositories/events.js";
import { HttpError } from "../plugins/errors.js";
import { adminOnly } from "../plugins/session.js";

const filterProperties = {
  workload: { type: "string", minLength: 1, maxLength: 1024 },
  enforcer: { type: "string", minLength: 1, maxLength: 64 },
  kind: { type: "string", enum: ["exec", "file", "connect", "listen", "self", "lifecycle", "dropped"] },
  verdict: { type: "string", enum: ["allowed", "blocked", "alert"] },
  from: { type: "string", maxLength: 40 },
  to: { type: "string", maxLength: 40 },
} as const;

interface FilterQuery {
  workload?: string;
  enforcer?: string;
  kind?: string;
  verdict?: string;
  from?: string;
  to?: string;
}

/** Milliseconds since the epoch, or an RFC 3339 time. */
function parseTime(field: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) throw new HttpError(400, `${field}: expected milliseconds since the epoch or an RFC 3339 time; received ${JSON.stringify(text)}`);
  return ms;
}

function toFilter(q: FilterQuery): EventFilter {
  return { workload: q.workload, enforcer: q.enforcer, kind: q.kind, verdict: q.verdict, from: parseTime("from", q.from), to: parseTime("to", q.to) };
}

export function eventRoutes(ctx: ConsoleContext) {
  const { db } = ctx;
  return async function routes(app: FastifyInstance): Promise<void> {
    app.addHook("onRequest", adminOnly(db));

    app.get<{ Querystring: FilterQuery & { limit: number; offset: number } }>(
      "/api/admin/events",
      {
        schema: {
          querystring: {
            type: "object",
            additionalProperties: false,
            properties: { ...filterProperties, limit: { type: "integer", minimum: 1, maximum: 500, default: 100 }, offset: { type: "integer", minimum: 0, maximum: 1000000, default: 0 } },
          },
        },
      },
      async (request) => queryEvents(db, toFilter(request.query), request.query.limit, request.query.offset),
    );

    app.get<{ Querystring: FilterQuery & { bucket: number } }>(
      "/api/admin/events/counts",
      {
        schema: {
          querystring: {
            type: "object",
            additionalProperties: false,
            properties: { ...filterProperties, bucket: { type: "integer", minimum: 1000, maximum: 7 * 24 * 3600 * 1000, default: 60000 } },
          },
        },
      },
      async (request) => ({ bucketMs: request.query.bucket, buckets: await countBuckets(db, toFilter(request.query), request.query.bucket) }),
    );

    app.get<{ Params: { enforcer: string; seq: number } }>(
      "/api/admin/events/:enforcer/:seq",
      { schema: { params: { type: "object", properties: { enforcer: { type: "string", maxLength: 64 }, seq: { type: "integer", minimum: 1 } } } } },
      async (request) => {
        const stored = await getEvent(db, request.params.enforcer, request.params.seq);
        if (stored === null) throw new HttpError(404, `no event ${request.params.seq} from enforcer ${request.params.enforcer}`);
        return { ...stored, ancestry: await ancestry(db, stored) };
      },
    );
  };
}
