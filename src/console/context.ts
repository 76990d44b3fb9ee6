// What every route plugin is given: the database, the few settings routes depend on, and the
// background jobs (alert delivery, retention) that routes nudge or report on.

import type { AlertDispatcher } from "./alerts/dispatcher.js";
import type { Db } from "./db/database.js";
import type { RetentionJob } from "./retention.js";

export interface Metrics {
  eventsIngested: number;
  eventsDuplicate: number;
  gapsRecorded: number;
  batchesRefused: number;
  webhookDeliveriesOk: number;
  webhookDeliveriesFailed: number;
  retentionEventsDeleted: number;
  retentionGapsDeleted: number;
}

export interface ConsoleContext {
  db: Db;
  secureCookies: boolean;
  pollSeconds: number;
  metrics: Metrics;
  alerts: AlertDispatcher;
  retention: RetentionJob;
}

export function newMetrics(): Metrics {
  return {
    eventsIngested: 0,
    eventsDuplicate: 0,
    gapsRecorded: 0,
    batchesRefused: 0,
    webhookDeliveriesOk: 0,
    webhookDeliveriesFailed: 0,
    retentionEventsDeleted: 0,
    retentionGapsDeleted: 0,
  };
}
