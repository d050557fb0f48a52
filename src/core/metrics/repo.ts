/**
 * @module core/metrics/repo
 * Storage interface for the owner's metrics: counters, recent activity, the connection's history.
 * Both adapters implement it atomically; docs/storage.md describes what is kept.
 */
import type { ConnectionHistoryEntry } from '../connection/history.ts'
import type { RefusalCount } from '../origins/refusals.ts'
import type { ActivityEntry, CounterRow, Span, Tally } from './metrics.ts'

export interface ActivityFilter {
  form?: string
}

/**
 * The owner's metrics (docs/storage.md: `metrics`, `activity`, `connection_history`,
 * `refused_origins`).
 */
export interface MetricsRepo {
  /**
   * A write of its own, for events that have none (a duplicate, a rate limit, the app's sums).
   * Its refused origins are added by origins/refusals.ts `addToDay`: at most
   * ORIGINS_PER_FORM_DAY origins per form and UTC day, the rest under OTHER_ORIGINS.
   */
  count(tally: Tally): Promise<void>
  /** The refused origins counted on UTC days from `since` (a day's first millisecond) on. */
  refusals(since: number): Promise<RefusalCount[]>
  /**
   * The counters of the hours in [from, to), each with the start of its bucket: its hour, or
   * its UTC day (rows of one bucket, form and name may come apart; `groupCounters` adds them).
   */
  counters(span: Span, from: number, to: number): Promise<CounterRow[]>
  /**
   * Lines, the newest first, up to `limit` that match, among the last ACTIVITY_KEPT lines
   * (signups.ts makes them rows).
   */
  activity(filter: ActivityFilter, limit: number): Promise<ActivityEntry[]>
  /** Oldest first: the entries since `since`, preceded by the last one before it, if any. */
  connectionHistory(since: number): Promise<ConnectionHistoryEntry[]>
  /**
   * Deletes the counters, activity, history and refused origins from before `before` (a refused
   * origin's row by its last refusal), and trims the activity and history to their last
   * ACTIVITY_KEPT and HISTORY_KEPT lines.
   */
  purgeMetrics(before: number): Promise<void>
}
