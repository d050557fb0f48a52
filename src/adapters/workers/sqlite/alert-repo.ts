/**
 * @module adapters/workers/sqlite/alert-repo
 * The alert coalescing records (`alerts`) in the Durable Object's SQLite.
 */

import type { Alert } from '../../../core/alerts/alert-webhook.ts'
import type { AlertRecord, AlertRepo } from '../../../core/alerts/repo.ts'
import { coalesce, newAlertRecord, releaseHeld } from '../../../core/relay/store-rules.ts'

/** Alert records are small documents read a handful at a time: kept as JSON. */
export class SqlAlertRepo implements AlertRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  async records(): Promise<AlertRecord[]> {
    return this.#sql
      .exec<{ record: string }>('SELECT record FROM alerts ORDER BY event')
      .toArray()
      .map((row) => JSON.parse(row.record) as AlertRecord)
  }

  #save(record: AlertRecord): void {
    this.#sql.exec(
      `INSERT INTO alerts (event, record) VALUES (?, ?)
       ON CONFLICT (event) DO UPDATE SET record = excluded.record`,
      record.event,
      JSON.stringify(record)
    )
  }

  async coalesce(alert: Alert, now: number): Promise<Alert | null> {
    const record = (await this.records()).find((r) => r.event === alert.event)
    const { record: next, send } = coalesce(record ?? newAlertRecord(alert.event), alert, now)
    this.#save(next)
    return send
  }

  async releaseHeld(now: number): Promise<Alert[]> {
    return (await this.records()).flatMap((record) => {
      const released = releaseHeld(record, now)
      if (!released) return []
      this.#save(released.record)
      return [released.send]
    })
  }
}
