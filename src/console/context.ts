// What every route plugin is given: the database and the few settings routes depend on.

import type { Db } from "./db/database.js";

export interface Metrics {
  eventsIngested: number;
  eventsDuplicate: number;
  gapsRecorded: number;
  batchesRefused: number;
}

export interface ConsoleContext {
  db: Db;
  secureCookies: boolean;
  pollSeconds: number;
  metrics: Metrics;
}

export function newMetrics(): Metrics {
  return { eventsIngested: 0, eventsDuplicate: 0, gapsRecorded: 0, batchesRefused: 0 };
}
