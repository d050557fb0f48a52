/**
 * @module deno/kv-store
 * The three repos over Deno KV, method for method the same as workers/sql-store.ts. The Durable
 * Object gets atomicity for free (one instance, synchronous SQL); here several isolates or
 * instances may share one KV, so every read-modify-write is an optimistic transaction: read the
 * entries with their versionstamps, commit with `check`s on them, and retry on conflict.
 *
 * Keys (documented in docs/deno.md):
 *   ['schema_version']                           the version `migrate` brought the keys to
 *   ['connection']                               the token set (ConnectionRecord)
 *   ['refresh_lease']                            { holder, until }: who may call the token endpoint
 *   ['oauth_state', state]                       an issued OAuth state, and when it was used
 *   ['outbox_seq']                               the last outbox id handed out
 *   ['outbox', id]                               an outbox item (pending or dead), payload included
 *   ['outbox_due', max(nextAttemptAt, leaseUntil), id]   pending items by due time → createdAt
 *   ['outbox_key', formId, emailHash, id]        pending items by form and email (for merging)
 *   ['outbox_dead', deadAt, id]                  dead letters by time of death
 *   ['outbox_since', createdAt, id]              pending items by acceptance time (the oldest)
 *   ['outbox_count', 'pending' | 'dead', 'in' | 'out']   Deno.KvU64 running counts (below)
 *   ['backlog_level']                            the backlog alarm's level (0, 50 or 90)
 *   ['daily_stats', day, 'cc_requests' | 'delivered']    Deno.KvU64 counters per UTC day
 *   ['delivery_blocks']                          { pausedUntil, parkedUntil }
 *   ['recent_submissions', key]                  { at, status, digest } of the last accepted form+email
 *   ['alerts', event]                            an alert kind's coalescing record
 *   ['form', id]                                 a form made in the dashboard (StoredForm)
 *   ['form_seq']                                 the last form revision handed out
 *   ['form_audit', revision]                     the audit entry of that revision
 *   ['metrics', hour, formId, name]              Deno.KvU64 counters per hour (metrics.ts)
 *   ['activity', at, n:uuid]                     one line of the recent activity
 *   ['connection_history', at, uuid]             one line of the connection's history
 *   ['owner_session', id]                        a live owner session: its expiry time
 *   ['signin_failures', client]                  a client network's failed sign-in times
 * The indexes and the running counts are written in the same atomic commit as their item, so
 * they never disagree. A count is two monotonic sums, what came in and what went out, because
 * `sum` is the one mutation that needs no check (concurrent commits never conflict on it) and a
 * KvU64 cannot go below zero. The decisions (claim order, merging, revival, …) are
 * store-rules.ts, shared with SQLite.
 */

import type { Alert, AlertEvent } from '../core/alerts.ts'
import { type ConnectionHistoryEntry, HISTORY_KEPT } from '../core/connection-history.ts'
import {
  ACTIVITY_KEPT,
  type ActivityEntry,
  type CounterRow,
  dayOf,
  type Span,
  type Tally,
} from '../core/metrics.ts'
import { utcDay } from '../core/outbox.ts'
import { lockedFor, MAX_SESSIONS, SIGN_IN_WINDOW_MS, withFailure } from '../core/owner-limits.ts'
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
  countChange,
  dueAt,
  FORM_AUDIT_KEEP,
  inlineDeadRecord,
  isDue,
  isRecent,
  killed,
  mergedInto,
  newAlertRecord,
  type OutboxRecord,
  queuedRecord,
  releaseHeld,
  rescheduled,
  revived,
  type StoredState,
  stateRetentionCutoff,
  toDeadLetter,
  toOutboxItem,
  type UnsavedRecord,
} from '../core/store-rules.ts'

const VERSION: Deno.KvKey = ['schema_version']
const CONNECTION: Deno.KvKey = ['connection']
const LEASE: Deno.KvKey = ['refresh_lease']
const SEQ: Deno.KvKey = ['outbox_seq']
const BLOCKS: Deno.KvKey = ['delivery_blocks']
const BACKLOG_LEVEL: Deno.KvKey = ['backlog_level']
const item = (id: number): Deno.KvKey => ['outbox', id]
type Counted = 'pending' | 'dead'
const count = (status: Counted, way: 'in' | 'out'): Deno.KvKey => ['outbox_count', status, way]
const COUNT_KEYS = [
  count('pending', 'in'),
  count('pending', 'out'),
  count('dead', 'in'),
  count('dead', 'out'),
]
const recent = (key: string): Deno.KvKey => ['recent_submissions', key]
const stat = (day: string, name: 'cc_requests' | 'delivered'): Deno.KvKey => [
  'daily_stats',
  day,
  name,
]
/** The day's count of requests to CC (the send gate in kv-limits.ts takes from it). */
export const requestCountKey = (day: string): Deno.KvKey => stat(day, 'cc_requests')

/** Returned by a transaction body whose commit lost a race: run it again on fresh reads. */
export const CONFLICT = Symbol('conflict')
const MAX_ATTEMPTS = 100

/**
 * Runs `body` until it commits. Each run re-reads what it checks, so a retry acts on the state
 * that won; a short random pause after a few losses keeps contending instances from lockstep.
 */
export async function transact<T>(body: () => Promise<T | typeof CONFLICT>): Promise<T> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let result: T | typeof CONFLICT
    try {
      result = await body()
    } catch (err) {
      if (!isBusy(err)) throw err
      result = CONFLICT
    }
    if (result !== CONFLICT) return result
    if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt))
  }
  throw new Error(`Deno KV: no commit after ${MAX_ATTEMPTS} attempts (heavy contention)`)
}

/**
 * A local KV file shared by several processes (or handles) is one SQLite database: when two
 * checked commits race, the loser gets "database is locked" instead of `ok: false`. Nothing was
 * written, so it is the same lost race, and the same retry on fresh reads is the answer.
 */
function isBusy(err: unknown): boolean {
  return /database is locked|SQLITE_BUSY/i.test(String(err))
}

/**
 * The `expireIn` option of a write that should lapse `ms` from now. Deno KV takes a whole,
 * positive number of milliseconds and throws on anything else, and the times it is computed from
 * need not be whole: a client's budget refills every 60,000 / SUBMIT_RATE_LIMIT_PER_MINUTE ms
 * (1,333.3… at 45). Rounded up, so an entry never lapses before the moment it stands for.
 */
export function expiresIn(ms: number): { expireIn: number } {
  return { expireIn: Math.max(1, Math.ceil(ms)) }
}

/** A plain write, retried like a transaction if the shared SQLite file is busy. */
function kvSet(kv: Deno.Kv, key: Deno.KvKey, value: unknown): Promise<void> {
  return transact(async () => {
    await kv.set(key, value)
  })
}

function kvDelete(kv: Deno.Kv, key: Deno.KvKey): Promise<void> {
  return transact(() => kv.delete(key))
}

/**
 * Adds a tally (metrics.ts) to `op`: a sum into each count's hour key (conflict-free, so no check
 * and no retry for them) and the activity lines, in the commit of the event they count.
 */
function addTally(op: Deno.AtomicOperation, tally: Tally | undefined): Deno.AtomicOperation {
  if (!tally) return op
  for (const c of tally.counts) op.sum(['metrics', c.hour, c.form, c.name], BigInt(c.n))
  // The line's index in the tally orders two lines of one moment as they happened.
  for (const [i, a] of tally.activity.entries()) {
    op.set(['activity', a.at, `${i}:${crypto.randomUUID()}`], a)
  }
  return op
}

/** Deletes `keys`, a hundred per commit. */
async function deleteKeys(kv: Deno.Kv, keys: Deno.KvKey[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 100) {
    await transact(async () => {
      const op = kv.atomic()
      for (const key of keys.slice(i, i + 100)) op.delete(key)
      return (await op.commit()).ok ? undefined : CONFLICT
    })
  }
}

async function collect<T>(iter: Deno.KvListIterator<T>): Promise<Deno.KvEntry<T>[]> {
  const out: Deno.KvEntry<T>[] = []
  for await (const entry of iter) out.push(entry)
  return out
}

/**
 * The key layout, one entry per version: migration n takes the store from version n - 1 to n.
 * Each adds its writes to the atomic operation that also bumps ['schema_version'], checked
 * against the version it read, so when several instances start at once exactly one runs each
 * migration and the others see it done. To change the layout, append a migration here (and
 * document it in docs/deno.md); never edit one that has shipped.
 */
const MIGRATIONS: readonly ((kv: Deno.Kv, op: Deno.AtomicOperation) => Promise<void>)[] = [
  // 1: the keys as they were before versioning (listed above): adopted as they are.
  async () => {},
  // 2: nothing here (SQLite's 2 rebuilt an index KV never had); kept so both stores count alike.
  async () => {},
  // 3: the running counts and the ['outbox_since'] index of the items already stored. The index
  //    entries go one checked commit per item (an item that changed meanwhile is read again);
  //    the counts go in the migration's own commit. (Remembered sign-ups without a digest, and
  //    kinds of alert never sent, need nothing: they read as "unknown" and "none yet".)
  async (kv, op) => {
    const counts = { pending: 0, dead: 0 }
    for await (const listed of kv.list<OutboxRecord>({ prefix: ['outbox'] })) {
      const r = listed.value
      counts[r.status]++
      if (r.status !== 'pending') continue
      await transact(async () => {
        const entry = await kv.get<OutboxRecord>(listed.key)
        if (entry.value?.status !== 'pending') return undefined
        const committed = await kv
          .atomic()
          .check(entry)
          .set(['outbox_since', entry.value.createdAt, entry.value.id], 1)
          .commit()
        return committed.ok ? undefined : CONFLICT
      })
    }
    for (const status of ['pending', 'dead'] as const) {
      op.set(count(status, 'in'), new Deno.KvU64(BigInt(counts[status])))
      op.set(count(status, 'out'), new Deno.KvU64(0n))
    }
  },
]

/** The version `migrate` brings the store to. */
export const SCHEMA_VERSION = MIGRATIONS.length

/** Runs the pending migrations; call it once the KV is open, before serving. */
export async function migrate(kv: Deno.Kv): Promise<void> {
  let migrated = true
  while (migrated) {
    // One migration per commit; false once none is pending.
    migrated = await transact(async () => {
      const entry = await kv.get<number>(VERSION)
      const version = entry.value ?? 0
      if (version >= SCHEMA_VERSION) return false
      const op = kv
        .atomic()
        .check(entry)
        .set(VERSION, version + 1)
      await MIGRATIONS[version](kv, op)
      return (await op.commit()).ok ? true : CONFLICT
    })
  }
}

interface Lease {
  holder: string
  until: number
}

export class KvTokenRepo implements TokenRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  async load(): Promise<unknown> {
    return (await this.#kv.get(CONNECTION)).value
  }

  async save(record: object, history?: ConnectionHistoryEntry): Promise<void> {
    if (!history) return kvSet(this.#kv, CONNECTION, record)
    const line = ['connection_history', history.at, crypto.randomUUID()]
    await transact(async () => {
      const op = this.#kv.atomic().set(CONNECTION, record).set(line, history)
      return (await op.commit()).ok ? undefined : CONFLICT
    })
  }

  /**
   * The cross-instance refresh lock. The check on the lease's versionstamp makes take-over
   * atomic: of two instances that both saw it free (or expired), exactly one commit succeeds.
   */
  acquireRefreshLease(holder: string, now: number, ttlMs: number): Promise<boolean> {
    return transact(async () => {
      const entry = await this.#kv.get<Lease>(LEASE)
      const lease = entry.value
      if (lease && lease.holder !== holder && lease.until > now) return false
      // `until` decides; expireIn only tidies up a lease whose holder died.
      const committed = await this.#kv
        .atomic()
        .check(entry)
        .set(LEASE, { holder, until: now + ttlMs } satisfies Lease, expiresIn(ttlMs))
        .commit()
      return committed.ok ? true : CONFLICT
    })
  }

  releaseRefreshLease(holder: string): Promise<void> {
    return transact(async () => {
      const entry = await this.#kv.get<Lease>(LEASE)
      // Expired and taken over meanwhile: that lease is someone else's now.
      if (entry.value?.holder !== holder) return undefined
      const committed = await this.#kv.atomic().check(entry).delete(LEASE).commit()
      return committed.ok ? undefined : CONFLICT
    })
  }
}

export class KvAuthStateRepo implements AuthStateRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  async put(p: PendingAuthorization): Promise<void> {
    // The same purge as SQL (states are few: one per Connect click). Deleting a state that
    // another instance is claiming is harmless: it is over a day past its expiry either way.
    const cutoff = stateRetentionCutoff(p.expiresAt)
    for await (const entry of this.#kv.list<StoredState>({ prefix: ['oauth_state'] })) {
      if (entry.value.expiresAt < cutoff) await kvDelete(this.#kv, entry.key)
    }
    const key = ['oauth_state', p.state]
    const stored: StoredState = {
      redirectUri: p.redirectUri,
      codeVerifier: p.codeVerifier,
      expiresAt: p.expiresAt,
      usedAt: null,
    }
    await transact(async () => {
      const entry = await this.#kv.get(key)
      // Never reset an issued state to unused: that would make a used one claimable again.
      if (entry.versionstamp !== null) throw new Error('This OAuth state was already issued')
      const committed = await this.#kv.atomic().check(entry).set(key, stored).commit()
      return committed.ok ? undefined : CONFLICT
    })
  }

  /** Used once, ever: of two concurrent claims (any instances), only one commit marks it used. */
  claim(state: string, now: number): Promise<ClaimResult> {
    const key = ['oauth_state', state]
    return transact(async () => {
      const entry = await this.#kv.get<StoredState>(key)
      const { result, markUsed } = claimVerdict(state, entry.value, now)
      if (!markUsed || !entry.value) return result
      const committed = await this.#kv
        .atomic()
        .check(entry)
        .set(key, { ...entry.value, usedAt: now } satisfies StoredState)
        .commit()
      return committed.ok ? result : CONFLICT
    })
  }
}

/** The index entries an item owns in its current state (see the key list at the top). */
function indexes(r: OutboxRecord): { key: Deno.KvKey; value: unknown }[] {
  if (r.status === 'dead')
    return [{ key: ['outbox_dead', r.deadAt ?? r.createdAt, r.id], value: 1 }]
  return [
    { key: ['outbox_due', dueAt(r), r.id], value: r.createdAt },
    { key: ['outbox_key', r.formId, r.emailHash, r.id], value: 1 },
    { key: ['outbox_since', r.createdAt, r.id], value: 1 },
  ]
}

/** The running counts as stored: what came in minus what went out, per status. */
async function readCounts(kv: Deno.Kv): Promise<{ pending: number; dead: number }> {
  const [pendingIn, pendingOut, deadIn, deadOut] = (await kv.getMany<Deno.KvU64[]>(COUNT_KEYS)).map(
    (entry) => Number(entry.value?.value ?? 0n)
  )
  // Never below zero, even if an older instance wrote while migration 3 counted.
  return {
    pending: Math.max(0, pendingIn - pendingOut),
    dead: Math.max(0, deadIn - deadOut),
  }
}

/** Adds to `op` the writes that turn `before` into `after` (null: absent), indexes included. */
function write(
  op: Deno.AtomicOperation,
  before: OutboxRecord | null,
  after: OutboxRecord | null
): Deno.AtomicOperation {
  // Mutations apply in order, so deleting the old index entries first and then setting the new
  // ones is right even when a key is in both.
  if (before) for (const { key } of indexes(before)) op.delete(key)
  if (after) {
    op.set(item(after.id), after)
    for (const { key, value } of indexes(after)) op.set(key, value)
  } else if (before) {
    op.delete(item(before.id))
  }
  const change = countChange(before, after)
  for (const status of ['pending', 'dead'] as const) {
    const n = change[status]
    if (n !== 0) op.sum(count(status, n > 0 ? 'in' : 'out'), BigInt(Math.abs(n)))
  }
  return op
}

export class KvOutboxRepo implements OutboxRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  /**
   * Inserts a new item. The check on ['outbox_seq'] serialises all inserts: it hands out unique
   * ids, and an insert whose reads were overtaken by another insert fails and is retried.
   */
  async #insert(record: UnsavedRecord, tally?: Tally): Promise<number | typeof CONFLICT> {
    const seq = await this.#kv.get<number>(SEQ)
    const id = (seq.value ?? 0) + 1
    const op = addTally(this.#kv.atomic().check(seq).set(SEQ, id), tally)
    const committed = await write(op, null, { id, ...record }).commit()
    return committed.ok ? id : CONFLICT
  }

  /** Read-modify-write of one item; `change` returns null to leave it alone. */
  #update(
    id: number,
    change: (r: OutboxRecord) => OutboxRecord | null,
    tally?: Tally
  ): Promise<OutboxRecord | null> {
    return transact(async () => {
      const entry = await this.#kv.get<OutboxRecord>(item(id))
      if (!entry.value) return null
      const next = change(entry.value)
      if (!next) return null
      const op = addTally(this.#kv.atomic().check(entry), tally)
      const committed = await write(op, entry.value, next).commit()
      return committed.ok ? next : CONFLICT
    })
  }

  /**
   * The check on ['outbox_seq'] serialises inserts and revivals (`revive` rewrites it too), the
   * only writes that add to the pending count; deliveries that lower it meanwhile only make the
   * count we read high. So the cap holds across instances: no commit stores an item past `maxBacklog`. The
   * tally joins the commit that stores (or merges) the item, and only that one.
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
          addTally(this.#kv.atomic().check(entry), tally),
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
      const committed = await write(addTally(op, tally), null, {
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
      const { level, crossed } = backlogAlarm(stored, pending, cap)
      if (level === stored) return { pending, level, crossed }
      const committed = await this.#kv.atomic().check(entry).set(BACKLOG_LEVEL, level).commit()
      return committed.ok ? { pending, level, crossed } : CONFLICT
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

  async delivered(id: number | null, now: number, tally?: Tally): Promise<void> {
    const day = utcDay(now)
    await transact(async () => {
      const op = addTally(this.#kv.atomic().sum(stat(day, 'delivered'), 1n), tally)
      if (id !== null) {
        const entry = await this.#kv.get<OutboxRecord>(item(id))
        // Deleted with its payload: a delivered sign-up leaves no address behind.
        if (entry.value) write(op.check(entry), entry.value, null)
      }
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
      await transact(() => this.#insert(inlineDeadRecord(dead, error, now), tally))
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

const alertKey = (event: AlertEvent): Deno.KvKey => ['alerts', event]

export class KvAlertRepo implements AlertRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  /** A check-and-set on the kind's record: of two instances alerting at once, one sends. */
  coalesce(alert: Alert, now: number): Promise<Alert | null> {
    return transact(async () => {
      const entry = await this.#kv.get<AlertRecord>(alertKey(alert.event))
      const { record, send } = coalesce(entry.value ?? newAlertRecord(alert.event), alert, now)
      const committed = await this.#kv
        .atomic()
        .check(entry)
        .set(alertKey(alert.event), record)
        .commit()
      return committed.ok ? send : CONFLICT
    })
  }

  async releaseHeld(now: number): Promise<Alert[]> {
    const out: Alert[] = []
    for (const { key } of await collect(this.#kv.list<AlertRecord>({ prefix: ['alerts'] }))) {
      const send = await transact(async () => {
        const entry = await this.#kv.get<AlertRecord>(key)
        const released = entry.value ? releaseHeld(entry.value, now) : null
        if (!released) return null
        const committed = await this.#kv.atomic().check(entry).set(key, released.record).commit()
        return committed.ok ? released.send : CONFLICT
      })
      if (send) out.push(send)
    }
    return out
  }

  async records(): Promise<AlertRecord[]> {
    return (await collect(this.#kv.list<AlertRecord>({ prefix: ['alerts'] }))).map((e) => e.value)
  }
}

const session = (id: string): Deno.KvKey => ['owner_session', id]
const failuresOf = (client: string): Deno.KvKey => ['signin_failures', client]

/**
 * Sessions and failed sign-ins. Both expire by themselves (`expireIn`): a session at its end,
 * a client's failures a window after the last one, so KV keeps only clients that failed within
 * the last SIGN_IN_WINDOW_MS, however many networks an attacker uses.
 */
export class KvOwnerRepo implements OwnerRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  async addSession(id: string, expiresAt: number, now: number): Promise<void> {
    // Sessions are few (only the owner opens one): a scan is cheap.
    const live = await collect(this.#kv.list<number>({ prefix: ['owner_session'] }))
    live.sort((a, b) => a.value - b.value)
    const ended = live.filter((e, i) => e.value <= now || i <= live.length - MAX_SESSIONS)
    for (const { key } of ended) await kvDelete(this.#kv, key)
    await transact(async () => {
      await this.#kv.set(session(id), expiresAt, expiresIn(expiresAt - now))
    })
  }

  async hasSession(id: string, now: number): Promise<boolean> {
    const expiresAt = (await this.#kv.get<number>(session(id))).value
    return expiresAt !== null && expiresAt > now
  }

  removeSession(id: string): Promise<void> {
    return kvDelete(this.#kv, session(id))
  }

  /** Check-and-set: of concurrent failures on any instances, each is counted exactly once. */
  countSignInFailure(client: string, now: number): Promise<number> {
    return transact(async () => {
      const entry = await this.#kv.get<number[]>(failuresOf(client))
      const failures = entry.value ?? []
      const wait = lockedFor(failures, now)
      if (wait > 0) return wait
      const committed = await this.#kv
        .atomic()
        .check(entry)
        .set(failuresOf(client), withFailure(failures, now), expiresIn(SIGN_IN_WINDOW_MS))
        .commit()
      return committed.ok ? 0 : CONFLICT
    })
  }

  async signInLockout(client: string, now: number): Promise<number> {
    return lockedFor((await this.#kv.get<number[]>(failuresOf(client))).value ?? [], now)
  }
}

const FORM_SEQ: Deno.KvKey = ['form_seq']
const form = (id: string): Deno.KvKey => ['form', id]
const audit = (revision: number): Deno.KvKey => ['form_audit', revision]

export class KvFormRepo implements FormRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  async get(id: string): Promise<StoredForm | null> {
    return (await this.#kv.get<StoredForm>(form(id))).value
  }

  async list(): Promise<StoredForm[]> {
    return (await collect(this.#kv.list<StoredForm>({ prefix: ['form'] }))).map((e) => e.value)
  }

  /**
   * The check on ['form_seq'] serialises every write (as ['outbox_seq'] does inserts): a revision
   * is handed out once, and a form is written with the audit entry that describes it. Dropping
   * the entry FORM_AUDIT_KEEP revisions back on each write keeps the newest ones.
   */
  write(change: FormChange): Promise<number> {
    return transact(async () => {
      const seq = await this.#kv.get<number>(FORM_SEQ)
      const revision = (seq.value ?? 0) + 1
      const entry: FormAuditEntry = {
        revision,
        at: change.at,
        formId: change.formId,
        action: change.action,
        changes: change.changes,
      }
      const op = this.#kv
        .atomic()
        .check(seq)
        .set(FORM_SEQ, revision)
        .set(audit(revision), entry)
        .delete(audit(revision - FORM_AUDIT_KEEP))
      if (change.form) {
        const stored: StoredForm = {
          id: change.formId,
          ...change.form,
          revision,
          updatedAt: change.at,
        }
        op.set(form(change.formId), stored)
      } else {
        op.delete(form(change.formId))
      }
      return (await op.commit()).ok ? revision : CONFLICT
    })
  }

  async audit(limit: number): Promise<FormAuditEntry[]> {
    const entries = this.#kv.list<FormAuditEntry>(
      { prefix: ['form_audit'] },
      { reverse: true, limit }
    )
    return (await collect(entries)).map((e) => e.value)
  }
}

export class KvMetricsRepo implements MetricsRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  count(tally: Tally): Promise<void> {
    return transact(async () =>
      (await addTally(this.#kv.atomic(), tally).commit()).ok ? undefined : CONFLICT
    )
  }

  async counters(span: Span, from: number, to: number): Promise<CounterRow[]> {
    const entries = this.#kv.list<Deno.KvU64>({ start: ['metrics', from], end: ['metrics', to] })
    const rows: CounterRow[] = []
    for await (const { key, value } of entries) {
      const [, hour, form, name] = key as [string, number, string, string]
      rows.push({ start: span === 'hour' ? hour : dayOf(hour), form, name, n: Number(value.value) })
    }
    return rows
  }

  async activity(filter: ActivityFilter, limit: number): Promise<ActivityEntry[]> {
    const lines = await collect(
      this.#kv.list<ActivityEntry>(
        { prefix: ['activity'] },
        { reverse: true, limit: ACTIVITY_KEPT }
      )
    )
    return lines
      .map((e) => e.value)
      .filter(
        (a) =>
          (!filter.form || a.form === filter.form) &&
          (!filter.outcome || a.outcome === filter.outcome)
      )
      .slice(0, limit)
  }

  async connectionHistory(since: number): Promise<ConnectionHistoryEntry[]> {
    const prefix = ['connection_history']
    const list = (selector: Deno.KvListSelector, options?: Deno.KvListOptions) =>
      collect(this.#kv.list<ConnectionHistoryEntry>(selector, options))
    const before = await list({ prefix, end: [...prefix, since] }, { reverse: true, limit: 1 })
    const after = await list({ prefix, start: [...prefix, since] })
    return [...before, ...after].map((e) => e.value)
  }

  /** Keys are listed and deleted in batches: this runs in the cron, never on a sign-up. */
  async purgeMetrics(before: number): Promise<void> {
    const keys = async (selector: Deno.KvListSelector, options?: Deno.KvListOptions) =>
      (await collect(this.#kv.list(selector, options))).map((e) => e.key)
    const old = [
      ...(await keys({ prefix: ['metrics'], end: ['metrics', before] })),
      ...(await keys({ prefix: ['activity'], end: ['activity', before] })),
      ...(await keys({ prefix: ['connection_history'], end: ['connection_history', before] })),
      ...(await keys({ prefix: ['activity'] }, { reverse: true })).slice(ACTIVITY_KEPT),
      ...(await keys({ prefix: ['connection_history'] }, { reverse: true })).slice(HISTORY_KEPT),
    ]
    await deleteKeys(this.#kv, [...new Map(old.map((k) => [JSON.stringify(k), k])).values()])
  }
}
