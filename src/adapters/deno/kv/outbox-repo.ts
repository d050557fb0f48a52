/**
 * @module adapters/deno/kv/outbox-repo
 * The outbox in Deno KV (indexes and running counts in the same atomic commit as each item), plus
 * the daily counters, delivery pauses and duplicate window.
 */

import type { ConsentReceipt } from '../../../core/consent/receipt.ts'
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
  dueAt,
  inlineDeadRecord,
  isDue,
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
} from '../../../core/relay/store-rules.ts'
import { taggingRecords } from '../../../core/tagging/queue-rules.ts'
import { addReceipt } from './consent-repo.ts'
import { BACKLOG_LEVEL, BLOCKS, count, item, recent, SEQ, stat } from './keys.ts'
import {
  type QueueLayout,
  readCounts as readQueueCounts,
  updateRecord,
  writeRecord,
} from './queued.ts'
import { addTaggings } from './tagging-repo.ts'
import { addTally, CONFLICT, collect, kvDelete, kvSet, transact } from './transact.ts'

/** The outbox's keys (see the key list in docs/deno.md). */
const OUTBOX: QueueLayout<OutboxRecord> = {
  item,
  count,
  indexes: (r) => {
    if (r.status === 'dead')
      return [{ key: ['outbox_dead', r.deadAt ?? r.createdAt, r.id], value: 1 }]
    return [
      { key: ['outbox_due', dueAt(r), r.id], value: r.createdAt },
      { key: ['outbox_key', r.formId, r.emailHash, r.id], value: 1 },
      { key: ['outbox_since', r.createdAt, r.id], value: 1 },
    ]
  },
}

const write = (op: Deno.AtomicOperation, before: OutboxRecord | null, after: OutboxRecord | null) =>
  writeRecord(OUTBOX, op, before, after)
const readCounts = (kv: Deno.Kv) => readQueueCounts(kv, OUTBOX)

export class KvOutboxRepo implements OutboxRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  /**
   * Inserts a new item. The check on ['outbox_seq'] serialises all inserts: it hands out unique
   * ids, and an insert whose reads were overtaken by another insert fails and is retried.
   */
  async #insert(
    record: UnsavedRecord,
    tally?: Tally,
    receipt?: ConsentReceipt
  ): Promise<number | typeof CONFLICT> {
    const seq = await this.#kv.get<number>(SEQ)
    const id = (seq.value ?? 0) + 1
    const op = addReceipt(addTally(this.#kv.atomic().check(seq).set(SEQ, id), tally, id), receipt)
    const committed = await write(op, null, { id, ...record }).commit()
    return committed.ok ? id : CONFLICT
  }

  /** Read-modify-write of one item; `change` returns null to leave it alone. */
  #update(
    id: number,
    change: (r: OutboxRecord) => OutboxRecord | null,
    tally?: Tally
  ): Promise<OutboxRecord | null> {
    return updateRecord(this.#kv, OUTBOX, id, change, tally)
  }

  /**
   * The check on ['outbox_seq'] serialises inserts and revivals (`revive` rewrites it too), the
   * only writes that add to the pending count; deliveries that lower it meanwhile only make the
   * count we read high. So the cap holds across instances: no commit stores an item past
   * `maxBacklog`. The
   * tally and the receipt join the commit that stores (or merges) the item, and only that one.
   */
  enqueue(input: NewOutboxItem, maxBacklog: number, tally?: Tally): Promise<EnqueueResult> {
    return transact(async () => {
      // Read the insert guard first: any insert after this point makes our commit fail.
      const seq = await this.#kv.get<number>(SEQ)
      const { pending } = await readCounts(this.#kv)
      const candidates = await collect(
        this.#kv.list({ prefix: ['outbox_key', input.formId, input.emailHash] })
      )
      const seen: Deno.AtomicCheck[] = [seq]
      for (const candidate of candidates) {
        const entry = await this.#kv.get<OutboxRecord>(item(candidate.key[3] as number))
        seen.push(entry)
        const r = entry.value
        if (!r || !canMergeInto(r)) continue
        const committed = await write(
          addReceipt(addTally(this.#kv.atomic().check(entry), tally, r.id), input.receipt),
          r,
          mergedInto(r, input)
        ).commit()
        return committed.ok ? { outcome: 'merged' as const, id: r.id, backlog: pending } : CONFLICT
      }
      if (pending >= maxBacklog) return { outcome: 'full' as const, backlog: pending }
      const id = (seq.value ?? 0) + 1
      // The checks on the items we skipped keep the decision honest: if one stopped being
      // in flight meanwhile, we retry and merge into it instead.
      const op = this.#kv
        .atomic()
        .check(...seen)
        .set(SEQ, id)
      const committed = await write(addReceipt(addTally(op, tally, id), input.receipt), null, {
        id,
        ...queuedRecord(input),
      }).commit()
      return committed.ok ? { outcome: 'stored' as const, id, backlog: pending + 1 } : CONFLICT
    })
  }

  async backlog(): Promise<number> {
    return (await readCounts(this.#kv)).pending
  }

  /** The level's check makes each crossing one commit, whichever instance sees it first. */
  backlogAlarm(cap: number): Promise<BacklogAlarm> {
    return transact(async () => {
      const entry = await this.#kv.get<number>(BACKLOG_LEVEL)
      const stored = entry.value ?? 0
      const { pending } = await readCounts(this.#kv)
      const alarm = backlogAlarm(stored, pending, cap)
      if (alarm.level === stored) return { pending, ...alarm }
      const committed = await this.#kv
        .atomic()
        .check(entry)
        .set(BACKLOG_LEVEL, alarm.level)
        .commit()
      return committed.ok ? { pending, ...alarm } : CONFLICT
    })
  }

  /**
   * Leases due items one commit each. The check on the item's versionstamp is what stops two
   * instances from sending the same item at once: only one lease commit can win.
   */
  async claimDue(now: number, limit: number, leaseUntil: number): Promise<OutboxItem[]> {
    const claimed: OutboxItem[] = []
    if (limit <= 0) return claimed
    // Keys are [.., due, id] with integer ids, so this end takes every due <= now.
    const due = this.#kv.list<number>({
      start: ['outbox_due'],
      end: ['outbox_due', now, Number.MAX_SAFE_INTEGER],
    })
    for await (const entry of due) {
      const id = entry.key[2] as number
      const leased = await this.#update(id, (r) => (isDue(r, now) ? { ...r, leaseUntil } : null))
      if (leased) claimed.push(toOutboxItem(leased))
      if (claimed.length >= limit) break
    }
    return claimed
  }

  /** The taggings `toTag` leaves join the same commit (tagging-repo.ts `addTaggings`). */
  async delivered(
    id: number | null,
    now: number,
    tally?: Tally,
    toTag?: ContactToTag
  ): Promise<void> {
    const day = utcDay(now)
    await transact(async () => {
      const op = addTally(this.#kv.atomic().sum(stat(day, 'delivered'), 1n), tally, id)
      if (id !== null) {
        const entry = await this.#kv.get<OutboxRecord>(item(id))
        // Deleted with its payload: a delivered sign-up leaves no address behind.
        if (entry.value) write(op.check(entry), entry.value, null)
      }
      if (toTag) await addTaggings(this.#kv, op, taggingRecords(toTag, now))
      return (await op.commit()).ok ? undefined : CONFLICT
    })
  }

  async reschedule(
    id: number,
    nextAttemptAt: number,
    attempts: number,
    error: DeliveryError | null,
    tally?: Tally
  ): Promise<void> {
    await this.#update(id, (r) => rescheduled(r, nextAttemptAt, attempts, error), tally)
  }

  async kill(
    dead: DeadOutboxItem,
    error: DeliveryError,
    now: number,
    tally?: Tally
  ): Promise<void> {
    if (dead.id === undefined)
      await transact(() => this.#insert(inlineDeadRecord(dead, error, now), tally, dead.receipt))
    else await this.#update(dead.id, (r) => killed(r, error, now), tally)
  }

  /**
   * One commit per item, oldest first: each is revived exactly once, even by two instances at
   * once. Each commit checks and rewrites ['outbox_seq'], as an insert does (`enqueue`), so the
   * pending count it read is still the count when it lands: revivals and inserts on any
   * instances never pass the cap together.
   */
  async revive(id: number | 'all', now: number, maxBacklog: number): Promise<Revival> {
    const ids =
      id === 'all'
        ? (await collect(this.#kv.list({ prefix: ['outbox_dead'] })))
            .map((e) => e.key[2] as number)
            .sort((a, b) => a - b)
        : [id]
    let count = 0
    for (const [i, one] of ids.entries()) {
      const outcome = await transact(async () => {
        const seq = await this.#kv.get<number>(SEQ)
        const entry = await this.#kv.get<OutboxRecord>(item(one))
        if (entry.value?.status !== 'dead') return 'gone' as const
        if ((await readCounts(this.#kv)).pending >= maxBacklog) return 'full' as const
        const op = this.#kv
          .atomic()
          .check(seq, entry)
          .set(SEQ, seq.value ?? 0)
        const committed = await write(op, entry.value, revived(entry.value, now)).commit()
        return committed.ok ? ('revived' as const) : CONFLICT
      })
      if (outcome === 'full') return { revived: count, waiting: ids.length - i }
      if (outcome === 'revived') count++
    }
    return { revived: count, waiting: 0 }
  }

  removeDead(id: number): Promise<boolean> {
    return transact(async () => {
      const entry = await this.#kv.get<OutboxRecord>(item(id))
      if (entry.value?.status !== 'dead') return false
      const committed = await write(this.#kv.atomic().check(entry), entry.value, null).commit()
      return committed.ok ? true : CONFLICT
    })
  }

  async deadLetters(limit: number): Promise<DeadLetter[]> {
    const index = await collect(
      this.#kv.list({ prefix: ['outbox_dead'] }, { reverse: true, limit })
    )
    const letters: DeadLetter[] = []
    for (const { key } of index) {
      const r = (await this.#kv.get<OutboxRecord>(item(key[2] as number))).value
      if (r?.status === 'dead') letters.push(toDeadLetter(r))
    }
    return letters
  }

  async purgeDead(before: number): Promise<number> {
    const recents = this.#kv.list<{ at: number }>({ prefix: ['recent_submissions'] })
    for await (const entry of recents) {
      if (entry.value.at < before) await kvDelete(this.#kv, entry.key)
    }
    const old = await collect(
      this.#kv.list({ start: ['outbox_dead'], end: ['outbox_dead', before] })
    )
    let purged = 0
    for (const { key } of old) if (await this.removeDead(key[2] as number)) purged++
    return purged
  }

  async nextDueAt(): Promise<number | null> {
    const [first] = await collect(this.#kv.list({ prefix: ['outbox_due'] }, { limit: 1 }))
    return first ? (first.key[1] as number) : null
  }

  /** The running counts, the first entry of ['outbox_since'] and the day's counters. */
  async figures(now: number): Promise<OutboxFigures> {
    const { pending, dead } = await readCounts(this.#kv)
    const [first] = await collect(this.#kv.list({ prefix: ['outbox_since'] }, { limit: 1 }))
    const oldest = first ? (first.key[1] as number) : null
    const day = utcDay(now)
    const [requests, delivered] = await this.#kv.getMany<[Deno.KvU64, Deno.KvU64]>([
      stat(day, 'cc_requests'),
      stat(day, 'delivered'),
    ])
    return {
      pending,
      dead,
      oldestPendingAt: oldest,
      deliveredToday: Number(delivered.value?.value ?? 0n),
      quotaUsedToday: Number(requests.value?.value ?? 0n),
    }
  }

  /** A check-and-set rather than `sum`, because the caller gets the count its own request made. */
  countRequest(day: string): Promise<number> {
    const key = stat(day, 'cc_requests')
    return transact(async () => {
      const entry = await this.#kv.get<Deno.KvU64>(key)
      const n = (entry.value?.value ?? 0n) + 1n
      const committed = await this.#kv.atomic().check(entry).set(key, new Deno.KvU64(n)).commit()
      return committed.ok ? Number(n) : CONFLICT
    })
  }

  async requestsOn(day: string): Promise<number> {
    const entry = await this.#kv.get<Deno.KvU64>(stat(day, 'cc_requests'))
    return Number(entry.value?.value ?? 0n)
  }

  async blocks(): Promise<DeliveryBlocks> {
    const entry = await this.#kv.get<DeliveryBlocks>(BLOCKS)
    return {
      pausedUntil: entry.value?.pausedUntil ?? null,
      parkedUntil: entry.value?.parkedUntil ?? null,
    }
  }

  async setBlocks(blocks: DeliveryBlocks): Promise<void> {
    await kvSet(this.#kv, BLOCKS, {
      pausedUntil: blocks.pausedUntil,
      parkedUntil: blocks.parkedUntil,
    })
  }

  async recentOutcome(
    key: string,
    now: number,
    windowMs: number
  ): Promise<RecentSubmission | null> {
    const entry = await this.#kv.get<{ at: number; status: AcceptedStatus; digest?: string }>(
      recent(key)
    )
    const seen = entry.value
    return seen && isRecent(seen.at, now, windowMs)
      ? { status: seen.status, digest: seen.digest ?? null }
      : null
  }

  async remember(key: string, now: number, submission: RecentSubmission): Promise<void> {
    await kvSet(this.#kv, recent(key), { at: now, ...submission })
  }
}
