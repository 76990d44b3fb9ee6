// What the demo's console holds once the enforcer has shipped its events, read through the admin
// API as the page reads it: waits (bounded) until the enforcer's last event (lifecycle exit) and
// as many events as it wrote locally are stored, then counts them by verdict.

import type { VigilEvent, Verdict } from "../events/schema.js";
import type { AdminClient } from "./admin-client.js";

export interface ConsoleView {
  /** True when the console holds the exit event and at least the events written locally. */
  complete: boolean;
  total: number;
  byVerdict: Record<Verdict, number>;
  /** Blocked events, oldest first. */
  blocked: VigilEvent[];
  enforcers: { group: string; protection: string }[];
}

const POLL_MS = 250;

export async function waitForConsoleView(
  client: AdminClient,
  expected: number,
  timeoutMs: number,
  interrupted: () => boolean,
): Promise<ConsoleView> {
  const until = Date.now() + timeoutMs;
  let complete = false;
  while (!interrupted()) {
    const lifecycle = await client.events({ kind: "lifecycle" });
    const all = await client.events({}, 1);
    complete = all.total >= expected && lifecycle.events.some((s) => "event" in s.event && s.event.event === "exit");
    if (complete || Date.now() >= until) break;
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
  const count = async (verdict: Verdict): Promise<number> => (await client.events({ verdict }, 1)).total;
  const [total, allowed, blocked, alert] = await Promise.all([client.events({}, 1), count("allowed"), count("blocked"), count("alert")]);
  const blockedEvents = (await client.events({ verdict: "blocked" }, 50)).events.map((s) => s.event).reverse();
  return {
    complete,
    total: total.total,
    byVerdict: { allowed, blocked, alert },
    blocked: blockedEvents,
    enforcers: (await client.enforcers()).map((e) => ({ group: e.group, protection: e.protection })),
  };
}
