// The pure parts of alerting: Slack escaping, the messages, the retry schedule, URL checks.

import { describe, expect, it } from "vitest";
import { nextState } from "../../src/console/alerts/dispatcher.js";
import { redactUrl, webhookUrlProblem } from "../../src/console/alerts/deliver.js";
import { alertMessage, code, heldMessage, mrkdwn } from "../../src/console/alerts/slack.js";

const outcome = { ok: false, status: 503, error: "HTTP 503", permanent: false, retryAfterMs: null, aborted: false };
const settings = { maxAttempts: 4, retryBaseMs: 1000 };

describe("alert messages", () => {
  it("escapes for Slack mrkdwn: entities, visible control characters, bounded length, safe code spans", () => {
    expect(mrkdwn("<!channel> & <@U1> <http://x|y>")).toBe("&lt;!channel&gt; &amp; &lt;@U1&gt; &lt;http://x|y&gt;");
    expect(mrkdwn("a\nb\tc\rd\u0007e\u2028")).toBe("a\\nb\\tc\\rd\\x07e\\x2028");
    expect(mrkdwn("x".repeat(700))).toBe(`${"x".repeat(600)}…`);
    expect(code("a`b")).toBe("`a\u02cbb`");
  });

  it("a blocked exec: headline, command, rule, task; Slack's text and blocks", () => {
    const m = alertMessage(
      { group: "web", container: null, taskArn: null, enforcerId: "e_1", seq: 3, kind: "exec", verdict: "blocked", rule: "exec.deny[0]", exe: "/bin/nc", sample: { argv: ["nc", "-l"], time: "t" } },
      2,
    );
    expect(m.text).toBe("Vigil Blocked: exec by `/bin/nc` in *web* (2 times) — `nc -l`");
    expect(m.blocks).toHaveLength(3);
    expect(JSON.stringify(m.blocks)).toContain("enforcer e_1 · event 3 · t");
    expect(heldMessage(1, 5, 10).text).toBe("Vigil: 1 more alert message (5 events) held back by the rate limit of 10 messages a minute; see the console's events page.");
  });

  it("retries with exponential backoff, gives up after the last attempt or on a permanent refusal", () => {
    expect(nextState({ ...outcome, ok: true, error: null, status: 200 }, 1, settings, 0)).toEqual({ state: "delivered" });
    expect(nextState(outcome, 1, settings, 0, 0.5)).toEqual({ state: "retry", error: "HTTP 503", at: 1000 });
    expect(nextState(outcome, 3, settings, 0, 0.5)).toEqual({ state: "retry", error: "HTTP 503", at: 4000 });
    expect(nextState({ ...outcome, status: 429, retryAfterMs: 30_000 }, 1, settings, 0, 0.5)).toMatchObject({ at: 30_000 });
    expect(nextState(outcome, 4, settings, 0)).toEqual({ state: "failed", error: "HTTP 503 (attempt 4 of 4)" });
    expect(nextState({ ...outcome, status: 404, error: "HTTP 404", permanent: true }, 1, settings, 0)).toEqual({ state: "failed", error: "HTTP 404 (attempt 1 of 4)" });
    expect(nextState({ ...outcome, aborted: true }, 1, settings, 0)).toEqual({ state: "released" });
  });

  it("checks and redacts webhook URLs", () => {
    expect(webhookUrlProblem("https://hooks.slack.com/services/T/B/X")).toBeNull();
    expect(webhookUrlProblem("gopher://x")).toBe("webhook URL: must be https:// or http://; received gopher://");
    expect(webhookUrlProblem("/relative")).toBe('webhook URL: not a URL: "/relative"');
    expect(redactUrl("https://hooks.slack.com/services/T0/B0/abcdefgh1234")).toBe("https://hooks.slack.com/…1234");
    expect(redactUrl("http://127.0.0.1:9/x")).toBe("http://127.0.0.1:9/x");
  });
});
