/**
 * @module adapters/deno/kv/tagging-repo
 * Pending and dead taggings in Deno KV: each record with its index entries and running counts in
 * one atomic commit (queued.ts), as the outbox's. The decisions are core/tagging/queue-rules.ts
 * and core/relay/store-rules.ts.
 */

import type { DeliveryError } from '../../../core/outbox/repo.ts'
import { dueAt, isDue, killed, rescheduled, revived } from '../../../core/relay/store-rules.ts'
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
import { TAGGING_SEQ, tagging, taggingCount } from './keys.ts'
import { type QueueLayout, readCounts, updateRecord, writeRecord } from './queued.ts'
import { CONFLICT, collect, transact } from './transact.ts'

/** The tagging queue's keys (see the key list in docs/deno.md). */
const TAGGINGS: QueueLayout<TaggingRecord> = {
  item: tagging,
  count: taggingCount,
  indexes: (r) =>
    r.status === 'dead'
      ? [{ key: ['tagging_dead', r.deadAt ?? r.createdAt, r.id], value: 1 }]
      : [
          { key: ['tagging_due', dueAt(r), r.id], value: 1 },
          { key: ['tagging_set', r.tagKey, dueAt(r), r.id], value: 1 },
        ],
}

/**
 * Adds new pending taggings to `op`, a commit of the caller's (the outbox's `delivered`) run in
 * `transact`: the check on ['tagging_seq'] hands out unique ids, and a commit that lost the race
 * for them is run again.
 */
export async function addTaggings(
  kv: Deno.Kv,
  op: Deno.AtomicOperation,
  records: UnsavedTaggingRecord[]
): Promise<void> {
  const seq = await kv.get<number>(TAGGING_SEQ)
  const first = (seq.value ?? 0) + 1
  op.check(seq).set(TAGGING_SEQ, first + records.length - 1)
  for (const [i, record] of records.entries())
    writeRecord(TAGGINGS, op, null, { id: first + i, ...record })
}

const MAX_KEY = Number.MAX_SAFE_INTEGER

export class KvTaggingRepo implements TaggingRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  #update(id: number, change: (r: TaggingRecord) => TaggingRecord | null) {
    return updateRecord(this.#kv, TAGGINGS, id, change)
  }

  /**
   * Leases one commit each, as the outbox's claimDue: the check on each record's versionstamp
   * lets one instance only lease it. Keys are [.., due, id] with integer ids, so an end of
   * [due, MAX] takes every entry due by then.
   */
  async claimBatch(
    now: number,
    gatherUntil: number,
    leaseUntil: number,
    limit: number
  ): Promise<TaggingBatch | null> {
    const [first] = await collect(
      this.#kv.list({ start: ['tagging_due'], end: ['tagging_due', now, MAX_KEY] }, { limit: 1 })
    )
    const head = first && (await this.#kv.get<TaggingRecord>(tagging(first.key[2] as number)))
    if (!head?.value) return null
    const { tagKey, tagIds } = head.value
    const set = this.#kv.list({
      start: ['tagging_set', tagKey],
      end: ['tagging_set', tagKey, gatherUntil, MAX_KEY],
    })
    const batch: TaggingBatch = { tagIds, items: [] }
    for await (const entry of set) {
      const id = entry.key[3] as number
      const leased = await this.#update(id, (r) =>
        isDue(r, gatherUntil) ? { ...r, leaseUntil } : null
      )
      if (leased) batch.items.push(toPendingTagging(leased))
      if (batch.items.length >= limit) break
    }
    return batch.items.length > 0 ? batch : null
  }

  /** Deletes a record that `which` accepts, with its index entries; false when there was none. */
  #remove(id: number, which: (r: TaggingRecord) => boolean): Promise<boolean> {
    return transact(async () => {
      const entry = await this.#kv.get<TaggingRecord>(tagging(id))
      if (!entry.value || !which(entry.value)) return false
      const op = writeRecord(TAGGINGS, this.#kv.atomic().check(entry), entry.value, null)
      return (await op.commit()).ok ? true : CONFLICT
    })
  }

  async applied(ids: number[]): Promise<void> {
    for (const id of ids) await this.#remove(id, () => true)
  }

  async reschedule(
    ids: number[],
    nextAttemptAt: number,
    attempts: number,
    error: DeliveryError | null
  ): Promise<void> {
    for (const id of ids)
      await this.#update(id, (r) => rescheduled(r, nextAttemptAt, attempts, error))
  }

  async kill(ids: number[], error: DeliveryError, now: number): Promise<void> {
    for (const id of ids) await this.#update(id, (r) => killed(r, error, now))
  }

  async revive(id: number | 'all', now: number): Promise<number> {
    const ids =
      id === 'all'
        ? (await collect(this.#kv.list({ prefix: ['tagging_dead'] }))).map(
            (e) => e.key[2] as number
          )
        : [id]
    let count = 0
    for (const one of ids) if (await this.#update(one, (r) => revived(r, now))) count++
    return count
  }

  removeDead(id: number): Promise<boolean> {
    return this.#remove(id, (r) => r.status === 'dead')
  }

  async deadLetters(limit: number): Promise<TaggingDeadLetter[]> {
    const index = await collect(
      this.#kv.list({ prefix: ['tagging_dead'] }, { reverse: true, limit })
    )
    const letters: TaggingDeadLetter[] = []
    for (const { key } of index) {
      const r = (await this.#kv.get<TaggingRecord>(tagging(key[2] as number))).value
      if (r?.status === 'dead') letters.push(toTaggingDeadLetter(r))
    }
    return letters
  }

  async purgeDead(before: number): Promise<number> {
    const old = await collect(
      this.#kv.list({ start: ['tagging_dead'], end: ['tagging_dead', before] })
    )
    let purged = 0
    for (const { key } of old) if (await this.removeDead(key[2] as number)) purged++
    return purged
  }

  async nextDueAt(): Promise<number | null> {
    const [first] = await collect(this.#kv.list({ prefix: ['tagging_due'] }, { limit: 1 }))
    return first ? (first.key[1] as number) : null
  }

  counts(): Promise<TaggingCounts> {
    return readCounts(this.#kv, TAGGINGS)
  }
}
