/**
 * @module adapters/workers/sqlite/outbox-repo
 * The outbox, its running counts, the daily counters, the delivery pauses and the duplicate window
 * in the Durable Object's SQLite. `sql.exec` is synchronous, so each method is atomic within the
 * Durable Object's turn; the decisions are core/relay/store-rules.ts.
 */

import { utcDay } from '../../../core/lib/utc-day.ts'
import type { Tally } from '../../../core/metrics/metrics.ts'
import type {
  AcceptedStatus,
  BacklogAlarm,
  ContactToTag,
  DeadLetter,
  DeadOutboxItem,
  DeliveryBlocks,
  DeliveryError,
  EnqueueResult,
  NewOutboxItem,
  OutboxFigures,
  OutboxItem,
  OutboxRepo,
  RecentSubmission,
  Revival,
} from '../../../core/outbox/repo.ts'
import {
  backlogAlarm,
  canMergeInto,
  inlineDeadRecord,
  isRecent,
  killed,
  mergedInto,
  type OutboxRecord,
  queuedRecord,
  rescheduled,
  revived,
  toDeadLetter,
  toOutboxItem,
  type UnsavedRecord,
  withTags,
} from '../../../core/relay/store-rules.ts'
import type { SignupFormBody } from '../../../core/signup/validate-signup.ts'
import { taggingRecords } from '../../../core/tagging/queue-rules.ts'
import { writeReceipt } from './consent-repo.ts'
import { DUE_AT } from './migrations.ts'
import { insertTaggings } from './tagging-repo.ts'
import { writeTally } from './tally.ts'

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
  tags: string | null
}

function fromRow(row: OutboxRow): OutboxRecord {
  return {
    id: row.id,
    formId: row.form_id,
    emailHash: row.email_hash,
    payload: JSON.parse(row.payload) as SignupFormBody,
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
    ...withTags(row.tags === null ? undefined : (JSON.parse(row.tags) as string[])),
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
  ['tags', (r) => (r.tags ? JSON.stringify(r.tags) : null)],
]
const columnValues = (r: UnsavedRecord) => COLUMNS.map(([, value]) => value(r))

const INSERT = `INSERT INTO outbox (${COLUMNS.map(([name]) => name).join(', ')})
  VALUES (${COLUMNS.map(() => '?').join(', ')}) RETURNING id`
const UPDATE = `UPDATE outbox SET ${COLUMNS.map(([name]) => `${name} = ?`).join(', ')} WHERE id = ?`

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
      writeTally(this.#sql, tally, target.id)
      writeReceipt(this.#sql, item.receipt)
      return { outcome: 'merged', id: target.id, backlog: this.#counts().pending }
    }
    const backlog = this.#counts().pending
    if (backlog >= maxBacklog) return { outcome: 'full', backlog }
    // The insert trigger counts it in the same statement; the tally and receipt join the step.
    const id = this.#insert(queuedRecord(item))
    writeTally(this.#sql, tally, id)
    writeReceipt(this.#sql, item.receipt)
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
    const alarm = backlogAlarm(counts.backlog_level, counts.pending, cap)
    if (alarm.level !== counts.backlog_level)
      this.#sql.exec('UPDATE outbox_counts SET backlog_level = ? WHERE id = 1', alarm.level)
    return { pending: counts.pending, ...alarm }
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

  async delivered(
    id: number | null,
    now: number,
    tally?: Tally,
    toTag?: ContactToTag
  ): Promise<void> {
    writeTally(this.#sql, tally, id)
    if (id !== null) this.#sql.exec('DELETE FROM outbox WHERE id = ?', id)
    if (toTag) insertTaggings(this.#sql, taggingRecords(toTag, now))
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
      writeTally(this.#sql, tally, id)
    }
  }

  async kill(
    item: DeadOutboxItem,
    error: DeliveryError,
    now: number,
    tally?: Tally
  ): Promise<void> {
    const id = item.id ?? this.#insert(inlineDeadRecord(item, error, now))
    if (item.id !== undefined && !this.#update(id, (r) => killed(r, error, now))) return
    writeTally(this.#sql, tally, id)
    writeReceipt(this.#sql, item.receipt)
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
