// Basic credentials go with the first requests over TLS (one round trip less than waiting for
// each request's 401); tokens never do, and a Bearer challenge ends it.

import { describe, expect, it } from "vitest";
import { Authorizer } from "../../src/registry/auth.js";
import type { Credential } from "../../src/registry/credentials.js";
import { Transport } from "../../src/registry/http.js";

const basic: Credential = { kind: "basic", username: "u", password: "p", source: "test" };
const authorizer = (credential: Credential | null | Error) =>
  new Authorizer("r.example", new Transport(), () => (credential instanceof Error ? Promise.reject(credential) : Promise.resolve(credential)));

describe("preemptive Basic credentials", () => {
  it("a username and password are sent before any challenge", async () => {
    await expect(authorizer(basic).preemptiveHeader()).resolves.toBe(`Basic ${Buffer.from("u:p").toString("base64")}`);
  });

  it("tokens, no credentials and a failed lookup send nothing ahead", async () => {
    await expect(authorizer({ kind: "bearer", token: "t", source: "test" }).preemptiveHeader()).resolves.toBeUndefined();
    await expect(authorizer({ kind: "identity-token", token: "t", source: "test" }).preemptiveHeader()).resolves.toBeUndefined();
    await expect(authorizer(null).preemptiveHeader()).resolves.toBeUndefined();
    await expect(authorizer(new Error("helper failed")).preemptiveHeader()).resolves.toBeUndefined();
  });

  it("after a Bearer challenge nothing more is sent ahead", async () => {
    const a = new Authorizer("r.example", new Transport({ retry: { attempts: 1, baseDelayMs: 0, maxDelayMs: 0 } }), () => Promise.resolve(basic));
    // The token service refuses the connection: the challenge is known all the same.
    await expect(a.authorize('Bearer realm="http://127.0.0.1:1/token"', ["repository:x:pull"], undefined)).rejects.toThrow();
    await expect(a.preemptiveHeader()).resolves.toBeUndefined();
  });

  it("a rejected preemptive password is reported as rejected, not asked again", async () => {
    const a = authorizer(basic);
    const sent = await a.preemptiveHeader();
    await expect(a.authorize('Basic realm="x"', [], sent)).rejects.toThrow(/rejected the username "u"/);
  });
});
