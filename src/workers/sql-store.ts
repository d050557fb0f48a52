/**
 * @module workers/sql-store
 * The Durable Object's SQLite tables (documented in docs/storage.md). `sql.exec` is synchronous,
 * so each method below is atomic within the object's turn: no other request interleaves.
 */
import { type ConnectionRecord, EMPTY_RECORD, type TokenRepo } from '../core/connection.ts'
import type { AuthStateRepo, ClaimResult, PendingAuthorization } from '../core/service.ts'

const SCHEMA = [
  `CREATE TABLE IF NOT EXISTS connection (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     record TEXT NOT NULL,
     updated_at INTEGER NOT NULL
   )`,
  `CREATE TABLE IF NOT EXISTS oauth_states (
     state TEXT PRIMARY KEY,
     redirect_uri TEXT NOT NULL,
     code_verifier TEXT,
     expires_at INTEGER NOT NULL,
     used_at INTEGER
   )`,
]

export function migrate(sql: SqlStorage): void {
  for (const statement of SCHEMA) sql.exec(statement)
}

export class SqlTokenRepo implements TokenRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  async load(): Promise<ConnectionRecord> {
    const row = this.#sql
      .exec<{ record: string }>('SELECT record FROM connection WHERE id = 1')
      .toArray()[0]
    return row
      ? { ...EMPTY_RECORD, ...(JSON.parse(row.record) as ConnectionRecord) }
      : { ...EMPTY_RECORD }
  }

  async save(record: ConnectionRecord): Promise<void> {
    this.#sql.exec(
      `INSERT INTO connection (id, record, updated_at) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at`,
      JSON.stringify(record),
      Date.now()
    )
  }
}

/** Used and expired states are kept a day so a replay is reported as such, then purged. */
const STATE_RETENTION_MS = 24 * 3600_000

export class SqlAuthStateRepo implements AuthStateRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  async put(p: PendingAuthorization): Promise<void> {
    this.#sql.exec(
      'DELETE FROM oauth_states WHERE expires_at < ?',
      p.expiresAt - STATE_RETENTION_MS
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
      .exec<{
        redirect_uri: string
        code_verifier: string | null
        expires_at: number
        used_at: number | null
      }>(
        'SELECT redirect_uri, code_verifier, expires_at, used_at FROM oauth_states WHERE state = ?',
        state
      )
      .toArray()[0]
    if (!row) return { status: 'unknown' }
    if (row.used_at !== null) return { status: 'used' }
    this.#sql.exec('UPDATE oauth_states SET used_at = ? WHERE state = ?', now, state)
    if (row.expires_at <= now) return { status: 'expired' }
    return {
      status: 'ok',
      pending: {
        state,
        redirectUri: row.redirect_uri,
        codeVerifier: row.code_verifier,
        expiresAt: row.expires_at,
      },
    }
  }
}
