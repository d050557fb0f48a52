/**
 * @module adapters/workers/sqlite/owner-repo
 * The owner's sessions and failed sign-ins (`owner_sessions`, `signin_failures`) in the
 * Durable Object's SQLite.
 */

import type { OwnerRepo } from '../../../core/owner/repo.ts'
import {
  lockedFor,
  MAX_SESSIONS,
  SIGN_IN_CLIENTS,
  SIGN_IN_WINDOW_MS,
  withFailure,
} from '../../../core/owner/sign-in-rules.ts'

export class SqlOwnerRepo implements OwnerRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  async addSession(id: string, expiresAt: number, now: number): Promise<void> {
    this.#sql.exec('DELETE FROM owner_sessions WHERE expires_at <= ?', now)
    this.#sql.exec('INSERT INTO owner_sessions (id, expires_at) VALUES (?, ?)', id, expiresAt)
    this.#sql.exec(
      `DELETE FROM owner_sessions WHERE id IN
       (SELECT id FROM owner_sessions ORDER BY expires_at DESC, id LIMIT -1 OFFSET ?)`,
      MAX_SESSIONS
    )
  }

  async hasSession(id: string, now: number): Promise<boolean> {
    return (
      this.#sql
        .exec('SELECT 1 FROM owner_sessions WHERE id = ? AND expires_at > ?', id, now)
        .toArray().length > 0
    )
  }

  async removeSession(id: string): Promise<void> {
    this.#sql.exec('DELETE FROM owner_sessions WHERE id = ?', id)
  }

  #failures(client: string): number[] {
    const row = this.#sql
      .exec<{ failures: string }>('SELECT failures FROM signin_failures WHERE client = ?', client)
      .toArray()[0]
    return row ? (JSON.parse(row.failures) as number[]) : []
  }

  async countSignInFailure(client: string, now: number): Promise<number> {
    const failures = this.#failures(client)
    const wait = lockedFor(failures, now)
    if (wait > 0) return wait
    this.#sql.exec('DELETE FROM signin_failures WHERE last_at <= ?', now - SIGN_IN_WINDOW_MS)
    this.#sql.exec(
      `INSERT INTO signin_failures (client, failures, last_at) VALUES (?, ?, ?)
       ON CONFLICT (client) DO UPDATE SET failures = excluded.failures, last_at = excluded.last_at`,
      client,
      JSON.stringify(withFailure(failures, now)),
      now
    )
    this.#sql.exec(
      `DELETE FROM signin_failures WHERE client IN
       (SELECT client FROM signin_failures ORDER BY last_at DESC LIMIT -1 OFFSET ?)`,
      SIGN_IN_CLIENTS
    )
    return 0
  }

  async signInLockout(client: string, now: number): Promise<number> {
    return lockedFor(this.#failures(client), now)
  }
}
