/**
 * @module store
 * The storage contracts the core needs: the token record, OAuth states and the outbox. Each
 * runtime implements them (SQLite in the Durable Object: src/workers/sql-store.ts; Deno KV:
 * src/deno/kv-store.ts), and every method is atomic. docs/storage.md documents what is kept.
 * The rules both implementations apply are pure functions in store-rules.ts (owner-limits.ts for
 * the owner's sessions and sign-in throttle), and one suite
 * (test/contract/storage-contract.ts) runs against both to hold them to the same behaviour.
 */

import type { Alert, AlertEvent } from './alerts.ts'
import type { FormProfile } from './config.ts'
import type { ConnectionHistoryEntry } from './connection-history.ts'
import type { FieldTypes } from './field-types.ts'
import type { ActivityEntry, CounterRow, EventOutcome, Span, Tally } from './metrics.ts'
import type { SignUpFormBody } from './signup.ts'

/**
 * The connection record (see connection.ts). The store keeps it as an opaque JSON document: the
 * core parses what `load` returns, so older shapes are upgraded in one place.
 */
export interface TokenRepo {
  /** The document `save` stored last, or null when there is none. */
  load(): Promise<unknown>
  /** With `history`, that line goes into the connection's history in the same write. */
  save(record: object, history?: ConnectionHistoryEntry): Promise<void>
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

/** What a replay of dead letters did (OutboxRepo `revive`). */
export interface Revival {
  revived: number
  /** Asked for, but left dead: the backlog was at its cap. */
  waiting: number
}

/** What `kill` stores: a queued item (with its id), or an inline send CC refused (without). */
export interface DeadOutboxItem {
  id?: number
  formId: string
  emailHash?: string
  payload: SignUpFormBody
}

/**
 * Storage for the outbox (docs/storage.md). Each method is atomic. A `tally` (metrics.ts) is
 * written in the same write as the event it counts.
 */
export interface OutboxRepo {
  /**
   * Merges into a pending item of the same form+email that was never leased (store-rules.ts
   * `canMergeInto`); otherwise stores a new pending item if fewer than `maxBacklog` are pending,
   * and refuses it if not. Atomic: the pending count never passes `maxBacklog` through here.
   * `tally` (metrics.ts) is written in the same step, and only when the item is stored or merged.
   */
  enqueue(item: NewOutboxItem, maxBacklog: number, tally?: Tally): Promise<EnqueueResult>
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
  delivered(id: number | null, now: number, tally?: Tally): Promise<void>
  /** Ends the lease; the item is due again at `nextAttemptAt`. A null error keeps the last one. */
  reschedule(
    id: number,
    nextAttemptAt: number,
    attempts: number,
    error: DeliveryError | null,
    tally?: Tally
  ): Promise<void>
  /** Stores a dead letter (from the queue, or straight from an inline send). */
  kill(item: DeadOutboxItem, error: DeliveryError, now: number, tally?: Tally): Promise<void>
  /**
   * Dead letter(s) back to pending, due now, attempts reset, oldest first, while fewer than
   * `maxBacklog` are pending: a replay must not pass OUTBOX_MAX_PENDING any more than new
   * sign-ups may. Atomic with `enqueue` as far as the cap goes. Returns how many came back, and
   * how many of those asked for stay dead letters because the backlog had no room for them.
   */
  revive(id: number | 'all', now: number, maxBacklog: number): Promise<Revival>
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

/** A form made in the dashboard (forms.ts), as stored. */
export interface StoredForm {
  id: string
  profile: FormProfile
  /** CC's types of its custom fields when it was saved, by lower-cased id (field-types.ts). */
  types: FieldTypes
  /** The revision of the change that wrote it: revisions only grow, over all forms. */
  revision: number
  updatedAt: number
}

/** One line of the dashboard's audit trail. */
export interface FormAuditEntry {
  revision: number
  at: number
  formId: string
  action: 'created' | 'updated' | 'deleted'
  /** What changed, one line each (forms.ts `describeChanges`). */
  changes: string[]
}

/** A write to a form, with its audit entry. */
export interface FormChange {
  formId: string
  /** The form's new contents; null deletes it. */
  form: { profile: FormProfile; types: FieldTypes } | null
  action: FormAuditEntry['action']
  changes: string[]
  at: number
}

/** Storage for the dashboard's forms and their audit trail (docs/storage.md). */
export interface FormRepo {
  get(id: string): Promise<StoredForm | null>
  /** Ordered by id. */
  list(): Promise<StoredForm[]>
  /**
   * Writes the form (or deletes it) and its audit entry in one atomic step, at the next revision,
   * which it returns; then keeps only the newest FORM_AUDIT_KEEP entries (store-rules.ts).
   */
  write(change: FormChange): Promise<number>
  /** Newest first. */
  audit(limit: number): Promise<FormAuditEntry[]>
}

export interface ActivityFilter {
  form?: string
  outcome?: EventOutcome
}

/** The owner's metrics (docs/storage.md: `metrics`, `activity`, `connection_history`). */
export interface MetricsRepo {
  /** A write of its own, for events that have none (a duplicate, a rate limit, the app's sums). */
  count(tally: Tally): Promise<void>
  /**
   * The counters of the hours in [from, to), each with the start of its bucket: its hour, or
   * its UTC day (rows of one bucket, form and name may come apart; `groupCounters` adds them).
   */
  counters(span: Span, from: number, to: number): Promise<CounterRow[]>
  /** The newest first, up to `limit` that match, among the last ACTIVITY_KEPT lines. */
  activity(filter: ActivityFilter, limit: number): Promise<ActivityEntry[]>
  /** Oldest first: the entries since `since`, preceded by the last one before it, if any. */
  connectionHistory(since: number): Promise<ConnectionHistoryEntry[]>
  /**
   * Deletes the counters, activity and history from before `before`, and trims the activity and
   * history to their last ACTIVITY_KEPT and HISTORY_KEPT lines.
   */
  purgeMetrics(before: number): Promise<void>
}

/**
 * The owner's sessions and failed sign-ins (owner-limits.ts has the rules). Each method is atomic,
 * across instances too: two failures counted at once are both counted.
 */
export interface OwnerRepo {
  /** Stores a session; ends expired ones, and past MAX_SESSIONS the oldest. */
  addSession(id: string, expiresAt: number, now: number): Promise<void>
  /** True while the session exists and has not expired. */
  hasSession(id: string, now: number): Promise<boolean>
  removeSession(id: string): Promise<void>
  /**
   * Counts a failed sign-in of `client` and returns 0; or, when the client is locked out
   * (`lockedFor`), counts nothing and returns the seconds left. Keeps SIGN_IN_CLIENTS clients
   * at most and none past the window.
   */
  countSignInFailure(client: string, now: number): Promise<number>
  /** The seconds `client` is still locked out for (0: it may try). */
  signInLockout(client: string, now: number): Promise<number>
}
