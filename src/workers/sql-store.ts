/**
 * @module workers/sql-store
 * The Durable Object's SQLite tables (documented in docs/storage.md). `sql.exec` is synchronous,
 * so each method below is atomic within the object's turn: no other request interleaves. The
 * decisions (claim order, merging, revival, …) are store-rules.ts, shared with Deno KV.
 */

import type { Alert } from '../core/alerts.ts'
import { type ConnectionHistoryEntry, HISTORY_KEPT } from '../core/connection-history.ts'
import {
  ACTIVITY_KEPT,
  type ActivityEntry,
  type CounterRow,
  DAY_MS,
  HOUR_MS,
  type Span,
  type Tally,
} from '../core/metrics.ts'
import { utcDay } from '../core/outbox.ts'
import {
  lockedFor,
  MAX_SESSIONS,
  SIGN_IN_CLIENTS,
  SIGN_IN_WINDOW_MS,
  withFailure,
} from '../core/owner-limits.ts'
import type { SignUpFormBody } from '../core/signup.ts'
import type {
  AcceptedStatus,
  ActivityFilter,
  AlertRecord,
  AlertRepo,
  AuthStateRepo,
  BacklogAlarm,
  ClaimResult,
  DeadLetter,
  DeadOutboxItem,
  DeliveryBlocks,
  DeliveryError,
  EnqueueResult,
  FormAuditEntry,
  FormChange,
  FormRepo,
  MetricsRepo,
  NewOutboxItem,
  OutboxFigures,
  OutboxItem,
  OutboxRepo,
  OwnerRepo,
  PendingAuthorization,
  RecentSubmission,
  Revival,
  StoredForm,
  TokenRepo,
} from '../core/store.ts'
import {
  backlogAlarm,
  canMergeInto,
  claimVerdict,
  coalesce,
  FORM_AUDIT_KEEP,
  inlineDeadRecord,
  isRecent,
  killed,
  mergedInto,
  newAlertRecord,
  type OutboxRecord,
  queuedRecord,
  releaseHeld,
  rescheduled,
  revived,
  stateRetentionCutoff,
  toDeadLetter,
  toOutboxItem,
  type UnsavedRecord,
} from '../core/store-rules.ts'

/**
 * The schema, one entry per version: migration n takes the database from version n - 1 to n.
 * `migrate` runs the pending ones in order, each in one transaction with its bump of
 * `schema_version`, so a migration that fails leaves nothing behind and the next start retries
 * it. To change the schema, append a migration here (and document it in docs/storage.md); never
 * edit one that has shipped: deployments past it would never see the edit.
 */
const MIGRATIONS: readonly (readonly string[])[] = [
  // 1: the schema as it was before versioning (up to commit 921d3a4), byte for byte, so fresh and
  //    adopted databases read the same. IF NOT EXISTS throughout: a deployment that has these
  //    tables but no version row is adopted as is, data and all.
  [
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
  ],
  // 2: pending items by store-rules.ts `dueAt`, the order claimDue takes them in (as Deno KV's
  //    outbox_due keys do). SQLite uses an index on an expression only for queries that spell
  //    it the same way: DUE_AT below.
  [
    'DROP INDEX outbox_due',
    'CREATE INDEX outbox_due ON outbox (status, MAX(next_attempt_at, COALESCE(lease_until, 0)))',
  ],
  // 3: running counts of pending and dead items, kept by triggers in the very statement that
  //    inserts, deletes or changes an item's status (store-rules.ts `countChange` in SQL), so
  //    /healthz and /admin/status never count rows; the backlog alarm's level beside them; the
  //    oldest pending item by index; the digest of what a remembered sign-up said (the duplicate
  //    window absorbs only a repeat that says the same); the alert coalescing records.
  [
    `CREATE TABLE outbox_counts (id INTEGER PRIMARY KEY CHECK (id = 1), pending INTEGER NOT NULL,
dead INTEGER NOT NULL, backlog_level INTEGER NOT NULL DEFAULT 0)`,
    `INSERT INTO outbox_counts (id, pending, dead)
SELECT 1, COALESCE(SUM(status = 'pending'), 0), COALESCE(SUM(status = 'dead'), 0) FROM outbox`,
    `CREATE TRIGGER outbox_counts_insert AFTER INSERT ON outbox BEGIN UPDATE outbox_counts
SET pending = pending + (NEW.status = 'pending'), dead = dead + (NEW.status = 'dead'); END`,
    `CREATE TRIGGER outbox_counts_delete AFTER DELETE ON outbox BEGIN UPDATE outbox_counts
SET pending = pending - (OLD.status = 'pending'), dead = dead - (OLD.status = 'dead'); END`,
    `CREATE TRIGGER outbox_counts_status AFTER UPDATE OF status ON outbox
WHEN OLD.status <> NEW.status BEGIN UPDATE outbox_counts
SET pending = pending + (NEW.status = 'pending') - (OLD.status = 'pending'),
dead = dead + (NEW.status = 'dead') - (OLD.status = 'dead'); END`,
    'CREATE INDEX outbox_pending_since ON outbox (status, created_at)',
    'ALTER TABLE recent_submissions ADD COLUMN digest TEXT',
    'CREATE TABLE alerts (event TEXT PRIMARY KEY, record TEXT NOT NULL)',
  ],
  // 4: the owner's sessions (revocable: sign-out deletes the row) and failed sign-ins per client
  //    network (owner-limits.ts), each with an index for its purge.
  [
    `CREATE TABLE owner_sessions (
     id TEXT PRIMARY KEY,
     expires_at INTEGER NOT NULL
   )`,
    'CREATE INDEX owner_sessions_expiry ON owner_sessions (expires_at)',
    `CREATE TABLE signin_failures (
     client TEXT PRIMARY KEY,
     failures TEXT NOT NULL,
     last_at INTEGER NOT NULL
   )`,
    'CREATE INDEX signin_failures_last ON signin_failures (last_at)',
  ],
  // 5: forms made in the dashboard, and their audit trail. A form's revision is the audit row
  //    that wrote it: AUTOINCREMENT never reuses a number, even after the trail is trimmed, so a
  //    revision names one version of one form, ever (a deleted and re-made form included).
  [
    `CREATE TABLE forms (
     id TEXT PRIMARY KEY,
     profile TEXT NOT NULL,
     field_types TEXT NOT NULL,
     revision INTEGER NOT NULL,
     updated_at INTEGER NOT NULL
   )`,
    `CREATE TABLE form_audit (
     revision INTEGER PRIMARY KEY AUTOINCREMENT,
     at INTEGER NOT NULL,
     form_id TEXT NOT NULL,
     action TEXT NOT NULL CHECK (action IN ('created', 'updated', 'deleted')),
     changes TEXT NOT NULL
   )`,
  ],
  // 6: the owner's metrics (metrics.ts): counters per hour and form, the recent activity, and
  //    the connection's history. Small tables: counters are kept 90 days, activity and history
  //    are capped (ACTIVITY_KEPT, HISTORY_KEPT).
  [
    `CREATE TABLE metrics (
     hour INTEGER NOT NULL,
     form_id TEXT NOT NULL,
     name TEXT NOT NULL,
     n INTEGER NOT NULL,
     PRIMARY KEY (hour, form_id, name)
   ) WITHOUT ROWID`,
    `CREATE TABLE activity (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     form_id TEXT NOT NULL,
     outcome TEXT NOT NULL,
     email_masked TEXT,
     latency_ms INTEGER
   )`,
    `CREATE TABLE connection_history (
     id INTEGER PRIMARY KEY,
     at INTEGER NOT NULL,
     event TEXT NOT NULL,
     state TEXT NOT NULL,
     code TEXT
   )`,
  ],
]

/** The version `migrate` brings the database to. */
export const SCHEMA_VERSION = MIGRATIONS.length

/** store-rules.ts `dueAt` in SQL, spelled exactly as in the outbox_due index (migration 2). */
const DUE_AT = 'MAX(next_attempt_at, COALESCE(lease_until, 0))'

/**
 * Brings the schema to SCHEMA_VERSION; runs in the object's constructor, before any request.
 * The version lives in a one-row table: Durable Objects do not allow `PRAGMA user_version`.
 */
export function migrate(storage: DurableObjectStorage): void {
  const sql = storage.sql
  sql.exec(`CREATE TABLE IF NOT EXISTS schema_version (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
  )`)
  const current =
    sql.exec<{ version: number }>('SELECT version FROM schema_version WHERE id = 1').toArray()[0]
      ?.version ?? 0
  for (let version = current + 1; version <= SCHEMA_VERSION; version++) {
    storage.transactionSync(() => {
      for (const statement of MIGRATIONS[version - 1]) sql.exec(statement)
      sql.exec(
        `INSERT INTO schema_version (id, version) VALUES (1, ?)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version`,
        version
      )
    })
  }
  // A new instance is the only object, so nothing its predecessor leased is still in flight.
  // Those items are due again now rather than when the lease lapses.
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

type OutboxRow = {
  id: number
  form_id: string
  email_hash: string
  payload: string
  status: 'pending' | 'dead'
  attempts: number
  created_at: number
  next_attempt_at: number
  lease_until: number | null
  last_status: number | null
  last_error_key: string | null
  last_error_message: string | null
  last_error_at: number | null
  dead_at: number | null
}

function fromRow(row: OutboxRow): OutboxRecord {
  return {
    id: row.id,
    formId: row.form_id,
    emailHash: row.email_hash,
    payload: JSON.parse(row.payload) as SignUpFormBody,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at,
    nextAttemptAt: row.next_attempt_at,
    leaseUntil: row.lease_until,
    lastError:
      row.last_error_key === null
        ? null
        : {
            status: row.last_status ?? 0,
            errorKey: row.last_error_key,
            message: row.last_error_message ?? '',
            at: row.last_error_at ?? 0,
          },
    deadAt: row.dead_at,
  }
}

/** Every column but id, with its value in a record (the inverse of `fromRow`). */
const COLUMNS: [string, (r: UnsavedRecord) => SqlStorageValue][] = [
  ['form_id', (r) => r.formId],
  ['email_hash', (r) => r.emailHash],
  ['payload', (r) => JSON.stringify(r.payload)],
  ['status', (r) => r.status],
  ['attempts', (r) => r.attempts],
  ['created_at', (r) => r.createdAt],
  ['next_attempt_at', (r) => r.nextAttemptAt],
  ['lease_until', (r) => r.leaseUntil],
  ['last_status', (r) => r.lastError?.status ?? null],
  ['last_error_key', (r) => r.lastError?.errorKey ?? null],
  ['last_error_message', (r) => r.lastError?.message ?? null],
  ['last_error_at', (r) => r.lastError?.at ?? null],
  ['dead_at', (r) => r.deadAt],
]
const columnValues = (r: UnsavedRecord) => COLUMNS.map(([, value]) => value(r))

const INSERT = `INSERT INTO outbox (${COLUMNS.map(([name]) => name).join(', ')})
  VALUES (${COLUMNS.map(() => '?').join(', ')}) RETURNING id`
const UPDATE = `UPDATE outbox SET ${COLUMNS.map(([name]) => `${name} = ?`).join(', ')} WHERE id = ?`

/**
 * Writes a tally (metrics.ts): each count into its hour's row, and the activity lines.
 * Synchronous, so it shares the commit of the event's own statements that run in the same step.
 * The activity is trimmed to its last ACTIVITY_KEPT lines every hundredth line (and by the
 * cron): one statement less on the sign-up path.
 */
function writeTally(sql: SqlStorage, tally: Tally | undefined): void {
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
        `INSERT INTO activity (at, form_id, outcome, email_masked, latency_ms)
         VALUES (?, ?, ?, ?, ?) RETURNING id`,
        a.at,
        a.form,
        a.outcome,
        a.email,
        a.latencyMs
      )
      .one().id
  }
  if (last % 100 === 0) trimActivity(sql)
}

function trimActivity(sql: SqlStorage): void {
  sql.exec('DELETE FROM activity WHERE id <= (SELECT MAX(id) FROM activity) - ?', ACTIVITY_KEPT)
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

  #records(where: string, ...params: SqlStorageValue[]): OutboxRecord[] {
    return this.#rows<OutboxRow>(`SELECT * FROM outbox WHERE ${where}`, ...params).map(fromRow)
  }

  #insert(record: UnsavedRecord): number {
    return this.#rows<{ id: number }>(INSERT, ...columnValues(record))[0].id
  }

  #save(record: OutboxRecord): void {
    this.#sql.exec(UPDATE, ...columnValues(record), record.id)
  }

  /** Read, decide (a store-rules.ts function; null: leave it), write: one synchronous step. */
  #update(id: number, change: (r: OutboxRecord) => OutboxRecord | null): boolean {
    const [record] = this.#records('id = ?', id)
    const next = record ? change(record) : null
    if (next) this.#save(next)
    return next !== null
  }

  async enqueue(item: NewOutboxItem, maxBacklog: number, tally?: Tally): Promise<EnqueueResult> {
    const target = this.#records(
      `status = 'pending' AND form_id = ? AND email_hash = ? ORDER BY id`,
      item.formId,
      item.emailHash
    ).find(canMergeInto)
    if (target) {
      this.#save(mergedInto(target, item))
      writeTally(this.#sql, tally)
      return { outcome: 'merged', id: target.id, backlog: this.#counts().pending }
    }
    const backlog = this.#counts().pending
    if (backlog >= maxBacklog) return { outcome: 'full', backlog }
    // The insert trigger counts it in the same statement; the tally joins the same step.
    const id = this.#insert(queuedRecord(item))
    writeTally(this.#sql, tally)
    return { outcome: 'stored', id, backlog: backlog + 1 }
  }

  /** The running counts (migration 3's triggers keep them). */
  #counts(): { pending: number; dead: number; backlog_level: number } {
    return this.#rows<{ pending: number; dead: number; backlog_level: number }>(
      'SELECT pending, dead, backlog_level FROM outbox_counts WHERE id = 1'
    )[0]
  }

  async backlog(): Promise<number> {
    return this.#counts().pending
  }

  async backlogAlarm(cap: number): Promise<BacklogAlarm> {
    const counts = this.#counts()
    const { level, crossed } = backlogAlarm(counts.backlog_level, counts.pending, cap)
    if (level !== counts.backlog_level)
      this.#sql.exec('UPDATE outbox_counts SET backlog_level = ? WHERE id = 1', level)
    return { pending: counts.pending, level, crossed }
  }

  /** The selection is store-rules.ts `isDue`, and the order `dueAt`, spelled in SQL. */
  async claimDue(now: number, limit: number, leaseUntil: number): Promise<OutboxItem[]> {
    const due = this.#records(
      `status = 'pending' AND ${DUE_AT} <= ? ORDER BY ${DUE_AT}, id LIMIT ?`,
      now,
      // SQLite reads a negative LIMIT as "no limit".
      Math.max(0, limit)
    )
    for (const record of due) {
      this.#sql.exec('UPDATE outbox SET lease_until = ? WHERE id = ?', leaseUntil, record.id)
    }
    return due.map(toOutboxItem)
  }

  async delivered(id: number | null, now: number, tally?: Tally): Promise<void> {
    writeTally(this.#sql, tally)
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
    error: DeliveryError | null,
    tally?: Tally
  ): Promise<void> {
    if (this.#update(id, (r) => rescheduled(r, nextAttemptAt, attempts, error))) {
      writeTally(this.#sql, tally)
    }
  }

  async kill(
    item: DeadOutboxItem,
    error: DeliveryError,
    now: number,
    tally?: Tally
  ): Promise<void> {
    if (item.id === undefined) this.#insert(inlineDeadRecord(item, error, now))
    else if (!this.#update(item.id, (r) => killed(r, error, now))) return
    writeTally(this.#sql, tally)
  }

  /** Synchronous, like `enqueue`: nothing else runs between the count and the updates. */
  async revive(id: number | 'all', now: number, maxBacklog: number): Promise<Revival> {
    const dead = (
      id === 'all'
        ? this.#rows<{ id: number }>(`SELECT id FROM outbox WHERE status = 'dead' ORDER BY id`)
        : this.#rows<{ id: number }>(`SELECT id FROM outbox WHERE status = 'dead' AND id = ?`, id)
    ).map((r) => r.id)
    const room = Math.max(0, maxBacklog - this.#counts().pending)
    const back = dead.slice(0, room).filter((one) => this.#update(one, (r) => revived(r, now)))
    return { revived: back.length, waiting: dead.length - Math.min(room, dead.length) }
  }

  async removeDead(id: number): Promise<boolean> {
    return this.#sql.exec(`DELETE FROM outbox WHERE status = 'dead' AND id = ?`, id).rowsWritten > 0
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    return this.#records(`status = 'dead' ORDER BY dead_at DESC, id DESC LIMIT ?`, limit).map(
      toDeadLetter
    )
  }

  async purgeDead(before: number): Promise<number> {
    this.#sql.exec('DELETE FROM recent_submissions WHERE seen_at < ?', before)
    // Counted by RETURNING: rowsWritten also counts what the triggers wrote.
    return this.#rows(
      `DELETE FROM outbox WHERE status = 'dead' AND dead_at < ? RETURNING id`,
      before
    ).length
  }

  async nextDueAt(): Promise<number | null> {
    const row = this.#rows<{ at: number | null }>(
      `SELECT MIN(${DUE_AT}) AS at FROM outbox WHERE status = 'pending'`
    )[0]
    return row?.at ?? null
  }

  /** The counts row, one index seek for the oldest pending item, and the day's row. */
  async figures(now: number): Promise<OutboxFigures> {
    const counts = this.#counts()
    const { oldest } = this.#rows<{ oldest: number | null }>(
      `SELECT MIN(created_at) AS oldest FROM outbox WHERE status = 'pending'`
    )[0]
    const stats = this.#rows<{ cc_requests: number; delivered: number }>(
      'SELECT cc_requests, delivered FROM daily_stats WHERE day = ?',
      utcDay(now)
    )[0]
    return {
      pending: counts.pending,
      dead: counts.dead,
      oldestPendingAt: oldest,
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

  /**
   * Read on every send, written rarely (a 429, a quota). The object is the row's only writer and
   * this repo lives as long as the object, so the row is read once and then kept with each write.
   */
  #blocks: DeliveryBlocks | undefined

  async blocks(): Promise<DeliveryBlocks> {
    if (!this.#blocks) {
      const row = this.#rows<{ paused_until: number | null; parked_until: number | null }>(
        'SELECT paused_until, parked_until FROM delivery_blocks WHERE id = 1'
      )[0]
      this.#blocks = {
        pausedUntil: row?.paused_until ?? null,
        parkedUntil: row?.parked_until ?? null,
      }
    }
    return { ...this.#blocks }
  }

  async setBlocks(blocks: DeliveryBlocks): Promise<void> {
    this.#sql.exec(
      `INSERT INTO delivery_blocks (id, paused_until, parked_until) VALUES (1, ?, ?)
       ON CONFLICT (id) DO UPDATE SET paused_until = excluded.paused_until, parked_until = excluded.parked_until`,
      blocks.pausedUntil,
      blocks.parkedUntil
    )
    this.#blocks = { pausedUntil: blocks.pausedUntil, parkedUntil: blocks.parkedUntil }
  }

  async recentOutcome(
    key: string,
    now: number,
    windowMs: number
  ): Promise<RecentSubmission | null> {
    const row = this.#rows<{ seen_at: number; status: AcceptedStatus; digest: string | null }>(
      'SELECT seen_at, status, digest FROM recent_submissions WHERE key = ?',
      key
    )[0]
    return row && isRecent(row.seen_at, now, windowMs)
      ? { status: row.status, digest: row.digest }
      : null
  }

  async remember(key: string, now: number, submission: RecentSubmission): Promise<void> {
    this.#sql.exec(
      `INSERT INTO recent_submissions (key, seen_at, status, digest) VALUES (?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET seen_at = excluded.seen_at, status = excluded.status,
         digest = excluded.digest`,
      key,
      now,
      submission.status,
      submission.digest
    )
  }
}

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

type FormRow = {
  id: string
  profile: string
  field_types: string
  revision: number
  updated_at: number
}

type AuditRow = { revision: number; at: number; form_id: string; action: string; changes: string }

export class SqlFormRepo implements FormRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  #forms(where: string, ...params: SqlStorageValue[]): StoredForm[] {
    return this.#sql
      .exec<FormRow>(`SELECT * FROM forms ${where}`, ...params)
      .toArray()
      .map((row) => ({
        id: row.id,
        profile: JSON.parse(row.profile),
        types: JSON.parse(row.field_types),
        revision: row.revision,
        updatedAt: row.updated_at,
      }))
  }

  async get(id: string): Promise<StoredForm | null> {
    return this.#forms('WHERE id = ?', id)[0] ?? null
  }

  async list(): Promise<StoredForm[]> {
    return this.#forms('ORDER BY id')
  }

  /** Synchronous statements: one step of the object, committed together. */
  async write(change: FormChange): Promise<number> {
    const { revision } = this.#sql
      .exec<{ revision: number }>(
        'INSERT INTO form_audit (at, form_id, action, changes) VALUES (?, ?, ?, ?) RETURNING revision',
        change.at,
        change.formId,
        change.action,
        JSON.stringify(change.changes)
      )
      .one()
    if (change.form) {
      this.#sql.exec(
        `INSERT INTO forms (id, profile, field_types, revision, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET profile = excluded.profile,
           field_types = excluded.field_types, revision = excluded.revision,
           updated_at = excluded.updated_at`,
        change.formId,
        JSON.stringify(change.form.profile),
        JSON.stringify(change.form.types),
        revision,
        change.at
      )
    } else {
      this.#sql.exec('DELETE FROM forms WHERE id = ?', change.formId)
    }
    this.#sql.exec('DELETE FROM form_audit WHERE revision <= ?', revision - FORM_AUDIT_KEEP)
    return revision
  }

  async audit(limit: number): Promise<FormAuditEntry[]> {
    return this.#sql
      .exec<AuditRow>('SELECT * FROM form_audit ORDER BY revision DESC LIMIT ?', limit)
      .toArray()
      .map((row) => ({
        revision: row.revision,
        at: row.at,
        formId: row.form_id,
        action: row.action as FormAuditEntry['action'],
        changes: JSON.parse(row.changes),
      }))
  }
}

type HistoryRow = { at: number; event: string; state: string; code: string | null }

export class SqlMetricsRepo implements MetricsRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  async count(tally: Tally): Promise<void> {
    writeTally(this.#sql, tally)
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
        `SELECT at, form_id AS form, outcome, email_masked AS email, latency_ms AS latencyMs
         FROM activity WHERE (?1 IS NULL OR form_id = ?1) AND (?2 IS NULL OR outcome = ?2)
         ORDER BY at DESC, id DESC LIMIT ?3`,
        filter.form ?? null,
        filter.outcome ?? null,
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
  }
}
