/**
 * @module workers/sql-store
 * The Durable Object's SQLite tables (documented in docs/storage.md). `sql.exec` is synchronous,
 * so each method below is atomic within the object's turn: no other request interleaves.
 */

import { mergePayloads, utcDay } from '../core/outbox.ts'
import type { SignUpFormBody } from '../core/signup.ts'
import type {
  AcceptedStatus,
  AuthStateRepo,
  ClaimResult,
  DeadLetter,
  DeliveryBlocks,
  DeliveryError,
  OutboxFigures,
  OutboxItem,
  OutboxRepo,
  PendingAuthorization,
  TokenRepo,
} from '../core/store.ts'

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
  for (const statement of [...SCHEMA, ...OUTBOX_SCHEMA]) sql.exec(statement)
  // This runs in the constructor of a new instance: the only object, so nothing it leased
  // before is still in flight. Those items are due again now rather than when the lease lapses.
  sql.exec('UPDATE outbox SET lease_until = NULL WHERE lease_until IS NOT NULL')
}

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

  async save(record: object): Promise<void> {
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

export const OUTBOX_SCHEMA = [
  `CREATE TABLE IF NOT EXISTS outbox (
     id INTEGER PRIMARY KEY AUTOINCREMENT,
     form_id TEXT NOT NULL,
     email_hash TEXT NOT NULL,
     payload TEXT NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('pending', 'dead')),
     attempts INTEGER NOT NULL DEFAULT 0,
     created_at INTEGER NOT NULL,
     next_attempt_at INTEGER NOT NULL,
     lease_until INTEGER,
     last_status INTEGER,
     last_error_key TEXT,
     last_error_message TEXT,
     last_error_at INTEGER,
     dead_at INTEGER
   )`,
  'CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at)',
  'CREATE INDEX IF NOT EXISTS outbox_key ON outbox (form_id, email_hash)',
  `CREATE TABLE IF NOT EXISTS recent_submissions (
     key TEXT PRIMARY KEY,
     seen_at INTEGER NOT NULL,
     status TEXT NOT NULL CHECK (status IN ('delivered', 'queued'))
   )`,
  `CREATE TABLE IF NOT EXISTS daily_stats (
     day TEXT PRIMARY KEY,
     cc_requests INTEGER NOT NULL DEFAULT 0,
     delivered INTEGER NOT NULL DEFAULT 0
   )`,
  `CREATE TABLE IF NOT EXISTS delivery_blocks (
     id INTEGER PRIMARY KEY CHECK (id = 1),
     paused_until INTEGER,
     parked_until INTEGER
   )`,
]

type OutboxRow = {
  id: number
  form_id: string
  payload: string
  attempts: number
  created_at: number
  dead_at: number | null
  last_status: number | null
  last_error_key: string | null
  last_error_message: string | null
  last_error_at: number | null
}

export class SqlOutboxRepo implements OutboxRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  #rows<T extends Record<string, SqlStorageValue>>(
    query: string,
    ...params: SqlStorageValue[]
  ): T[] {
    return this.#sql.exec<T>(query, ...params).toArray()
  }

  async enqueue(item: Parameters<OutboxRepo['enqueue']>[0]): Promise<number> {
    // Merge only into an item with no lease at all. A leased item may still be in flight even
    // after its lease lapsed (a slow refresh plus a slow send), and its delivery deletes the row,
    // which would drop what we merged in. Two rows for one email are harmless: CC upserts.
    const existing = this.#rows<{ id: number; payload: string; next_attempt_at: number }>(
      `SELECT id, payload, next_attempt_at FROM outbox
       WHERE status = 'pending' AND form_id = ? AND email_hash = ? AND lease_until IS NULL
       ORDER BY id LIMIT 1`,
      item.formId,
      item.emailHash
    )[0]
    if (existing) {
      const merged = mergePayloads(JSON.parse(existing.payload) as SignUpFormBody, item.payload)
      this.#sql.exec(
        'UPDATE outbox SET payload = ?, next_attempt_at = ? WHERE id = ?',
        JSON.stringify(merged),
        Math.min(existing.next_attempt_at, item.nextAttemptAt),
        existing.id
      )
      return existing.id
    }
    return this.#rows<{ id: number }>(
      `INSERT INTO outbox (form_id, email_hash, payload, status, attempts, created_at, next_attempt_at)
       VALUES (?, ?, ?, 'pending', ?, ?, ?) RETURNING id`,
      item.formId,
      item.emailHash,
      JSON.stringify(item.payload),
      item.attempts,
      item.now,
      item.nextAttemptAt
    )[0].id
  }

  async claimDue(now: number, limit: number, leaseUntil: number): Promise<OutboxItem[]> {
    const rows = this.#rows<OutboxRow>(
      `SELECT * FROM outbox
       WHERE status = 'pending' AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?)
       ORDER BY next_attempt_at, id LIMIT ?`,
      now,
      now,
      limit
    )
    for (const row of rows)
      this.#sql.exec('UPDATE outbox SET lease_until = ? WHERE id = ?', leaseUntil, row.id)
    return rows.map((row) => ({
      id: row.id,
      formId: row.form_id,
      payload: JSON.parse(row.payload) as SignUpFormBody,
      attempts: row.attempts,
      createdAt: row.created_at,
    }))
  }

  async delivered(id: number | null, now: number): Promise<void> {
    if (id !== null) this.#sql.exec('DELETE FROM outbox WHERE id = ?', id)
    this.#sql.exec(
      `INSERT INTO daily_stats (day, delivered) VALUES (?, 1)
       ON CONFLICT (day) DO UPDATE SET delivered = delivered + 1`,
      utcDay(now)
    )
  }

  async reschedule(
    id: number,
    nextAttemptAt: number,
    attempts: number,
    error: DeliveryError | null
  ) {
    this.#sql.exec(
      `UPDATE outbox SET lease_until = NULL, next_attempt_at = ?, attempts = ?,
         last_status = COALESCE(?, last_status), last_error_key = COALESCE(?, last_error_key),
         last_error_message = COALESCE(?, last_error_message), last_error_at = COALESCE(?, last_error_at)
       WHERE id = ?`,
      nextAttemptAt,
      attempts,
      error?.status ?? null,
      error?.errorKey ?? null,
      error?.message ?? null,
      error?.at ?? null,
      id
    )
  }

  async kill(
    item: { id?: number; formId: string; emailHash?: string; payload: SignUpFormBody },
    error: DeliveryError,
    now: number
  ): Promise<void> {
    if (item.id === undefined) {
      this.#sql.exec(
        `INSERT INTO outbox (form_id, email_hash, payload, status, attempts, created_at, next_attempt_at)
         VALUES (?, ?, ?, 'dead', 1, ?, ?)`,
        item.formId,
        item.emailHash ?? '',
        JSON.stringify(item.payload),
        now,
        now
      )
      item = { ...item, id: this.#rows<{ id: number }>('SELECT last_insert_rowid() AS id')[0].id }
    }
    this.#sql.exec(
      `UPDATE outbox SET status = 'dead', lease_until = NULL, dead_at = ?, last_status = ?,
         last_error_key = ?, last_error_message = ?, last_error_at = ? WHERE id = ?`,
      now,
      error.status,
      error.errorKey,
      error.message,
      error.at,
      item.id ?? null
    )
  }

  async revive(id: number | 'all', now: number): Promise<number> {
    const cursor =
      id === 'all'
        ? this.#sql.exec(
            `UPDATE outbox SET status = 'pending', dead_at = NULL, attempts = 0, next_attempt_at = ?
             WHERE status = 'dead'`,
            now
          )
        : this.#sql.exec(
            `UPDATE outbox SET status = 'pending', dead_at = NULL, attempts = 0, next_attempt_at = ?
             WHERE status = 'dead' AND id = ?`,
            now,
            id
          )
    return cursor.rowsWritten
  }

  async removeDead(id: number): Promise<boolean> {
    return this.#sql.exec(`DELETE FROM outbox WHERE status = 'dead' AND id = ?`, id).rowsWritten > 0
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.#rows<OutboxRow>(
      `SELECT * FROM outbox WHERE status = 'dead' ORDER BY dead_at DESC LIMIT ?`,
      limit
    ).map((row) => ({
      id: row.id,
      formId: row.form_id,
      email: String((JSON.parse(row.payload) as SignUpFormBody).email_address ?? ''),
      createdAt: row.created_at,
      deadAt: row.dead_at ?? row.created_at,
      error:
        row.last_error_key === null
          ? null
          : {
              status: row.last_status ?? 0,
              errorKey: row.last_error_key,
              message: row.last_error_message ?? '',
              at: row.last_error_at ?? 0,
            },
    }))
  }

  async purgeDead(before: number): Promise<number> {
    this.#sql.exec('DELETE FROM recent_submissions WHERE seen_at < ?', before)
    return this.#sql.exec(`DELETE FROM outbox WHERE status = 'dead' AND dead_at < ?`, before)
      .rowsWritten
  }

  async nextDueAt(): Promise<number | null> {
    const row = this.#rows<{ at: number | null }>(
      `SELECT MIN(MAX(next_attempt_at, COALESCE(lease_until, 0))) AS at FROM outbox WHERE status = 'pending'`
    )[0]
    return row?.at ?? null
  }

  async figures(now: number): Promise<OutboxFigures> {
    const counts = this.#rows<{ pending: number; dead: number; oldest: number | null }>(
      `SELECT COALESCE(SUM(status = 'pending'), 0) AS pending, COALESCE(SUM(status = 'dead'), 0) AS dead,
              MIN(CASE WHEN status = 'pending' THEN created_at END) AS oldest FROM outbox`
    )[0]
    const stats = this.#rows<{ cc_requests: number; delivered: number }>(
      'SELECT cc_requests, delivered FROM daily_stats WHERE day = ?',
      utcDay(now)
    )[0]
    return {
      pending: counts.pending,
      dead: counts.dead,
      oldestPendingAt: counts.oldest,
      deliveredToday: stats?.delivered ?? 0,
      quotaUsedToday: stats?.cc_requests ?? 0,
    }
  }

  async countRequest(day: string): Promise<number> {
    return this.#rows<{ n: number }>(
      `INSERT INTO daily_stats (day, cc_requests) VALUES (?, 1)
       ON CONFLICT (day) DO UPDATE SET cc_requests = cc_requests + 1 RETURNING cc_requests AS n`,
      day
    )[0].n
  }

  async requestsOn(day: string): Promise<number> {
    return (
      this.#rows<{ n: number }>('SELECT cc_requests AS n FROM daily_stats WHERE day = ?', day)[0]
        ?.n ?? 0
    )
  }

  async blocks(): Promise<DeliveryBlocks> {
    const row = this.#rows<{ paused_until: number | null; parked_until: number | null }>(
      'SELECT paused_until, parked_until FROM delivery_blocks WHERE id = 1'
    )[0]
    return { pausedUntil: row?.paused_until ?? null, parkedUntil: row?.parked_until ?? null }
  }

  async setBlocks(blocks: DeliveryBlocks): Promise<void> {
    this.#sql.exec(
      `INSERT INTO delivery_blocks (id, paused_until, parked_until) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET paused_until = excluded.paused_until, parked_until = excluded.parked_until`,
      blocks.pausedUntil,
      blocks.parkedUntil
    )
  }

  async recentOutcome(key: string, now: number, windowMs: number): Promise<AcceptedStatus | null> {
    const row = this.#rows<{ seen_at: number; status: AcceptedStatus }>(
      'SELECT seen_at, status FROM recent_submissions WHERE key = ?',
      key
    )[0]
    return row && row.seen_at > now - windowMs ? row.status : null
  }

  async remember(key: string, now: number, status: AcceptedStatus): Promise<void> {
    this.#sql.exec(
      `INSERT INTO recent_submissions (key, seen_at, status) VALUES (?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at, status = excluded.status`,
      key,
      now,
      status
    )
  }
}
