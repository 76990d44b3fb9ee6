// The page: one HTML document, its script and its style, under a Content-Security-Policy that
// allows no inline script (a second wall behind the escaping the script does).

import type { FastifyInstance } from "fastify";
import { PAGE_CSS } from "../page/style.js";
import { PAGE_HTML } from "../page/index-html.js";
import { PAGE_JS } from "../page/client.js";

const CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

export async function pageRoutes(app: FastifyInstance): Promise<void> {
  const send = (body: string, type: string) => async (_request: unknown, reply: import("fastify").FastifyReply) =>
    reply.type(type).header("content-security-policy", CSP).header("cache-control", "no-cache").send(body);
  app.get("/", send(PAGE_HTML, "text/html; charset=utf-8"));
  app.get("/app.js", send(PAGE_JS, "text/javascript; charset=utf-8"));
  app.get("/style.css", send(PAGE_CSS, "text/css; charset=utf-8"));
}
