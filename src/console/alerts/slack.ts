// Slack-compatible webhook messages (`{"text", "blocks"}`), built by pure functions. Every string
// an attacker controls (argv, paths, executables, addresses, group and container names) goes
// through mrkdwn(): `&`, `<`, `>` become entities, so `<!channel>`, `<@U123>` or `<http://x|y>`
// cannot mention anyone or forge a link; control characters show escaped; lengths are bounded.

export type AlertVerdict = "blocked" | "alert";

/** One deduplicated alert: the key (group, kind, rule, executable) and a sample event. */
export interface Alert {
  group: string;
  container: string | null;
  taskArn: string | null;
  enforcerId: string;
  seq: number;
  kind: string;
  verdict: AlertVerdict;
  rule: string;
  exe: string;
  /** The sample event as stored (argv, path, address… read from it). */
  sample: Record<string, unknown>;
}

export interface SlackMessage {
  text: string;
  blocks: unknown[];
}

const MAX_FIELD = 600;

/** Text safe inside Slack mrkdwn: entities for & < >, control characters as \n \t \xNN, bounded. */
export function mrkdwn(text: string, max = MAX_FIELD): string {
  const visible = text.replace(/[\u0000-\u001f\u007f\u2028\u2029]/g, (c) => {
    if (c === "\n") return "\\n";
    if (c === "\t") return "\\t";
    if (c === "\r") return "\\r";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
  const bounded = visible.length > max ? `${visible.slice(0, max)}…` : visible;
  return bounded.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

/** An inline code span; a backtick inside would end it, so it shows as ˋ (U+02CB). */
export function code(text: string, max = MAX_FIELD): string {
  return `\`${mrkdwn(text, max).replace(/`/g, "\u02cb")}\``;
}

function str(v: unknown): string | null {
  return typeof v === "string" ? v : null;
}

/** What the event was about: the command line, the path, the address. */
export function subjectOf(alert: Alert): string {
  const s = alert.sample;
  if (typeof s.path === "string") return `${s.path}${typeof s.operation === "string" ? ` (${s.operation})` : ""}`;
  if (typeof s.address === "string") return `${s.address}:${String(s.port)}`;
  if (Array.isArray(s.argv)) return s.argv.map((a) => String(a)).join(" ");
  return alert.exe;
}

function where(alert: Alert): string {
  return `${mrkdwn(alert.group, 128)}${alert.container === null ? "" : ` / ${mrkdwn(alert.container, 128)}`}`;
}

function headline(alert: Alert): string {
  const what = alert.verdict === "blocked" ? "Blocked" : "Alert";
  return `${what}: ${alert.kind} by ${code(alert.exe, 256)} in *${where(alert)}*`;
}

function times(n: number): string {
  return n === 1 ? "once" : `${n} times`;
}

function details(alert: Alert): unknown[] {
  const fields = [
    { type: "mrkdwn", text: `*Rule*\n${code(alert.rule || "(none)", 128)}` },
    { type: "mrkdwn", text: `*Verdict*\n${alert.verdict}` },
    { type: "mrkdwn", text: `*${alert.kind === "exec" ? "Command" : "Target"}*\n${code(subjectOf(alert))}` },
    { type: "mrkdwn", text: `*Task*\n${alert.taskArn === null ? "—" : code(alert.taskArn, 256)}` },
  ];
  const time = str(alert.sample.time) ?? "";
  return [
    { type: "section", fields },
    { type: "context", elements: [{ type: "mrkdwn", text: `enforcer ${mrkdwn(alert.enforcerId, 64)} · event ${alert.seq} · ${mrkdwn(time, 40)}` }] },
  ];
}

/** The first occurrence of an alert in its dedup window (count: events in that first batch). */
export function alertMessage(alert: Alert, count: number): SlackMessage {
  const line = `${headline(alert)} (${times(count)}) — ${code(subjectOf(alert), 200)}`;
  return { text: `Vigil ${line}`, blocks: [{ type: "section", text: { type: "mrkdwn", text: line } }, ...details(alert)] };
}

/** The same alert again within the dedup window: one message with the count. */
export function repeatMessage(alert: Alert, count: number, windowMs: number): SlackMessage {
  const line = `${headline(alert)}: ${times(count)} more in the last ${Math.round(windowMs / 60000)} min — latest ${code(subjectOf(alert), 200)}`;
  return { text: `Vigil ${line}`, blocks: [{ type: "section", text: { type: "mrkdwn", text: line } }, ...details(alert)] };
}

/** Alerts held back by the rate limit, summarized in one message. */
export function heldMessage(messages: number, events: number, perMinute: number): SlackMessage {
  const line = `Vigil: ${messages} more alert message${messages === 1 ? "" : "s"} (${events} event${events === 1 ? "" : "s"}) held back by the rate limit of ${perMinute} messages a minute; see the console's events page.`;
  return { text: line, blocks: [{ type: "section", text: { type: "mrkdwn", text: line } }] };
}

export function testMessage(by: string): SlackMessage {
  const line = `Vigil: test message from the console (sent by ${mrkdwn(by, 128)}). Blocked events will be reported here.`;
  return { text: line, blocks: [{ type: "section", text: { type: "mrkdwn", text: line } }] };
}
