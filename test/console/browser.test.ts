// The page in a real browser (Debian's Chromium through playwright-core) against a console on a
// real port: sign in, see an ingested blocked event whose argv is an XSS payload shown as text,
// its detail with the ancestry, and a policy edit whose error appears live.

import { existsSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import type { BrowserContext } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveConfig } from "../../src/console/config.js";
import type { RunningConsole } from "../../src/console/server.js";
import { startConsole } from "../../src/console/server.js";
import { ADMIN, execEvent } from "./helpers.js";
import { startReceiver } from "./webhook-receiver.js";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";

const CHROMIUM = "/usr/bin/chromium";
const XSS_ARGV = `<img src=x onerror="window.__xss=1;alert(1)">`;
const XSS_PATH = `/tmp/<script>window.__xss=2</script>`;
const POLICY = "apiVersion: vigil/v1\nkind: Policy\nmetadata: { name: web }\nspec:\n  exec:\n    allow: [\"/bin/*\"]\n";

describe.skipIf(!existsSync(CHROMIUM))("the console page in Chromium", () => {
  let dir: string;
  let running: RunningConsole;
  let context: BrowserContext;

  async function call(method: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: unknown; headers: Headers }> {
    const res = await fetch(`${running.url}${path}`, { method, headers: { ...(body === undefined ? {} : { "content-type": "application/json" }), ...headers }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text === "" ? null : JSON.parse(text), headers: res.headers };
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "vigil-browser-"));
    running = await startConsole(resolveConfig({ db: `sqlite:${join(dir, "console.db")}`, listen: "127.0.0.1:0" }, {}), false);
    // Admin, token, an enforcer and its events, over real HTTP.
    const setup = await call("POST", "/api/admin/setup", { ...ADMIN, setupCode: running.setupCode });
    expect(setup.status).toBe(201);
    const auth = { cookie: (setup.headers.get("set-cookie") ?? "").split(";")[0] ?? "", "x-csrf-token": (setup.json as { csrfToken: string }).csrfToken };
    const token = (await call("POST", "/api/admin/tokens", { name: "web", group: "web-prod" }, auth)).json as { token: string };
    const reg = (await call("POST", "/api/v1/enforcer/register", { protocol: 1, instance: "browser-test-instance-1", taskArn: "arn:aws:ecs:eu-west-1:1:task/c/<b>bold</b>", container: "web", image: "web:1", version: "0.1.0", arch: "amd64", mode: "enforce" }, { authorization: `Bearer ${token.token}` })).json as { enforcerKey: string };
    const now = Date.now();
    const t = (ms: number) => new Date(now - ms).toISOString();
    const events = [
      execEvent({ time: t(5000), pid: 7, ppid: 1, exe: "/bin/bash", argv: ["bash", "-i"], verdict: "allowed", rule: "exec.allow[0]" }),
      execEvent({ time: t(3000), pid: 9, ppid: 7, exe: "/usr/bin/nc", argv: ["nc", XSS_ARGV] }),
      { vigil: 1, time: t(2000), kind: "file", verdict: "alert", rule: "files.readOnly[0]", pid: 7, ppid: 1, uid: 0, exe: "/bin/bash", argv: ["bash"], argvTruncated: false, cwd: "/", path: XSS_PATH, operation: "open-write", pattern: "/tmp/**" },
    ];
    const sent = await call("POST", "/api/v1/enforcer/events", { seq: 1, events }, { authorization: `Bearer ${reg.enforcerKey}` });
    expect(sent.json).toMatchObject({ accepted: 3 });
    expect((await call("POST", "/api/admin/policies", { name: "web", source: POLICY }, auth)).status).toBe(201);

    context = await chromium.launchPersistentContext(join(dir, "profile"), {
      executablePath: CHROMIUM,
      headless: true,
      args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
    });
  }, 60_000);

  afterAll(async () => {
    await context?.close();
    await running?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("signs in, shows the blocked event with its argv escaped, the detail and ancestry, and live policy errors", async () => {
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await page.goto(`${running.url}/`);

    // Sign in.
    await page.fill("#login-form input[name=username]", ADMIN.username);
    await page.fill("#login-form input[name=password]", "wrong password!");
    await page.click("#login-form button[type=submit]");
    await expect.poll(() => page.textContent("#auth-error")).toBe("wrong username or password");
    await page.fill("#login-form input[name=password]", ADMIN.password);
    await page.click("#login-form button[type=submit]");
    await page.waitForSelector("#fleet");
    expect(await page.textContent("#fleet")).toContain("<b>bold</b>");
    expect(await page.locator("#fleet b").count()).toBe(0);

    // The events timeline: the blocked event, argv as text, the chart.
    await page.click("nav button[data-view=events]");
    await page.waitForSelector("#events tbody tr");
    const rows = page.locator("#events tbody tr");
    expect(await rows.count()).toBe(3);
    const blocked = rows.filter({ hasText: "blocked" });
    expect(await blocked.count()).toBe(1);
    expect(await blocked.textContent()).toContain(`nc ${XSS_ARGV}`);
    expect(await page.textContent("#events")).toContain(XSS_PATH);
    expect(await page.locator("#chart svg rect.blocked").count()).toBeGreaterThan(0);
    await page.selectOption("#event-filters select[name=verdict]", "blocked");
    await page.click("#event-filters button[type=submit]");
    await expect.poll(() => page.locator("#events tbody tr").count()).toBe(1);

    // The detail: each argument as text, the ancestry from the ppid chain.
    if (process.env.VIGIL_SCREENSHOTS !== undefined) await page.screenshot({ path: join(process.env.VIGIL_SCREENSHOTS, "events.png"), fullPage: true });
    await page.click("#events tbody tr");
    await page.waitForSelector("#argv");
    if (process.env.VIGIL_SCREENSHOTS !== undefined) await page.screenshot({ path: join(process.env.VIGIL_SCREENSHOTS, "detail.png"), fullPage: true });
    expect(await page.locator("#argv li").allTextContents()).toEqual(["nc", XSS_ARGV]);
    const ancestry = await page.locator("#ancestry li").allTextContents();
    expect(ancestry[0]).toContain("pid 9 /usr/bin/nc");
    expect(ancestry[1]).toContain("pid 7 /bin/bash");

    // Nothing the attacker wrote ran or became markup.
    expect(await page.locator("main img, main script").count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();
    expect(dialogs).toEqual([]);

    // Policies: a live error while typing, gone when fixed, then saved as version 2.
    await page.click("nav button[data-view=policies]");
    await page.waitForSelector("#policy-source");
    await expect.poll(() => page.textContent("#diagnostics")).toContain("no problems");
    await page.fill("#policy-source", POLICY.replace('"/bin/*"', "bin/sh"));
    await expect.poll(() => page.textContent("#diagnostics pre.diag")).toMatch(/^web\.yaml:6:\d+: error: spec\.exec\.allow\[0\]/);
    expect(await page.isDisabled("#save-policy")).toBe(true);
    await page.fill("#policy-source", POLICY.replace('"/bin/*"', '"/bin/*", "/usr/bin/env"'));
    await expect.poll(() => page.textContent("#diagnostics")).toContain("no problems");
    await page.click("#save-policy");
    await expect.poll(() => page.locator("#history tr").count()).toBe(2);
    if (process.env.VIGIL_SCREENSHOTS !== undefined) await page.screenshot({ path: join(process.env.VIGIL_SCREENSHOTS, "policies.png"), fullPage: true });
  });

  it("settings: adds a webhook and sends a test message; creates, uses and revokes an API token", async () => {
    const receiver = await startReceiver();
    const page = await context.newPage();
    try {
      // Signed in already when the first test ran (its session cookie); otherwise sign in.
      await page.goto(`${running.url}/`);
      await page.waitForSelector("#login-form, nav:not([hidden])");
      if ((await page.locator("#login-form").count()) > 0) {
        await page.fill("#login-form input[name=username]", ADMIN.username);
        await page.fill("#login-form input[name=password]", ADMIN.password);
        await page.click("#login-form button[type=submit]");
      }
      await page.click("nav button[data-view=settings]");
      await page.waitForSelector("#webhook-form");

      // A URL that is not http(s) is refused with the reason.
      await page.fill("#webhook-form input[name=url]", "ftp://example.com/hook");
      await page.click("#webhook-form button[type=submit]");
      await expect.poll(() => page.textContent("#webhook-message")).toMatch(/must be https:\/\/ or http:\/\//);
      await page.fill("#webhook-form input[name=url]", receiver.url);
      await page.click("#webhook-form button[type=submit]");
      await expect.poll(() => page.locator("#webhooks tbody tr").count()).toBe(1);
      expect(await page.textContent("#webhooks")).not.toContain("secretpart");
      await page.click("#webhooks button.test-webhook");
      await expect.poll(() => page.textContent("#webhook-message")).toBe("Test message delivered (HTTP 200)");
      expect(receiver.delivered).toHaveLength(1);
      expect(receiver.delivered[0]?.body.text).toContain("test message from the console");

      // An API token: shown once, works without a session, refused once revoked. Its name is text.
      const evilName = `<img src=x onerror="window.__xss=3">`;
      await page.fill("#api-token-form input[name=name]", evilName);
      await page.fill("#api-token-form input[name=expiresInDays]", "30");
      await page.click("#api-token-form button[type=submit]");
      await page.waitForSelector("#new-api-token code");
      const token = (await page.textContent("#new-api-token code")) ?? "";
      expect(token).toMatch(/^vat_[0-9a-f]{12}_[A-Za-z0-9_-]{43}$/);
      expect(await page.locator("#api-tokens tbody tr").count()).toBe(1);
      expect(await page.textContent("#api-tokens")).toContain(evilName);
      expect(await page.locator("main img").count()).toBe(0);
      const asBot = () => call("GET", "/api/admin/events", undefined, { authorization: `Bearer ${token}` });
      expect((await asBot()).status).toBe(200);
      if (process.env.VIGIL_SCREENSHOTS !== undefined) await page.screenshot({ path: join(process.env.VIGIL_SCREENSHOTS, "settings.png"), fullPage: true });
      await page.click("#api-tokens button.revoke-api-token");
      await expect.poll(() => page.textContent("#api-tokens tbody tr")).toContain("revoked");
      expect(await page.isVisible("#new-api-token")).toBe(false);
      expect((await asBot()).status).toBe(401);
      expect(await page.evaluate(() => (globalThis as unknown as { __xss?: number }).__xss)).toBeUndefined();

      // Removing the webhook.
      await page.click("#webhooks button.remove-webhook");
      await expect.poll(() => page.locator("#webhooks tbody tr").count()).toBe(0);
    } finally {
      await page.close();
      await receiver.close();
    }
  });
});
