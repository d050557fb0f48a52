/**
 * @module adapters/workers/sqlite/auth-state-repo
 * OAuth states (`oauth_states`) in the Durable Object's SQLite; what a claim decides is
 * store-rules.ts `claimVerdict`, shared with Deno KV.
 */

import type {
  AuthStateRepo,
  ClaimResult,
  PendingAuthorization,
} from '../../../core/connection/repo.ts'
import { claimVerdict, stateRetentionCutoff } from '../../../core/relay/store-rules.ts'

type StateRow = {
  redirect_uri: string
  code_verifier: string | null
  expires_at: number
  used_at: number | null
}

export class SqlAuthStateRepo implements AuthStateRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  /** A state that was already issued fails the primary key: it is never reset to unused. */
  async put(p: PendingAuthorization): Promise<void> {
    this.#sql.exec(
      'DELETE FROM oauth_states WHERE expires_at < ?',
      stateRetentionCutoff(p.expiresAt)
    )
    this.#sql.exec(
      'INSERT INTO oauth_states (state, redirect_uri, code_verifier, expires_at) VALUES (?, ?, ?, ?)',
      p.state,
      p.redirectUri,
      p.codeVerifier,
      p.expiresAt
    )
  }

  async claim(state: string, now: number): Promise<ClaimResult> {
    const row = this.#sql
      .exec<StateRow>(
        'SELECT redirect_uri, code_verifier, expires_at, used_at FROM oauth_states WHERE state = ?',
        state
      )
      .toArray()[0]
    const stored = row
      ? {
          redirectUri: row.redirect_uri,
          codeVerifier: row.code_verifier,
          expiresAt: row.expires_at,
          usedAt: row.used_at,
        }
      : null
    const { result, markUsed } = claimVerdict(state, stored, now)
    if (markUsed) this.#sql.exec('UPDATE oauth_states SET used_at = ? WHERE state = ?', now, state)
    return result
  }
}
