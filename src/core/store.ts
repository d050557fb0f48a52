/**
 * @module store
 * The storage contracts the core needs: the token record, OAuth states and the outbox. Each
 * runtime implements them (SQLite in the Durable Object: src/workers/sql-store.ts; Deno KV:
 * src/deno/kv-store.ts), and every method is atomic. docs/storage.md documents what is kept.
 * The rules both implementations apply are pure functions in store-rules.ts, and one suite
 * (test/contract/storage-contract.ts) runs against both to hold them to the same behaviour.
 */
import type { Alert, AlertEvent } from './alerts.ts'
import type { SignUpFormBody } from './signup.ts'

/**
 * The connection record (see connection.ts). The store keeps it as an opaque JSON document: the
 * core parses what `load` returns, so older shapes are upgraded in one place.
 */
export interface TokenRepo {
  /** The document `save` stored last, or null when there is none. */
  load(): Promise<unknown>
  save(record: object): Promise<void>
}

export interface PendingAuthorization {
  state: string
  redirectUri: string
  codeVerifier: string | null
  expiresAt: number
}

export type ClaimResult =
  | { status: 'ok'; pending: PendingAuthorization }
  | { status: 'unknown' | 'expired' | 'used' }

/** OAuth `state` values we issued. `claim` must be atomic: a state is used once, ever. */
export interface AuthStateRepo {
  /**
   * Stores a new state, and purges those past their retention (store-rules.ts). Refuses (throws)
   * a state that was already issued: storing it again would make a used state claimable.
   */
  put(pending: PendingAuthorization): Promise<void>
  /** In this order: unknown, used, expired (now burned), ok (now used). See `claimVerdict`. */
  claim(state: string, now: number): Promise<ClaimResult>
}

export type AcceptedStatus = 'delivered' | 'queued'

/** What the duplicate window remembers of an accepted sign-up. */
export interface RecentSubmission {
  status: AcceptedStatus
  /** outbox.ts `payloadDigest` of what it said; null for one remembered before digests. */
  digest: string | null
}

export interface OutboxItem {
  id: number
  formId: string
  payload: SignUpFormBody
  attempts: number
  createdAt: number
}

export interface DeliveryError {
  status: number
  errorKey: string
  message: string
  at: number
}

export interface DeadLetter {
  id: number
  formId: string
  email: string
  createdAt: number
  deadAt: number
  error: DeliveryError | null
}

export interface OutboxFigures {
  pending: number
  dead: number
  oldestPendingAt: number | null
  deliveredToday: number
  quotaUsedToday: number
}

export interface DeliveryBlocks {
  pausedUntil: number | null
  parkedUntil: number | null
}

/**
 * What `enqueue` did: stored a new item, merged into a queued one, or refused because the backlog
 * (pending items) was already at the limit it was given. `backlog` is the count after it.
 */
export type EnqueueResult =
  | { outcome: 'stored' | 'merged'; id: number; backlog: number }
  | { outcome: 'full'; backlog: number }

/** The backlog alarm after a check (store-rules.ts `backlogAlarm`). */
export interface BacklogAlarm {
  pending: number
  /** The highest level alerted since the alarm was last re-armed (0, 50 or 90, in percent). */
  level: number
  /** The level this check crossed, to alert once; null when nothing new was crossed. */
  crossed: number | null
}

/** A sign-up to queue. */
export interface NewOutboxItem {
  formId: string
  emailHash: string
  payload: SignUpFormBody
  attempts: number
  nextAttemptAt: number
  now: number
}

/** What `kill` stores: a queued item (with its id), or an inline send CC refused (without). */
export interface DeadOutboxItem {
  id?: number
  formId: string
  emailHash?: string
  payload: SignUpFormBody
}

/** Storage for the outbox (docs/storage.md). Each method is atomic. */
export interface OutboxRepo {
  /**
   * Merges into a pending item of the same form+email that was never leased (store-rules.ts
   * `canMergeInto`); otherwise stores a new pending item if fewer than `maxBacklog` are pending,
   * and refuses it if not. Atomic: the pending count never passes `maxBacklog` through here.
   */
  enqueue(item: NewOutboxItem, maxBacklog: number): Promise<EnqueueResult>
  /** How many items are pending (queued, parked or in flight): a running count, never a scan. */
  backlog(): Promise<number>
  /**
   * The backlog alarm: applies store-rules.ts `backlogAlarm` to the stored level and the pending
   * count, atomically, so that each crossing is reported once (across instances too).
   */
  backlogAlarm(cap: number): Promise<BacklogAlarm>
  /**
   * Leases up to `limit` due items until `leaseUntil` and returns them, earliest due first
   * (store-rules.ts `isDue`, `dueAt`; ties by id).
   */
  claimDue(now: number, limit: number, leaseUntil: number): Promise<OutboxItem[]>
  /** Counts a delivery; for a queued item (id) also deletes it, payload and all. */
  delivered(id: number | null, now: number): Promise<void>
  /** Ends the lease; the item is due again at `nextAttemptAt`. A null error keeps the last one. */
  reschedule(
    id: number,
    nextAttemptAt: number,
    attempts: number,
    error: DeliveryError | null
  ): Promise<void>
  /** Stores a dead letter (from the queue, or straight from an inline send). */
  kill(item: DeadOutboxItem, error: DeliveryError, now: number): Promise<void>
  /** Dead letter(s) back to pending, due now, attempts reset. Returns how many. */
  revive(id: number | 'all', now: number): Promise<number>
  /** Deletes a dead letter; false when `id` is not one. */
  removeDead(id: number): Promise<boolean>
  /** Newest first (ties: higher id first). */
  deadLetters(limit: number): Promise<DeadLetter[]>
  /**
   * Deletes dead letters that died before `before`, and remembered submissions (the duplicate
   * window) seen before it. Returns how many dead letters went.
   */
  purgeDead(before: number): Promise<number>
  /** The earliest `dueAt` of a pending item, or null when none is pending. */
  nextDueAt(): Promise<number | null>
  /** Running counts and single-entry reads only: as cheap with a million items as with none. */
  figures(now: number): Promise<OutboxFigures>
  /** Counts one request to CC against the UTC day; returns that day's count. */
  countRequest(day: string): Promise<number>
  requestsOn(day: string): Promise<number>
  blocks(): Promise<DeliveryBlocks>
  setBlocks(blocks: DeliveryBlocks): Promise<void>
  /** What an earlier accepted submission of `key` got, if within `windowMs`; records nothing. */
  recentOutcome(key: string, now: number, windowMs: number): Promise<RecentSubmission | null>
  /** Records an accepted submission (delivered or durably queued), never a refused one. */
  remember(key: string, now: number, submission: RecentSubmission): Promise<void>
}

/** One kind of alert's coalescing record (store-rules.ts `coalesce`). */
export interface AlertRecord {
  event: AlertEvent
  /** When the last alert of this kind was sent (null: none yet). */
  lastSentAt: number | null
  /** Alerts held back since then. */
  held: number
  /** The newest of them, sent (with the count) once the window ends if no other comes first. */
  latest: Alert | null
  /** Alerts of this kind held back, ever. */
  heldTotal: number
}

/** Coalescing state of the owner's alerts (docs/operations.md). Each method is atomic. */
export interface AlertRepo {
  /** Applies store-rules.ts `coalesce`: the alert to send now (with its count), or null: held. */
  coalesce(alert: Alert, now: number): Promise<Alert | null>
  /** Applies `releaseHeld` to every kind: the held alerts whose window is over, to send now. */
  releaseHeld(now: number): Promise<Alert[]>
  /** Every kind's record, for /admin. */
  records(): Promise<AlertRecord[]>
}
