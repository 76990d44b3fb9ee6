// Tasks that start as soon as they are added, at most `size` at once, and a slot limiter for the
// few that move whole blobs. The walk adds blob copies while it is still reading configs, so the
// registry round trips overlap instead of queueing behind each other.

import type { StreamSlot } from "./store.js";

export class TaskPool {
  private readonly queue: (() => Promise<void>)[] = [];
  private readonly running = new Set<Promise<void>>();
  private failure: { error: unknown } | null = null;

  constructor(private readonly size: number) {}

  add(task: () => Promise<void>): void {
    this.queue.push(task);
    this.pump();
  }

  /** Waits for every task added; throws the first failure. */
  async drain(): Promise<void> {
    await this.settle();
    if (this.failure !== null) throw this.failure.error;
  }

  /** Waits for every task started to end, failed or not (nothing left running behind a thrown error). */
  async settle(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }

  private pump(): void {
    while (this.running.size < this.size && this.queue.length > 0 && this.failure === null) {
      const task = this.queue.shift() as () => Promise<void>;
      const run: Promise<void> = task()
        .catch((error: unknown) => {
          this.failure ??= { error };
        })
        .finally(() => {
          this.running.delete(run);
          this.pump();
        });
      this.running.add(run);
    }
  }
}

/** At most `size` transfers at once; the others wait in order. */
export function streamSlots(size: number): StreamSlot {
  let free = size;
  const waiting: (() => void)[] = [];
  return async <T>(transfer: () => Promise<T>): Promise<T> => {
    if (free > 0) free--;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await transfer();
    } finally {
      const next = waiting.shift();
      if (next !== undefined) next();
      else free++;
    }
  };
}
