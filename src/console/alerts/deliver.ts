// One POST of a webhook message: bounded in time, no redirects followed, and an outcome that says
// whether trying again can help (a 404 or 400 will not get better; a timeout, 5xx or 429 may).

export interface DeliveryOutcome {
  ok: boolean;
  status: number | null;
  /** Why it failed, for the log and the page (never the response body beyond 200 characters). */
  error: string | null;
  /** Retrying cannot help (4xx other than 408 and 429, a redirect). */
  permanent: boolean;
  /** From a 429's Retry-After, when given in seconds. */
  retryAfterMs: number | null;
  /** The caller aborted (console shutting down): not a failure of the receiver. */
  aborted: boolean;
}

/** Null when `text` is a usable webhook URL; otherwise what is wrong with it. */
export function webhookUrlProblem(text: string): string | null {
  if (text.length > 2048) return "webhook URL: at most 2048 characters";
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `webhook URL: not a URL: ${JSON.stringify(text.slice(0, 100))}`;
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return `webhook URL: must be https:// or http://; received ${url.protocol}//`;
  if (url.hostname === "") return "webhook URL: no host";
  return null;
}

/** The URL as shown on the page: a Slack webhook URL's path is its secret, so only its end is shown. */
export function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    const rest = `${url.pathname}${url.search}`;
    return rest.length <= 8 ? `${url.origin}${rest}` : `${url.origin}/…${rest.slice(-4)}`;
  } catch {
    return "(invalid URL)";
  }
}

async function snippet(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return "";
  try {
    const { value } = await reader.read();
    return value === undefined ? "" : Buffer.from(value).toString("utf8", 0, Math.min(value.length, 200));
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } }).cause;
  if (cause !== undefined && typeof cause.code === "string") return cause.code;
  if (cause !== undefined && typeof cause.message === "string") return cause.message;
  return error instanceof Error ? error.message : String(error);
}

export async function postWebhook(url: string, body: string, timeoutMs: number, stop?: AbortSignal): Promise<DeliveryOutcome> {
  const timeout = AbortSignal.timeout(timeoutMs);
  const signal = stop === undefined ? timeout : AbortSignal.any([timeout, stop]);
  const none = { status: null, permanent: false, retryAfterMs: null, aborted: false };
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json", "user-agent": "vigil-console" },
      body,
      redirect: "manual",
      signal,
    });
    const text = await snippet(res);
    if (res.status >= 200 && res.status < 300) return { ...none, ok: true, status: res.status, error: null };
    const seconds = Number(res.headers.get("retry-after"));
    return {
      ok: false,
      status: res.status,
      error: `HTTP ${res.status}${text === "" ? "" : `: ${text.trim()}`}`,
      permanent: res.status < 500 && res.status !== 408 && res.status !== 429,
      retryAfterMs: res.status === 429 && Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : null,
      aborted: false,
    };
  } catch (error) {
    if (stop?.aborted === true) return { ...none, ok: false, error: "console stopping", aborted: true };
    if (timeout.aborted) return { ...none, ok: false, error: `no answer within ${timeoutMs} ms` };
    return { ...none, ok: false, error: causeOf(error) };
  }
}
