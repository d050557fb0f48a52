/**
 * @module core/relay/backend
 * The interface between the stateless app and the single writer: the Durable Object's RPC methods
 * on Workers, an in-process object on Deno. `RelayService` implements it.
 */
import type { Outcome } from '../app/errors.ts'
import type { Catalog } from '../cc/catalog.ts'
import type { CcTag } from '../cc/client.ts'
import type { FieldTypes } from '../cc/field-types.ts'
import type { AccessToken } from '../connection/connection.ts'
import type { ConnectionHistoryEntry } from '../connection/history.ts'
import type { PendingAuthorization } from '../connection/repo.ts'
import type { ConnectionStatus } from '../connection/state.ts'
import type { ConsentPage, ConsentReceipt } from '../consent/receipt.ts'
import type { FormProfile } from '../forms/profile.ts'
import type { FormAuditEntry, StoredForm } from '../forms/repo.ts'
import type { ActivityEntry, CounterBucket, Span, Tally } from '../metrics/metrics.ts'
import type { ActivityFilter } from '../metrics/repo.ts'
import type { RefusedOrigin } from '../origins/refusals.ts'
import type { Revival } from '../outbox/repo.ts'
import type { Submission, SubmitResult } from '../outbox/submit.ts'
import type { EndpointInput } from '../webhooks/repo.ts'
import type { TestResult, WebhookView } from '../webhooks/webhooks.ts'

/** What the sandbox's stand-in for Constant Contact holds, for the dashboard (sandbox mode). */
export interface SandboxView {
  lists: { list_id: string; name: string; deleted: boolean }[]
  tags: { tag_id: string; name: string }[]
  contacts: {
    email_address: string
    list_memberships: string[]
    tag_ids: string[]
    updated_at: string
  }[]
}

export interface OutboxStatus {
  pending: number
  /** Pending items that wait for a reconnect or for the daily quota to reset. */
  parked: number
  dead: number
  delivered_today: number
  quota_used_today: number
  quota_limit: number
  rate_per_second: number
  oldest_pending_age_seconds: number | null
  paused_until: string | null
  parked_until: string | null
  /** OUTBOX_MAX_PENDING: with `pending` at it, new sign-ups are refused (503 outbox_full). */
  max_pending: number
  /** Delivered contacts still waiting for their form's tags (not in the backlog). */
  tagging_pending: number
  /** Taggings CC refused: dead letters of kind "tagging" (not in `dead`). */
  tagging_dead: number
}

/** One kind of alert's coalescing (alert-coalescing.ts), for /admin. */
export interface AlertStatus {
  event: string
  last_sent_at: string | null
  /** Held back since the last one sent: they go out with the next, or after the window. */
  held: number
  /** Held back, ever. */
  held_total: number
}

export type RelayStatus = ConnectionStatus & { outbox: OutboxStatus; alerts: AlertStatus[] }

/**
 * What CC refused: a sign-up, or the tagging of a delivered one (core/tagging/). Each kind numbers
 * its own dead letters, so a dead letter is named by its kind and its id.
 */
export type DeadLetterKind = 'signup' | 'tagging'

export interface DeadLetterView {
  id: number
  kind: DeadLetterKind
  form_id: string
  email_masked: string
  created_at: string
  dead_at: string
  error: { status: number; error_key: string; message: string } | null
  /** Every attempt, the refusal included. */
  attempts: number
  /** A sign-up's lists. */
  lists?: string[]
  /** A tagging's tags. */
  tag_ids?: string[]
}

/** What an attempt to act as the owner with ADMIN_TOKEN (sign-in form, Bearer) may do. */
export type OwnerVerdict =
  | { status: 'allowed' | 'refused' }
  | { status: 'throttled'; retryAfterSeconds: number }

/** The contract between the stateless app and the single writer (the Durable Object's RPC). */
export interface RelayBackend {
  /**
   * One attempt with ADMIN_TOKEN from `client` (a hash of its network key): `valid` says whether
   * the token matched. A wrong one is counted; a locked-out client is throttled either way.
   */
  ownerAttempt(client: string, valid: boolean): Promise<OwnerVerdict>
  openSession(id: string, expiresAt: number): Promise<void>
  sessionLive(id: string): Promise<boolean>
  /** Sign-out: the session's cookie is refused from now on, wherever it was copied to. */
  closeSession(id: string): Promise<void>
  beginAuthorization(pending: PendingAuthorization): Promise<void>
  /**
   * `error` and `description` are CC's `error` and `error_description`, and `iss` its issuer
   * (RFC 9207), when it sent them.
   */
  completeAuthorization(input: {
    state: string
    code?: string
    error?: string
    description?: string
    iss?: string
  }): Promise<Outcome<Connected>>
  accessToken(options?: { rejected?: string }): Promise<Outcome<AccessToken>>
  status(): Promise<RelayStatus>
  disconnect(): Promise<void>
  /**
   * Delivers a validated sign-up now, or stores it durably before answering `queued`. With a
   * `revision` (a dashboard form's), nothing is done unless the form is still at it: the answer
   * is then `stale_profile`, with the form as it is now (forms.ts).
   */
  submit(
    submission: Submission & { revision?: number }
  ): Promise<SubmitResult | { status: 'stale_profile'; form: StoredForm | null }>
  /**
   * Sandbox mode only (null otherwise): what the stand-in CC holds, and list deletion to try
   * config drift. The sandbox lives where CC traffic leaves from, so it is reached through here.
   */
  sandbox(op?: { deleteList?: string; restoreList?: string }): Promise<SandboxView | null>
  /** The account's lists and custom fields, for the dashboard (cached a few minutes). */
  catalog(options?: { refresh?: boolean }): Promise<Outcome<Catalog>>
  /** The dashboard's forms (by id), and the newest entries of their audit trail. */
  forms(): Promise<{ forms: StoredForm[]; audit: FormAuditEntry[] }>
  form(id: string): Promise<StoredForm | null>
  /** Creates or replaces a dashboard form (a no-op when nothing changed). */
  saveForm(input: {
    id: string
    profile: FormProfile
    types: FieldTypes
  }): Promise<{ form: StoredForm; created: boolean }>
  /** False when there was no such dashboard form. */
  deleteForm(id: string): Promise<boolean>
  /**
   * Newest first, of both kinds; 100 unless `limit` says otherwise (the CSV export asks for them
   * all).
   */
  deadLetters(limit?: number): Promise<DeadLetterView[]>
  /**
   * `waiting`: dead letters asked for that stay dead, the backlog being at OUTBOX_MAX_PENDING
   * (taggings are not in it). `all` retries both kinds; an id is of `kind` (default `signup`).
   */
  retryDeadLetter(id: number | 'all', kind?: DeadLetterKind): Promise<Revival>
  deleteDeadLetter(id: number, kind?: DeadLetterKind): Promise<boolean>
  /** Creates a tag in the account (the catalog kept here learns it at once). */
  createTag(name: string): Promise<Outcome<CcTag>>
  /** The cron's entry: refresh ahead of expiry, watchdog, outbox drain, purge, held alerts. */
  tick(): Promise<TickResult>
  /** Counts what the app decided itself (outcome-recorder.ts): a write of its own. */
  countOutcomes(tally: Tally): Promise<void>
  /** The counters per hour or per UTC day, of buckets that start in [from, to). */
  metrics(query: { span: Span; from: number; to: number }): Promise<CounterBucket[]>
  activity(filter: ActivityFilter, limit: number): Promise<ActivityEntry[]>
  /**
   * The origins refused today and yesterday (UTC days), by form, the latest first: what the
   * stored sums hold (the app's own isolate's sums are flushed by the caller first).
   */
  refusedOrigins(): Promise<RefusedOrigin[]>
  /** Oldest first: since `since`, preceded by the last entry before it (the starting state). */
  connectionHistory(since: number): Promise<ConnectionHistoryEntry[]>
  /** The consent receipts of `email` (lowercased), newest first. */
  consentsOf(email: string): Promise<ConsentReceipt[]>
  /**
   * The receipts given in [from, to), oldest first, a page at a time (the CSV export): `after` is
   * the `next` of the page before.
   */
  consentsBetween(query: { from: number; to: number; after?: string }): Promise<ConsentPage>
  /** How many consent receipts each form has (forms with none left out). */
  consentCounts(): Promise<Record<string, number>>
  /** Erasure: deletes every consent receipt of `email` (lowercased); returns how many went. */
  eraseConsents(email: string): Promise<number>
  /** The owner's webhook endpoints (core/webhooks/), each with its last 50 attempts. */
  webhooks(): Promise<WebhookView[]>
  /** Creates (with a new secret) or updates (keeping it) an endpoint; saving re-enables it. */
  saveWebhook(input: EndpointInput): Promise<{ webhook: WebhookView; created: boolean }>
  /** False when there was no such endpoint. Nothing more is sent to it. */
  deleteWebhook(id: string): Promise<boolean>
  /** Sends a `webhook.test` now; `not_found` for an unknown id. */
  testWebhook(id: string): Promise<Outcome<TestResult>>
}

/** What a Connect established: whether it can refresh, and what the grant lacks. */
export interface Connected {
  refreshable: boolean
  /** The grant lacks contact_data: connected, but parked (needs_reauth, `missing_scope`). */
  missingScope: boolean
}

export interface TickResult {
  refresh: string
  delivered: number
  purged: number
  /** Held-back alerts sent because their window was over. */
  alerts: number
  /** Consent receipts older than CONSENT_RETENTION_DAYS, deleted. */
  receiptsPurged: number
}
