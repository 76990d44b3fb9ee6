// The alert loop of one replica: every tick (and soon after a batch with alerts), fan recorded
// alerts out into webhook messages and post the due ones. It runs beside request handling, never
// inside it: ingest only writes rows and nudges; a slow or dead receiver delays nothing but its
// own messages. Attempts are bounded in time (timeoutMs) and number (maxAttempts), with backoff.

import type { Db } from "../db/database.js";
import type { DeliveryState, OutboxMessage } from "../repositories/alerts.js";
import { claimDeliveries, fanOut, finishDelivery } from "../repositories/alerts.js";
import type { DeliveryOutcome } from "./deliver.js";
import { postWebhook } from "./deliver.js";

export interface AlertSettings {
  windowMs: number;
  perMinute: number;
  tickMs: number;
  timeoutMs: number;
  maxAttempts: number;
  /** First retry after this; doubled each attempt, at most MAX_BACKOFF_MS. */
  retryBaseMs: number;
  /** Messages posted at once by one replica. */
  parallel: number;
}

export const DEFAULT_ALERT_SETTINGS: AlertSettings = {
  windowMs: 10 * 60 * 1000,
  perMinute: 10,
  tickMs: 1000,
  timeoutMs: 5000,
  maxAttempts: 6,
  retryBaseMs: 2000,
  parallel: 8,
};

const MAX_BACKOFF_MS = 5 * 60 * 1000;

export interface DeliveryCounters {
  webhookDeliveriesOk: number;
  webhookDeliveriesFailed: number;
}

/** What to do with a message after an attempt (pure: the tests pin the backoff). */
export function nextState(outcome: DeliveryOutcome, attempts: number, s: Pick<AlertSettings, "maxAttempts" | "retryBaseMs">, now: number, random = Math.random()): DeliveryState {
  if (outcome.ok) return { state: "delivered" };
  if (outcome.aborted) return { state: "released" };
  const error = outcome.error ?? "failed";
  if (outcome.permanent || attempts >= s.maxAttempts) return { state: "failed", error: `${error} (attempt ${attempts} of ${s.maxAttempts})` };
  const backoff = Math.min(MAX_BACKOFF_MS, s.retryBaseMs * 2 ** (attempts - 1)) * (0.8 + 0.4 * random);
  return { state: "retry", error, at: Math.round(now + Math.max(backoff, Math.min(outcome.retryAfterMs ?? 0, MAX_BACKOFF_MS))) };
}

export class AlertDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private stopped = false;
  private readonly stopping = new AbortController();

  constructor(
    private readonly db: Db,
    readonly settings: AlertSettings,
    private readonly counters: DeliveryCounters,
    private readonly log: (message: string, error: unknown) => void,
  ) {}

  start(): void {
    if (this.timer !== null || this.stopped) return;
    this.timer = setInterval(() => this.nudge(), this.settings.tickMs);
    this.timer.unref();
    this.nudge();
  }

  /** Runs a round soon; never waits for it (ingest calls this). */
  nudge(): void {
    if (this.stopped) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = new Promise<void>((resolve) => setImmediate(resolve))
      .then(() => this.rounds())
      .finally(() => {
        this.running = null;
      });
  }

  /** Stops the loop: posts in flight are abandoned and their messages left for a later attempt. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.stopping.abort();
    await this.running;
  }

  /** Runs until there is nothing due (for tests and for a nudge that arrived mid-round). */
  private async rounds(): Promise<void> {
    do {
      this.again = false;
      try {
        await fanOut(this.db, this.settings);
        if ((await this.deliver()) === this.settings.parallel) this.again = true;
      } catch (error) {
        if (!this.stopped) this.log("alert round failed", error);
        return;
      }
    } while (this.again && !this.stopped);
  }

  private async deliver(): Promise<number> {
    if (this.stopped) return 0;
    const { timeoutMs, parallel } = this.settings;
    // The lease outlives the attempt: a replica that dies mid-post leaves the message to the others.
    const claimed = await claimDeliveries(this.db, parallel, timeoutMs + 10_000);
    await Promise.all(claimed.map((m) => this.post(m)));
    return claimed.length;
  }

  private async post(m: OutboxMessage): Promise<void> {
    const outcome = await postWebhook(m.url, m.payload, this.settings.timeoutMs, this.stopping.signal);
    if (outcome.ok) this.counters.webhookDeliveriesOk++;
    else if (!outcome.aborted) this.counters.webhookDeliveriesFailed++;
    const state = nextState(outcome, m.attempts, this.settings, Date.now());
    if (state.state === "failed") this.log(`webhook ${m.webhookId}: message ${m.id} given up`, state.error);
    await finishDelivery(this.db, m.id, state);
  }
}
