// What both transports (HTTP/1.1 in http.ts, HTTP/2 in http2.ts) do with an answer, and the error
// they raise when the server stays silent.

import type { IncomingHttpHeaders } from "node:http";
import type { Readable } from "node:stream";
import { RegistryError } from "./errors.js";
import type { HttpRequest, HttpResponse } from "./http.js";

/**
 * Resolves with the response: a 2xx the caller asked to stream hands over `body` itself, paused and unread;
 * anything else is read whole, and destroyed (with a bad-response error) beyond `limit` bytes.
 */
export function settleResponse(
  body: Readable,
  status: number,
  headers: IncomingHttpHeaders,
  req: HttpRequest,
  limit: number,
  resolve: (response: HttpResponse) => void,
): void {
  if (req.streamResponse === true && status >= 200 && status < 300) {
    body.pause();
    resolve({ status, headers, body: Buffer.alloc(0), url: req.url, stream: body });
    return;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  body.on("data", (chunk: Buffer) => {
    size += chunk.length;
    if (size > limit) {
      body.destroy(new RegistryError("bad-response", `${req.method} ${req.url}: response larger than ${limit} bytes`));
      return;
    }
    chunks.push(chunk);
  });
  body.on("end", () => resolve({ status, headers, body: Buffer.concat(chunks), url: req.url }));
}

/** An attempt that got no answer in time: retried like a dropped connection (ERR_ATTEMPT_TIMEOUT). */
export function attemptTimeout(ms: number): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(`no answer within ${ms} ms`);
  error.code = "ERR_ATTEMPT_TIMEOUT";
  return error;
}
