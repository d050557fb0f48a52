/**
 * @module core/relay/store-rules
 * The storage rules as pure functions, so SQLite and Deno KV apply the same ones: each adapter
 * reads, asks these for the new state, and writes it atomically. Where SQL selects rows itself
 * (due items, purges) it restates the rule, and test/contract/storage-contract.ts checks both.
 */
import type { Alert, AlertEvent } from '../alerts/alert-webhook.ts'
import type { AlertRecord } from '../alerts/repo.ts'
import type { ClaimResult } from '../connection/repo.ts'
import { mergePayloads } from '../outbox/repeats.ts'
import type {
  DeadLetter,
  DeadOutboxItem,
  DeliveryError,
  NewOutboxItem,
  OutboxItem,
} from '../outbox/repo.ts'
import type { SignupFormBody } from '../signup/validate-signup.ts'

/** Used and expired OAuth states are kept a day, so a replay reads "used" rather than "unknown". */
export const STATE_RETENTION_MS = 24 * 3600_000

/** Storing a state that expires at `expiresAt` purges the states that expired before this. */
export function stateRetentionCutoff(expiresAt: number): number {
  return expiresAt - STATE_RETENTION_MS
}

/** An issued OAuth state as stored. */
export interface StoredState {
  redirectUri: string
  codeVerifier: string | null
  expiresAt: number
  usedAt: number | null
}

/**
 * A claim, checked in this order: unknown, used, expired, ok. A state is burned (`markUsed`) by
 * any claim that finds it unused, expired or not, so it can never be claimed later; the adapter
 * writes `usedAt = now` atomically with the read it passed in.
 */
export function claimVerdict(
  state: string,
  stored: StoredState | null,
  now: number
): { result: ClaimResult; markUsed: boolean } {
  if (!stored) return { result: { status: 'unknown' }, markUsed: false }
  if (stored.usedAt !== null) return { result: { status: 'used' }, markUsed: false }
  if (stored.expiresAt <= now) return { result: { status: 'expired' }, markUsed: true }
  const { redirectUri, codeVerifier, expiresAt } = stored
  return {
    result: { status: 'ok', pending: { state, redirectUri, codeVerifier, expiresAt } },
    markUsed: true,
  }
}

/**
 * What a queued record of the outbox and of the tagging queue (core/tagging/queue-rules.ts) has
 * alike: the rules below about due times, retries and dead letters apply to both.
 */
export interface QueuedRecord {
  status: 'pending' | 'dead'
  attempts: number
  nextAttemptAt: number
  /** Set while a send may be in flight; `reschedule`, `kill` and a Workers restart clear it. */
  leaseUntil: number | null
  lastError: DeliveryError | null
  deadAt: number | null
}

/** An outbox item as stored: a Deno KV value, or one row of the SQLite `outbox` table. */
export interface OutboxRecord extends QueuedRecord {
  id: number
  formId: string
  emailHash: string
  payload: SignupFormBody
  createdAt: number
  /** The form's tags at acceptance (absent: none; rows from before tags have none). */
  tags?: string[]
}

/** A record before the store has given it an id. */
export type UnsavedRecord = Omit<OutboxRecord, 'id'>

/** `{ tags }` when there are any, else nothing: a record without tags has no such key. */
export function withTags(tags: readonly string[] | undefined): { tags?: string[] } {
  return tags && tags.length > 0 ? { tags: [...tags] } : {}
}

export function queuedRecord(item: NewOutboxItem): UnsavedRecord {
  return {
    formId: item.formId,
    emailHash: item.emailHash,
    payload: item.payload,
    status: 'pending',
    attempts: item.attempts,
    createdAt: item.now,
    nextAttemptAt: item.nextAttemptAt,
    leaseUntil: null,
    lastError: null,
    deadAt: null,
    ...withTags(item.tags),
  }
}

/** A sign-up CC refused on its inline send: stored dead at once, one attempt spent. */
export function inlineDeadRecord(
  item: DeadOutboxItem,
  error: DeliveryError,
  now: number
): UnsavedRecord {
  return {
    formId: item.formId,
    emailHash: item.emailHash ?? '',
    payload: item.payload,
    status: 'dead',
    attempts: 1,
    createdAt: now,
    nextAttemptAt: now,
    leaseUntil: null,
    lastError: error,
    deadAt: now,
    ...withTags(item.tags),
  }
}

/**
 * A new sign-up merges only into a pending item that holds no lease at all. A leased item may
 * still be in flight even after its lease lapsed (a slow refresh plus a slow send), and its
 * delivery deletes the item, which would drop what was merged in. Two items for one email are
 * harmless: CC upserts.
 */
export function canMergeInto(record: OutboxRecord): boolean {
  return record.status === 'pending' && record.leaseUntil === null
}

/**
 * `record` with `item` merged in (retry-plan.ts `mergePayloads`), due at the earlier of the two.
 * Both were accepted with their form's tags, so the contact gets both sets.
 */
export function mergedInto(record: OutboxRecord, item: NewOutboxItem): OutboxRecord {
  const { tags: _, ...rest } = record
  return {
    ...rest,
    payload: mergePayloads(record.payload, item.payload),
    nextAttemptAt: Math.min(record.nextAttemptAt, item.nextAttemptAt),
    ...withTags([...new Set([...(record.tags ?? []), ...(item.tags ?? [])])]),
  }
}

/** When a pending record is next due: its retry time and any lease have both passed. */
export function dueAt(record: QueuedRecord): number {
  return Math.max(record.nextAttemptAt, record.leaseUntil ?? 0)
}

export function isDue(record: QueuedRecord, now: number): boolean {
  return record.status === 'pending' && dueAt(record) <= now
}

/** After a failed or deferred attempt: the lease ends; a null error keeps the last one. */
export function rescheduled<R extends QueuedRecord>(
  record: R,
  nextAttemptAt: number,
  attempts: number,
  error: DeliveryError | null
): R {
  return {
    ...record,
    leaseUntil: null,
    nextAttemptAt,
    attempts,
    lastError: error ?? record.lastError,
  }
}

export function killed<R extends QueuedRecord>(record: R, error: DeliveryError, now: number): R {
  // The refusal is an attempt too: a dead letter's `attempts` is every one it had.
  return {
    ...record,
    status: 'dead',
    attempts: record.attempts + 1,
    leaseUntil: null,
    deadAt: now,
    lastError: error,
  }
}

/** The owner's Retry: a dead letter is pending again, due now, with a fresh count of attempts. */
export function revived<R extends QueuedRecord>(record: R, now: number): R | null {
  if (record.status !== 'dead') return null
  return { ...record, status: 'pending', deadAt: null, attempts: 0, nextAttemptAt: now }
}

export function toOutboxItem(record: OutboxRecord): OutboxItem {
  const { id, formId, payload, attempts, createdAt } = record
  return { id, formId, payload, attempts, createdAt, ...withTags(record.tags) }
}

export function toDeadLetter(record: OutboxRecord): DeadLetter {
  return {
    id: record.id,
    formId: record.formId,
    email: String(record.payload.email_address ?? ''),
    createdAt: record.createdAt,
    deadAt: record.deadAt ?? record.createdAt,
    error: record.lastError,
    attempts: record.attempts,
    lists: Array.isArray(record.payload.list_memberships)
      ? record.payload.list_memberships.map(String)
      : [],
  }
}

/** The duplicate window: a submission seen at `seenAt` still counts at `now`. */
export function isRecent(seenAt: number, now: number, windowMs: number): boolean {
  return seenAt > now - windowMs
}

/** The dashboard's audit trail keeps this many entries, the newest (FormRepo `write`). */
export const FORM_AUDIT_KEEP = 200
// ── Running counts ──────────────────────────────────────────────────────────────────────────────

/**
 * How a write changes the running counts of pending and dead items (null: no item). SQLite keeps
 * the same counts with triggers on the outbox table (adapters/workers/sqlite/migrations.ts,
 * migration 3); Deno KV adds this to the commit of every item write
 * (adapters/deno/kv/outbox-repo.ts `write`).
 */
export function countChange(
  before: Pick<OutboxRecord, 'status'> | null,
  after: Pick<OutboxRecord, 'status'> | null
): { pending: number; dead: number } {
  const count = (r: Pick<OutboxRecord, 'status'> | null, status: OutboxRecord['status']) =>
    r?.status === status ? 1 : 0
  return {
    pending: count(after, 'pending') - count(before, 'pending'),
    dead: count(after, 'dead') - count(before, 'dead'),
  }
}

/** The backlog alarm's levels, in percent of OUTBOX_MAX_PENDING, and where it re-arms. */
export const BACKLOG_LEVELS = [50, 90] as const
export const BACKLOG_REARM_BELOW = 25

/**
 * The backlog alarm: fires once when the backlog crosses 50 % and once when it crosses 90 % of
 * the cap (a jump past both fires once, at 90), and re-arms only once it is below 25 %, so a
 * backlog that hovers around a level does not alert on every wobble. `recovered`: this check
 * re-armed it (the `backlog.recovered` webhook event).
 */
export function backlogAlarm(
  level: number,
  pending: number,
  cap: number
): { level: number; crossed: number | null; recovered: boolean } {
  const percent = (pending * 100) / cap
  if (percent < BACKLOG_REARM_BELOW) return { level: 0, crossed: null, recovered: level > 0 }
  const reached = Math.max(0, ...BACKLOG_LEVELS.filter((l) => percent >= l))
  return reached > level
    ? { level: reached, crossed: reached, recovered: false }
    : { level, crossed: null, recovered: false }
}

// ── Alert coalescing ────────────────────────────────────────────────────────────────────────────

/** At most one alert of a kind per window. */
export const ALERT_WINDOW_MS = 15 * 60_000

export function newAlertRecord(event: AlertEvent): AlertRecord {
  return { event, lastSentAt: null, held: 0, latest: null, heldTotal: 0 }
}

/**
 * An alert of a kind: sent when none of its kind was sent within the window, carrying the count
 * of those held back since the last one sent; held (counted, and kept as the latest) otherwise.
 */
export function coalesce(
  record: AlertRecord,
  alert: Alert,
  now: number
): { record: AlertRecord; send: Alert | null } {
  if (record.lastSentAt === null || now - record.lastSentAt >= ALERT_WINDOW_MS) {
    const send = record.held > 0 ? { ...alert, suppressed: record.held } : alert
    return { record: { ...record, lastSentAt: now, held: 0, latest: null }, send }
  }
  return {
    record: { ...record, held: record.held + 1, heldTotal: record.heldTotal + 1, latest: alert },
    send: null,
  }
}

/**
 * Once the window is over, the latest held alert goes out by itself (the cron asks), with the
 * count of the others held back, so a burst that ends is still reported.
 */
export function releaseHeld(
  record: AlertRecord,
  now: number
): { record: AlertRecord; send: Alert } | null {
  if (record.held === 0 || !record.latest) return null
  if (record.lastSentAt !== null && now - record.lastSentAt < ALERT_WINDOW_MS) return null
  const others = record.held - 1
  const send = others > 0 ? { ...record.latest, suppressed: others } : record.latest
  return { record: { ...record, lastSentAt: now, held: 0, latest: null }, send }
}
