/**
 * @module adapters/workers/sqlite/metrics-repo
 * The owner's metrics (`metrics`, `activity`), the refused origins (`refused_origins`) and the
 * connection's history as the dashboard reads it, in the Durable Object's SQLite.
 */

import type { ConnectionHistoryEntry } from '../../../core/connection/history.ts'
import {
  type ActivityEntry,
  type CounterRow,
  DAY_MS,
  HOUR_MS,
  type Span,
  type Tally,
} from '../../../core/metrics/metrics.ts'
import type { ActivityFilter, MetricsRepo } from '../../../core/metrics/repo.ts'
import {
  ORIGINS_PER_FORM_DAY,
  OTHER_ORIGINS,
  type RefusalCount,
} from '../../../core/origins/refusals.ts'
import { trimActivity, writeTally } from './tally.ts'

type HistoryRow = { at: number; event: string; state: string; code: string | null }

export class SqlMetricsRepo implements MetricsRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  async count(tally: Tally): Promise<void> {
    writeTally(this.#sql, tally)
    for (const r of tally.refusals ?? []) {
      // refusals.ts `addToDay` in SQL: under its own origin if the form's day has it already or
      // has fewer than ORIGINS_PER_FORM_DAY others, else under OTHER_ORIGINS. (`WHERE true`: an
      // upsert from a SELECT needs a WHERE before ON CONFLICT.)
      this.#sql.exec(
        `INSERT INTO refused_origins (day, form_id, origin, n, last_at)
         SELECT ?1, ?2, CASE WHEN EXISTS (
           SELECT 1 FROM refused_origins WHERE day = ?1 AND form_id = ?2 AND origin = ?3
         ) OR (
           SELECT COUNT(*) FROM refused_origins WHERE day = ?1 AND form_id = ?2 AND origin <> ?6
         ) < ?7 THEN ?3 ELSE ?6 END, ?4, ?5 WHERE true
         ON CONFLICT DO UPDATE SET n = n + excluded.n, last_at = MAX(last_at, excluded.last_at)`,
        r.day,
        r.form,
        r.origin,
        r.n,
        r.lastAt,
        OTHER_ORIGINS,
        ORIGINS_PER_FORM_DAY
      )
    }
  }

  async refusals(since: number): Promise<RefusalCount[]> {
    return this.#sql
      .exec<RefusalCount & Record<string, SqlStorageValue>>(
        `SELECT day, form_id AS form, origin, n, last_at AS lastAt FROM refused_origins
         WHERE day >= ?`,
        since
      )
      .toArray()
  }

  /** One range of the primary key, summed per bucket in SQL: a day is 24 rows read, 1 returned. */
  async counters(span: Span, from: number, to: number): Promise<CounterRow[]> {
    return this.#sql
      .exec<CounterRow & Record<string, SqlStorageValue>>(
        `SELECT hour - hour % ? AS start, form_id AS form, name, SUM(n) AS n FROM metrics
         WHERE hour >= ? AND hour < ? GROUP BY start, form_id, name`,
        span === 'hour' ? HOUR_MS : DAY_MS,
        from,
        to
      )
      .toArray()
  }

  async activity(filter: ActivityFilter, limit: number): Promise<ActivityEntry[]> {
    return this.#sql
      .exec<ActivityEntry & Record<string, SqlStorageValue>>(
        `SELECT at, form_id AS form, outcome, email_masked AS email, latency_ms AS latencyMs,
         reason, signup FROM activity WHERE (?1 IS NULL OR form_id = ?1)
         ORDER BY at DESC, id DESC LIMIT ?2`,
        filter.form ?? null,
        limit
      )
      .toArray()
  }

  async connectionHistory(since: number): Promise<ConnectionHistoryEntry[]> {
    const select = 'SELECT at, event, state, code FROM connection_history WHERE at'
    const before = this.#sql
      .exec<HistoryRow>(`${select} < ? ORDER BY at DESC, id DESC LIMIT 1`, since)
      .toArray()
    const after = this.#sql.exec<HistoryRow>(`${select} >= ? ORDER BY at, id`, since).toArray()
    return [...before, ...after] as ConnectionHistoryEntry[]
  }

  async purgeMetrics(before: number): Promise<void> {
    this.#sql.exec('DELETE FROM metrics WHERE hour < ?', before)
    this.#sql.exec('DELETE FROM activity WHERE at < ?', before)
    trimActivity(this.#sql)
    this.#sql.exec('DELETE FROM connection_history WHERE at < ?', before)
    // A row's day starts before its last refusal: the key's range first, then the exact test.
    this.#sql.exec('DELETE FROM refused_origins WHERE day < ? AND last_at < ?', before, before)
  }
}
