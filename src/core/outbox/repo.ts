/**
 * @module core/outbox/repo
 * Storage interface for the outbox: pending sign-ups, dead letters, the duplicate window and the
 * day's counts. Both adapters implement it atomically; docs/storage.md describes what is kept.
 */

import type { ConsentReceipt } from '../consent/receipt.ts'
import type { Tally } from '../metrics/metrics.ts'
import type { SignupFormBody } from '../signup/validate-signup.ts'

export type AcceptedStatus = 'delivered' | 'queued'

/** What the duplicate window remembers of an accepted sign-up. */
export interface RecentSubmission {
  status: AcceptedStatus
  /** repeats.ts `payloadDigest` of what it said; null for one remembered before digests. */
  digest: string | null
}

export interface OutboxItem {
  id: number
  formId: string
  payload: SignupFormBody
  attempts: number
  createdAt: number
  /** The form's tags at acceptance, added to the contact once delivered (absent: none). */
  tags?: string[]
}

/**
 * What a delivered sign-up leaves to do when its form has tags: add them to the contact CC
 * answered with (core/tagging/). Written with the delivery, in the same step.
 */
export interface ContactToTag {
  formId: string
  contactId: string
  tagIds: string[]
  /** The address as the owner's pages show it (mask-email.ts), for a tagging's dead letter. */
  emailMasked: string
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
  /** Every attempt, the refusal included. */
  attempts: number
  /** The lists the sign-up was sent to (what CC's refusal may name). */
  lists: string[]
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
  /** This check re-armed the alarm: the backlog is back below 25 %. */
  recovered: boolean
}

/** A sign-up to queue. */
export interface NewOutboxItem {
  formId: string
  emailHash: string
  payload: SignupFormBody
  attempts: number
  nextAttemptAt: number
  now: number
  /** Its consent receipt (consent/repo.ts): written in the same step, when it is stored or merged. */
  receipt?: ConsentReceipt
  tags?: string[]
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
  payload: SignupFormBody
  /**
   * An inline send's consent receipt, written in the same step (the owner may replay the dead
   * letter). A queued item's was written when it was queued.
   */
  receipt?: ConsentReceipt
  /** Kept with the dead letter, so that a Retry that delivers it tags it too. */
  tags?: string[]
}

/**
 * Storage for the outbox (docs/storage.md). Each method is atomic. A `tally` (metrics.ts) is
 * written in the same write as the event it counts, its activity lines linked to the item that
 * write is about (`ActivityEntry.signup`: the stored, merged-into, delivered, rescheduled or
 * killed item's id), so one sign-up's lines read as one row (metrics/signups.ts).
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
  /**
   * Counts a delivery; for a queued item (id) also deletes it, payload and all. `toTag` is stored
   * in the same step, as pending taggings (core/tagging/repo.ts), due a moment later.
   */
  delivered(id: number | null, now: number, tally?: Tally, toTag?: ContactToTag): Promise<void>
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
