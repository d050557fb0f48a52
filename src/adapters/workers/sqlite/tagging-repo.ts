/**
 * @module adapters/workers/sqlite/tagging-repo
 * Pending and dead taggings (`taggings`) in the Durable Object's SQLite. `sql.exec` is
 * synchronous, so each method is atomic within the object's turn; the decisions are
 * core/tagging/queue-rules.ts and core/relay/store-rules.ts.
 */

import type { DeliveryError } from '../../../core/outbox/repo.ts'
import { killed, rescheduled, revived } from '../../../core/relay/store-rules.ts'
import {
  type TaggingRecord,
  toPendingTagging,
  toTaggingDeadLetter,
  type UnsavedTaggingRecord,
} from '../../../core/tagging/queue-rules.ts'
import type {
  TaggingBatch,
  TaggingCounts,
  TaggingDeadLetter,
  TaggingRepo,
} from '../../../core/tagging/repo.ts'
import { DUE_AT } from './migrations.ts'

type TaggingRow = {
  id: number
  form_id: string
  contact_id: string
  tag_ids: string
  tag_key: string
  email_masked: string
  status: 'pending' | 'dead'
  attempts: number
  created_at: number
  next_attempt_at: number
  lease_until: number | null
  last_error: string | null
  dead_at: number | null
}

function fromRow(row: TaggingRow): TaggingRecord {
  return {
    id: row.id,
    formId: row.form_id,
    contactId: row.contact_id,
    tagIds: JSON.parse(row.tag_ids) as string[],
    tagKey: row.tag_key,
    emailMasked: row.email_masked,
    status: row.status,
    attempts: row.attempts,
    createdAt: row.created_at,
    nextAttemptAt: row.next_attempt_at,
    leaseUntil: row.lease_until,
    lastError: row.last_error === null ? null : (JSON.parse(row.last_error) as DeliveryError),
    deadAt: row.dead_at,
  }
}

/** Every column but id, with its value in a record (the inverse of `fromRow`). */
const COLUMNS: [string, (r: UnsavedTaggingRecord) => SqlStorageValue][] = [
  ['form_id', (r) => r.formId],
  ['contact_id', (r) => r.contactId],
  ['tag_ids', (r) => JSON.stringify(r.tagIds)],
  ['tag_key', (r) => r.tagKey],
  ['email_masked', (r) => r.emailMasked],
  ['status', (r) => r.status],
  ['attempts', (r) => r.attempts],
  ['created_at', (r) => r.createdAt],
  ['next_attempt_at', (r) => r.nextAttemptAt],
  ['lease_until', (r) => r.leaseUntil],
  ['last_error', (r) => (r.lastError ? JSON.stringify(r.lastError) : null)],
  ['dead_at', (r) => r.deadAt],
]
const columnValues = (r: UnsavedTaggingRecord) => COLUMNS.map(([, value]) => value(r))
const INSERT = `INSERT INTO taggings (${COLUMNS.map(([name]) => name).join(', ')})
  VALUES (${COLUMNS.map(() => '?').join(', ')})`
const UPDATE = `UPDATE taggings SET ${COLUMNS.map(([name]) => `${name} = ?`).join(', ')} WHERE id = ?`

/** Stores new pending taggings: the outbox's `delivered` calls it, in its own step. */
export function insertTaggings(sql: SqlStorage, records: UnsavedTaggingRecord[]): void {
  for (const record of records) sql.exec(INSERT, ...columnValues(record))
}

export class SqlTaggingRepo implements TaggingRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  #records(where: string, ...params: SqlStorageValue[]): TaggingRecord[] {
    return this.#sql
      .exec<TaggingRow>(`SELECT * FROM taggings WHERE ${where}`, ...params)
      .toArray()
      .map(fromRow)
  }

  /** Read, decide (null: leave it), write, for each id: one synchronous step. */
  #update(ids: number[], change: (r: TaggingRecord) => TaggingRecord | null): number {
    let changed = 0
    for (const id of ids) {
      const [record] = this.#records('id = ?', id)
      const next = record ? change(record) : null
      if (!next) continue
      this.#sql.exec(UPDATE, ...columnValues(next), id)
      changed++
    }
    return changed
  }

  /** The selections are store-rules.ts `isDue` and the batch rule, spelled in SQL. */
  async claimBatch(
    now: number,
    gatherUntil: number,
    leaseUntil: number,
    limit: number
  ): Promise<TaggingBatch | null> {
    const [first] = this.#records(
      `status = 'pending' AND ${DUE_AT} <= ? ORDER BY ${DUE_AT}, id LIMIT 1`,
      now
    )
    if (!first) return null
    const batch = this.#records(
      `status = 'pending' AND tag_key = ? AND ${DUE_AT} <= ? ORDER BY ${DUE_AT}, id LIMIT ?`,
      first.tagKey,
      gatherUntil,
      Math.max(1, limit)
    )
    for (const record of batch) {
      this.#sql.exec('UPDATE taggings SET lease_until = ? WHERE id = ?', leaseUntil, record.id)
    }
    return { tagIds: first.tagIds, items: batch.map(toPendingTagging) }
  }

  async applied(ids: number[]): Promise<void> {
    for (const id of ids) this.#sql.exec('DELETE FROM taggings WHERE id = ?', id)
  }

  async reschedule(
    ids: number[],
    nextAttemptAt: number,
    attempts: number,
    error: DeliveryError | null
  ): Promise<void> {
    this.#update(ids, (r) => rescheduled(r, nextAttemptAt, attempts, error))
  }

  async kill(ids: number[], error: DeliveryError, now: number): Promise<void> {
    this.#update(ids, (r) => killed(r, error, now))
  }

  async revive(id: number | 'all', now: number): Promise<number> {
    const dead =
      id === 'all'
        ? this.#sql
            .exec<{ id: number }>(`SELECT id FROM taggings WHERE status = 'dead' ORDER BY id`)
            .toArray()
            .map((r) => r.id)
        : [id]
    return this.#update(dead, (r) => revived(r, now))
  }

  async removeDead(id: number): Promise<boolean> {
    return (
      this.#sql.exec(`DELETE FROM taggings WHERE status = 'dead' AND id = ?`, id).rowsWritten > 0
    )
  }

  async deadLetters(limit: number): Promise<TaggingDeadLetter[]> {
    return this.#records(`status = 'dead' ORDER BY dead_at DESC, id DESC LIMIT ?`, limit).map(
      toTaggingDeadLetter
    )
  }

  async purgeDead(before: number): Promise<number> {
    return this.#sql
      .exec(`DELETE FROM taggings WHERE status = 'dead' AND dead_at < ? RETURNING id`, before)
      .toArray().length
  }

  async nextDueAt(): Promise<number | null> {
    const [row] = this.#sql
      .exec<{ at: number | null }>(
        `SELECT MIN(${DUE_AT}) AS at FROM taggings WHERE status = 'pending'`
      )
      .toArray()
    return row?.at ?? null
  }

  /** Counted over the (status, …) indexes: taggings wait seconds, dead ones at most 30 days. */
  async counts(): Promise<TaggingCounts> {
    const rows = this.#sql
      .exec<{ status: 'pending' | 'dead'; n: number }>(
        'SELECT status, COUNT(*) AS n FROM taggings GROUP BY status'
      )
      .toArray()
    const n = (status: string) => rows.find((r) => r.status === status)?.n ?? 0
    return { pending: n('pending'), dead: n('dead') }
  }
}
