// The enforcer side of docs/console-protocol.md (version 1): register, policy, events.

import type { FastifyInstance, FastifyRequest } from "fastify";
import { eventSchema } from "../../events/schema.js";
import type { VigilEvent } from "../../events/schema.js";
import type { ConsoleContext } from "../context.js";
import type { Enforcer } from "../repositories/enforcers.js";
import { authenticateEnforcer, registerEnforcer, setPolicyInForce } from "../repositories/enforcers.js";
import { ingestBatch } from "../repositories/events.js";
import { policyForGroup } from "../repositories/policies.js";
import { authenticateToken } from "../repositories/tokens.js";
import { HttpError } from "../plugins/errors.js";

export const PROTOCOL_VERSION = 1;
export const MAX_BATCH_EVENTS = 1000;
export const MAX_BATCH_BYTES = 1024 * 1024;
const PREFIX = "/api/v1/enforcer";

function bearer(request: FastifyRequest): string {
  const header = request.headers.authorization;
  const m = header === undefined ? null : /^Bearer (\S+)$/.exec(header);
  if (m === null) throw new HttpError(401, "missing Authorization: Bearer credential");
  return m[1] ?? "";
}

const short = { type: ["string", "null"], maxLength: 256 } as const;
const long = { type: ["string", "null"], maxLength: 1024 } as const;
const registerBody = {
  type: "object",
  required: ["protocol", "instance", "version", "arch"],
  additionalProperties: true,
  properties: {
    protocol: { type: "integer" },
    instance: { type: "string", pattern: "^[A-Za-z0-9._-]{16,64}$" },
    taskArn: long,
    container: short,
    image: long,
    version: { type: "string", minLength: 1, maxLength: 64 },
    arch: { type: "string", enum: ["amd64", "arm64"] },
    mode: { type: ["string", "null"], enum: ["enforce", "audit", null] },
    policyDigest: { type: ["string", "null"], pattern: "^[0-9a-f]{64}$" },
    hostname: short,
  },
} as const;

interface RegisterBody {
  protocol: number;
  instance: string;
  taskArn?: string | null;
  container?: string | null;
  image?: string | null;
  version: string;
  arch: string;
  mode?: string | null;
  policyDigest?: string | null;
  hostname?: string | null;
}

const eventsBody = {
  type: "object",
  required: ["seq", "events"],
  additionalProperties: false,
  properties: {
    seq: { type: "integer", minimum: 1, maximum: 2 ** 52 },
    events: { type: "array", maxItems: MAX_BATCH_EVENTS, items: { type: "object" } },
  },
} as const;

export function enforcerApi(ctx: ConsoleContext) {
  const { db } = ctx;
  const authenticated = async (request: FastifyRequest): Promise<Enforcer> => {
    const enforcer = await authenticateEnforcer(db, bearer(request));
    if (enforcer === null) throw new HttpError(401, "unknown or revoked enforcer key: register again");
    return enforcer;
  };

  return async function routes(app: FastifyInstance): Promise<void> {
    app.post<{ Body: RegisterBody }>(`${PREFIX}/register`, { schema: { body: registerBody } }, async (request, reply) => {
      const token = await authenticateToken(db, bearer(request));
      if (token === null) throw new HttpError(401, "unknown, malformed or revoked enrollment token (VIGIL_TOKEN)");
      const b = request.body;
      if (b.protocol !== PROTOCOL_VERSION) {
        return reply.code(409).send({ error: `protocol ${b.protocol} is not supported`, statusCode: 409, supported: [PROTOCOL_VERSION] });
      }
      const { enforcer, key } = await registerEnforcer(db, token, {
        instance: b.instance,
        taskArn: b.taskArn ?? null,
        container: b.container ?? null,
        image: b.image ?? null,
        version: b.version,
        arch: b.arch,
        mode: b.mode ?? null,
        policyDigest: b.policyDigest ?? null,
        hostname: b.hostname ?? null,
      });
      return {
        protocol: PROTOCOL_VERSION,
        enforcerId: enforcer.id,
        enforcerKey: key,
        group: enforcer.group,
        nextSeq: enforcer.maxSeq + 1,
        policy: { path: `${PREFIX}/policy`, pollSeconds: ctx.pollSeconds },
        events: { path: `${PREFIX}/events`, maxBatchEvents: MAX_BATCH_EVENTS, maxBatchBytes: MAX_BATCH_BYTES },
      };
    });

    app.get(`${PREFIX}/policy`, { schema: { headers: { type: "object", properties: { "if-none-match": { type: "string", maxLength: 200 } } } } }, async (request, reply) => {
      const enforcer = await authenticated(request);
      reply.header("x-vigil-poll-seconds", String(ctx.pollSeconds));
      reply.header("cache-control", "no-store");
      const inForce = /^"([0-9a-f]{64})"$/.exec(request.headers["if-none-match"] ?? "")?.[1] ?? null;
      if (inForce !== null && inForce !== enforcer.policyDigest) await setPolicyInForce(db, enforcer.id, inForce);
      const policy = await policyForGroup(db, enforcer.group);
      if (policy === null) return reply.code(204).send();
      reply.header("etag", `"${policy.digest}"`);
      if (inForce === policy.digest) return reply.code(304).send();
      return reply.type("text/plain; charset=utf-8").send(policy.compiled);
    });

    app.post<{ Body: { seq: number; events: unknown[] } }>(`${PREFIX}/events`, { schema: { body: eventsBody } }, async (request) => {
      const enforcer = await authenticated(request);
      const { seq, events } = request.body;
      const valid: VigilEvent[] = [];
      const details: { index: number; message: string }[] = [];
      events.forEach((raw, index) => {
        const parsed = eventSchema.safeParse(raw);
        if (parsed.success) valid.push(parsed.data);
        else details.push({ index, message: parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(event)"}: ${i.message}`).join("; ") });
      });
      if (details.length > 0) {
        ctx.metrics.batchesRefused++;
        throw new HttpError(400, `${details.length} of ${events.length} events do not match the event schema; nothing stored`, details.slice(0, 20));
      }
      const result = await ingestBatch(db, enforcer.id, seq, valid);
      ctx.metrics.eventsIngested += result.accepted;
      ctx.metrics.eventsDuplicate += result.duplicates;
      ctx.metrics.gapsRecorded += result.newGaps;
      // Delivery happens in the alert loop; this only asks it to look soon.
      if (result.alerts > 0) ctx.alerts.nudge();
      return { accepted: result.accepted, duplicates: result.duplicates, nextSeq: result.nextSeq, gaps: result.gaps };
    });
  };
}
