/**
 * @module adapters/workers/sqlite/token-repo
 * The token set (`connection`) and the connection's history (`connection_history`) in the
 * Durable Object's SQLite.
 */

import { type ConnectionHistoryEntry, HISTORY_KEPT } from '../../../core/connection/history.ts'
import type { TokenRepo } from '../../../core/connection/repo.ts'

export class SqlTokenRepo implements TokenRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  async load(): Promise<unknown> {
    const row = this.#sql
      .exec<{ record: string }>('SELECT record FROM connection WHERE id = 1')
      .toArray()[0]
    return row ? (JSON.parse(row.record) as unknown) : null
  }

  async save(record: object, history?: ConnectionHistoryEntry): Promise<void> {
    this.#sql.exec(
      `INSERT INTO connection (id, record, updated_at) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at`,
      JSON.stringify(record),
      Date.now()
    )
    if (!history) return
    const { id } = this.#sql
      .exec<{ id: number }>(
        'INSERT INTO connection_history (at, event, state, code) VALUES (?, ?, ?, ?) RETURNING id',
        history.at,
        history.event,
        history.state,
        history.code
      )
      .one()
    this.#sql.exec('DELETE FROM connection_history WHERE id <= ?', id - HISTORY_KEPT)
  }
}
