// The one error handler: clear 4xx messages for bad input, and 5xx answers that never carry
// internals (the details go to the log only).

import type { FastifyError, FastifyInstance } from "fastify";

/** A refusal with a status code and a message meant for the client. */
export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | HttpError, request, reply) => {
    if (error instanceof HttpError) {
      return reply.code(error.statusCode).send({ error: error.message, statusCode: error.statusCode, ...(error.details === undefined ? {} : { details: error.details }) });
    }
    if (error.validation !== undefined) {
      const details = error.validation.map((v) => ({ field: `${error.validationContext ?? ""}${v.instancePath}`, message: v.message ?? "invalid" }));
      return reply.code(400).send({ error: `invalid request: ${error.message}`, statusCode: 400, details });
    }
    const status = typeof error.statusCode === "number" ? error.statusCode : 500;
    if (status >= 400 && status < 500) return reply.code(status).send({ error: error.message, statusCode: status });
    request.log.error({ err: error }, "request failed");
    return reply.code(500).send({ error: "internal error", statusCode: 500 });
  });
  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `no route ${request.method} ${request.url.split("?")[0] ?? ""}`, statusCode: 404 }));
}
