// Retention: every interval, delete events older than N days (and gap records as old) in batches
// of `batch` rows, yielding between batches so requests (ingest above all) keep going.

import type { Db } from "./db/database.js";
import { deleteOldEvents, deleteOldGaps } from "./repositories/retention.js";

export const DAY_MS = 24 * 60 * 60 * 1000;
export const DEFAULT_RETENTION_DAYS = 30;

export interface RetentionSettings {
  /** 0 keeps everything. */
  days: number;
  intervalMs: number;
  batch: number;
}

export interface RetentionCounters {
  retentionEventsDeleted: number;
  retentionGapsDeleted: number;
}

const yieldToRequests = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** One pass: deletes batch after batch until a batch comes back short (or `stopped()` says so). */
export async function applyRetention(db: Db, s: RetentionSettings, counters: RetentionCounters, now = Date.now(), stopped = () => false): Promise<{ events: number; gaps: number }> {
  if (s.days <= 0) return { events: 0, gaps: 0 };
  const cutoff = now - s.days * DAY_MS;
  const total = { events: 0, gaps: 0 };
  for (const [table, remove] of [["events", deleteOldEvents], ["gaps", deleteOldGaps]] as const) {
    for (;;) {
      const n = await remove(db, cutoff, s.batch);
      total[table] += n;
      if (table === "events") counters.retentionEventsDeleted += n;
      else counters.retentionGapsDeleted += n;
      if (n < s.batch || stopped()) break;
      await yieldToRequests();
    }
  }
  return total;
}

export class RetentionJob {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<unknown> | null = null;
  private stopped = false;

  constructor(
    private readonly db: Db,
    readonly settings: RetentionSettings,
    private readonly counters: RetentionCounters,
    private readonly log: (message: string, error: unknown) => void,
  ) {}

  /** First pass one interval after start (at most a minute later), then every interval. */
  start(): void {
    if (this.settings.days <= 0 || this.timer !== null) return;
    this.timer = setTimeout(() => {
      this.run();
      this.timer = setInterval(() => this.run(), this.settings.intervalMs);
      this.timer.unref();
    }, Math.min(this.settings.intervalMs, 60_000));
    this.timer.unref();
  }

  private run(): void {
    if (this.stopped || this.running !== null) return;
    this.running = applyRetention(this.db, this.settings, this.counters, Date.now(), () => this.stopped)
      .catch((error: unknown) => {
        if (!this.stopped) this.log("retention pass failed", error);
      })
      .finally(() => {
        this.running = null;
      });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    // clearTimeout clears the interval too (Node uses one kind of timer for both).
    if (this.timer !== null) clearTimeout(this.timer);
    await this.running;
  }
}
