/**
 * @module adapters/workers/sqlite/tally
 * Shared by the outbox and metrics repos: writes an event's counters and activity lines
 * (`Tally`, metrics.ts) into `metrics` and `activity`, and trims the activity.
 */

import { ACTIVITY_KEPT, type Tally } from '../../../core/metrics/metrics.ts'

/**
 * Writes a tally (metrics.ts): each count into its hour's row, and the activity lines, linked to
 * `signup` (the outbox item whose write this is; null: none).
 * Synchronous, so it shares the commit of the event's own statements that run in the same step.
 * The activity is trimmed to its last ACTIVITY_KEPT lines every hundredth line (and by the
 * cron): one statement less on the sign-up path.
 */
export function writeTally(
  sql: SqlStorage,
  tally: Tally | undefined,
  signup: number | null = null
): void {
  if (!tally) return
  for (const c of tally.counts) {
    sql.exec(
      `INSERT INTO metrics (hour, form_id, name, n) VALUES (?, ?, ?, ?)
       ON CONFLICT DO UPDATE SET n = n + excluded.n`,
      c.hour,
      c.form,
      c.name,
      c.n
    )
  }
  let last = 0
  for (const a of tally.activity) {
    last = sql
      .exec<{ id: number }>(
        `INSERT INTO activity (at, form_id, outcome, email_masked, latency_ms, reason, signup)
         VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
        a.at,
        a.form,
        a.outcome,
        a.email,
        a.latencyMs,
        a.reason,
        signup
      )
      .one().id
  }
  if (last % 100 === 0) trimActivity(sql)
}

export function trimActivity(sql: SqlStorage): void {
  sql.exec('DELETE FROM activity WHERE id <= (SELECT MAX(id) FROM activity) - ?', ACTIVITY_KEPT)
}
