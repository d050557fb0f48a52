/**
 * @module core/connection/state
 * The connection to Constant Contact as a state machine with no I/O: the record (keyed on
 * `state`), the events, and `transition(record, event)`, which returns the next record and any
 * alert. connection.ts does the I/O.
 *
 *   not_connected ──consented──► connected ──refresh_failed (transient)──► degraded
 *         ▲                        ▲   │                                    │   │
 *         │                        │   └──refresh_failed (final)──┐         │   │
 *    disconnected             refreshed / consented               ▼         │   │
 *   (from any state)               └─────────────────────── needs_reauth ◄──┘   │
 *                                  (degraded ──refreshed──► connected) ◄────────┘
 *
 * Also into needs_reauth: CC's 403 to a sign-up (account-wide), and a consent without contact_data.
 * Stored rows keep the flat version-1 shape (docs/storage.md): `fromStored` / `toStored` convert.
 */
import * as v from 'valibot'
import type { AlertEvent } from '../alerts/alert-webhook.ts'
import { type AccountSummary, AccountSummarySchema } from '../cc/client.ts'

export type ConnectionState = 'not_connected' | 'connected' | 'degraded' | 'needs_reauth'

export interface ErrorInfo {
  code: string
  message: string
  at: number
}

/** The token set from CC's last answer. Times are epoch ms. */
export interface Tokens {
  accessToken: string
  /** Null when CC returned none (the app lacks `offline_access`). */
  refreshToken: string | null
  expiresAt: number
  /** When this access token arrived: with expiresAt, its lifetime. */
  receivedAt: number
  scope: string
  sub: string | null
}

interface Base {
  /** Bumped by every new consent and by Disconnect, so a refresh that raced one can tell. */
  generation: number
  /** The last call to CC's token endpoint (CC allows one per second). */
  lastTokenCallAt: number | null
}

/** What a consent established, kept until the next consent or Disconnect. */
interface Linked extends Base {
  tokens: Tokens
  connectedAt: number
  lastRefreshAt: number | null
  /** From GET /account/summary when account_read was granted (best effort, no secrets). */
  account: AccountSummary | null
  /** The last failure, kept after recovery for the dashboard. */
  lastError: ErrorInfo | null
  /**
   * Set just before a refresh request leaves and cleared once its answer is stored. Still set
   * after a lost answer: the next invalid_grant then means "lost mid-rotation", not "revoked".
   */
  refreshInFlightSince: number | null
}

export type NotConnected = Base & { state: 'not_connected' }
export type Connected = Linked & { state: 'connected' }
export type Degraded = Linked & {
  state: 'degraded'
  lastError: ErrorInfo
  /** Consecutive failed refreshes. */
  failures: number
  /** No new refresh attempt before this time (backoff). */
  retryAt: number
  /** When the watchdog last alerted that the token expired without a successful refresh. */
  staleAlertAt: number | null
}
export type NeedsReauth = Linked & { state: 'needs_reauth'; lastError: ErrorInfo; failures: number }

export type ConnectionRecord = NotConnected | Connected | Degraded | NeedsReauth
export type LinkedRecord = Exclude<ConnectionRecord, NotConnected>

export const NOT_CONNECTED: NotConnected = {
  state: 'not_connected',
  generation: 0,
  lastTokenCallAt: null,
}

export type ConnectionEvent =
  /** A request is leaving for the token endpoint (the code exchange). */
  | { type: 'token_call'; at: number }
  /** The owner consented and the code was exchanged: a new token set replaces everything. */
  | { type: 'consented'; tokens: Tokens; at: number }
  /** A refresh request is leaving: the in-flight marker is persisted before it does. */
  | { type: 'refresh_sent'; at: number }
  /** CC answered a refresh without rotating (e.g. a 500): the marker goes, unless an earlier
   * answer in the same refresh was lost. */
  | { type: 'refresh_not_rotated'; lostEarlier: boolean }
  | { type: 'refreshed'; tokens: Tokens; at: number }
  /**
   * The refresh failed. `final` (invalid_grant, a refused client, no refresh token): only a new
   * consent helps. Otherwise the connection degrades and retries after a backoff (`jitter` in
   * [0, 1) spreads retries). `lost`: some answer was lost, so the marker stays.
   */
  | {
      type: 'refresh_failed'
      final: boolean
      error: { code: string; message: string }
      at: number
      lost: boolean
      jitter: number
    }
  /** The watchdog told the owner the token expired without a successful refresh. */
  | { type: 'stale_alerted'; at: number }
  /**
   * CC answered 403 to a sign-up sent with `accessToken`. Only that token's connection parks: a
   * reconnect that landed while the request was out is left alone.
   */
  | { type: 'api_forbidden'; accessToken: string; message: string; at: number }
  | { type: 'account_fetched'; generation: number; account: AccountSummary }
  | { type: 'disconnected' }

export interface Transition {
  record: ConnectionRecord
  /** The alert this change calls for (the caller sends it after saving the record). */
  alert: AlertEvent | null
}

const MAX_BACKOFF_MS = 5 * 60_000

/** 2 s doubling per failure up to 5 min, with full jitter on half of it: never immediate. */
export function backoffDelay(failures: number, jitter: number): number {
  const base = Math.min(MAX_BACKOFF_MS, 2000 * 2 ** Math.max(0, failures - 1))
  return Math.round(base / 2 + (jitter * base) / 2)
}

export function transition(record: ConnectionRecord, event: ConnectionEvent): Transition {
  const same = { record, alert: null }
  switch (event.type) {
    case 'token_call':
      return { record: { ...record, lastTokenCallAt: event.at }, alert: null }
    case 'consented': {
      const next: Connected = {
        state: 'connected',
        generation: record.generation + 1,
        lastTokenCallAt: record.lastTokenCallAt,
        tokens: event.tokens,
        connectedAt: event.at,
        lastRefreshAt: null,
        account: null,
        lastError: null,
        refreshInFlightSince: null,
      }
      if (lacksRequiredScope(event.tokens.scope)) {
        const lastError = {
          code: 'missing_scope',
          message: `Granted "${event.tokens.scope}", without ${REQUIRED_SCOPE}: reconnect and allow access to contacts`,
          at: event.at,
        }
        // The owner is on the callback page, which says so; a working connection lost is news.
        const lost = record.state === 'connected' || record.state === 'degraded'
        return {
          record: { ...next, state: 'needs_reauth', lastError, failures: 0 },
          alert: lost ? 'needs_reauth' : null,
        }
      }
      const recovered = record.state === 'needs_reauth' || record.state === 'degraded'
      return { record: next, alert: recovered ? 'recovered' : null }
    }
    case 'disconnected':
      return {
        record: {
          state: 'not_connected',
          generation: record.generation + 1,
          lastTokenCallAt: record.lastTokenCallAt,
        },
        alert: null,
      }
    case 'account_fetched':
      if (record.state === 'not_connected' || record.generation !== event.generation) return same
      return { record: { ...record, account: event.account }, alert: null }
    case 'refresh_sent':
      if (record.state === 'not_connected') return same
      return {
        record: { ...record, refreshInFlightSince: event.at, lastTokenCallAt: event.at },
        alert: null,
      }
    case 'refresh_not_rotated':
      if (record.state === 'not_connected' || event.lostEarlier) return same
      return { record: { ...record, refreshInFlightSince: null }, alert: null }
    case 'refreshed': {
      if (record.state === 'not_connected' || record.state === 'needs_reauth') return same
      const next: Connected = {
        ...linkedFields(record),
        state: 'connected',
        tokens: event.tokens,
        lastRefreshAt: event.at,
        refreshInFlightSince: null,
      }
      return { record: next, alert: record.state === 'degraded' ? 'recovered' : null }
    }
    case 'refresh_failed': {
      if (record.state === 'not_connected' || record.state === 'needs_reauth') return same
      const failures = (record.state === 'degraded' ? record.failures : 0) + 1
      const lastError = { ...event.error, at: event.at }
      const next: LinkedRecord = event.final
        ? {
            ...linkedFields(record),
            state: 'needs_reauth',
            lastError,
            failures,
            refreshInFlightSince: null,
          }
        : {
            ...linkedFields(record),
            state: 'degraded',
            lastError,
            failures,
            retryAt: event.at + backoffDelay(failures, event.jitter),
            staleAlertAt: record.state === 'degraded' ? record.staleAlertAt : null,
            refreshInFlightSince: event.lost ? record.refreshInFlightSince : null,
          }
      return { record: next, alert: next.state === record.state ? null : next.state }
    }
    case 'stale_alerted':
      if (record.state !== 'degraded') return same
      return { record: { ...record, staleAlertAt: event.at }, alert: 'stale_refresh' }
    case 'api_forbidden': {
      if (record.state !== 'connected' && record.state !== 'degraded') return same
      if (record.tokens.accessToken !== event.accessToken) return same
      const next: NeedsReauth = {
        ...linkedFields(record),
        state: 'needs_reauth',
        lastError: { code: 'cc_forbidden', message: event.message, at: event.at },
        failures: record.state === 'degraded' ? record.failures : 0,
      }
      return { record: next, alert: 'needs_reauth' }
    }
  }
}

/** The scope every sign-up needs (sign_up_form: contact_data, docs/constant-contact.md §2). */
export const REQUIRED_SCOPE = 'contact_data'

/** A grant that names its scopes without contact_data. (A grant that names none is taken on trust.) */
export function lacksRequiredScope(scope: string): boolean {
  const granted = scope.split(/\s+/).filter(Boolean)
  return granted.length > 0 && !granted.includes(REQUIRED_SCOPE)
}

/** The fields every linked state shares, without the state-specific ones. */
function linkedFields(record: LinkedRecord): Linked {
  return {
    generation: record.generation,
    lastTokenCallAt: record.lastTokenCallAt,
    tokens: record.tokens,
    connectedAt: record.connectedAt,
    lastRefreshAt: record.lastRefreshAt,
    account: record.account,
    lastError: record.lastError,
    refreshInFlightSince: record.refreshInFlightSince,
  }
}

/** True when the token should be refreshed now: expired, or inside its adaptive margin. */
export function isDue(tokens: Pick<Tokens, 'expiresAt' | 'receivedAt'>, now: number): boolean {
  return now >= tokens.expiresAt - refreshMargin(tokens.expiresAt - tokens.receivedAt)
}

/**
 * What a caller asking for an access token gets, decided from the stored record alone:
 * - `use`: a valid token, at once; with `refresh`, a refresh is started behind it (the token is
 *   due, or the connection is degraded). Nobody waits for a refresh while a valid token exists.
 * - `refresh`: no valid token (expired, or `rejected` by CC with a 401): only a refresh gives one.
 * - `backing_off`: none, and a degraded connection's backoff forbids a refresh before `retryAt`.
 * - `owner`: none until the owner connects or reconnects.
 */
export type TokenPlan =
  | { kind: 'use'; tokens: Tokens; refresh: boolean }
  | { kind: 'refresh' }
  | { kind: 'backing_off'; retryAt: number }
  | { kind: 'owner' }

export function tokenPlan(record: ConnectionRecord, now: number, rejected?: string): TokenPlan {
  if (record.state === 'not_connected' || record.state === 'needs_reauth') return { kind: 'owner' }
  const rejectedNow = rejected !== undefined && rejected === record.tokens.accessToken
  const usable = rejectedNow ? null : usableToken(record, now)
  if (usable) {
    // A degraded connection keeps retrying (within its backoff) until it recovers, even while
    // the old token is still fresh; otherwise "degraded" could stand for most of a day.
    return {
      kind: 'use',
      tokens: usable,
      refresh: isDue(usable, now) || record.state === 'degraded',
    }
  }
  if (record.state === 'degraded' && record.retryAt > now)
    return { kind: 'backing_off', retryAt: record.retryAt }
  return { kind: 'refresh' }
}

/** The token can be handed out: a linked state other than needs_reauth, not yet expired. */
function usableToken(record: ConnectionRecord, now: number): Tokens | null {
  if (record.state !== 'connected' && record.state !== 'degraded') return null
  return record.tokens.expiresAt > now ? record.tokens : null
}

// ---------------------------------------------------------------------------------------------
// The public status (GET /admin/status): its shape is part of the contract.

export interface ConnectionStatus {
  state: ConnectionState
  connected: boolean
  access_token_expires_at: string | null
  last_refresh_at: string | null
  connected_at: string | null
  last_error: { code: string; message: string; at: string } | null
  consecutive_failures: number
  /** Set while a refresh is in flight, or when its answer was lost. */
  refresh_pending_since: string | null
  refreshable: boolean
  scope: string
  account: { sub: string | null; summary: AccountSummary | null }
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function describeStatus(record: ConnectionRecord, now: number): ConnectionStatus {
  if (record.state === 'not_connected') {
    return {
      state: 'not_connected',
      connected: false,
      access_token_expires_at: null,
      last_refresh_at: null,
      connected_at: null,
      last_error: null,
      consecutive_failures: 0,
      refresh_pending_since: null,
      refreshable: false,
      scope: '',
      account: { sub: null, summary: null },
    }
  }
  const refreshable = record.tokens.refreshToken !== null
  const usable = usableToken(record, now) !== null
  return {
    state: record.state,
    // A usable token exists or can be obtained: connected, or degraded with a way forward.
    connected: record.state !== 'needs_reauth' && (usable || refreshable),
    access_token_expires_at: iso(record.tokens.expiresAt),
    last_refresh_at: iso(record.lastRefreshAt),
    connected_at: iso(record.connectedAt),
    last_error: record.lastError
      ? { ...record.lastError, at: new Date(record.lastError.at).toISOString() }
      : null,
    consecutive_failures: record.state === 'connected' ? 0 : record.failures,
    refresh_pending_since: iso(record.refreshInFlightSince),
    refreshable,
    scope: record.tokens.scope,
    account: { sub: record.tokens.sub, summary: record.account },
  }
}

// ---------------------------------------------------------------------------------------------
// Storage: the flat version-1 row shape, read leniently (older rows lack newer fields).

const nullableNumber = v.nullish(v.number(), null)
const nullableString = v.nullish(v.string(), null)
const StoredSchema = v.object({
  state: v.optional(v.picklist(['not_connected', 'connected', 'degraded', 'needs_reauth'])),
  generation: v.optional(v.number(), 0),
  accessToken: nullableString,
  refreshToken: nullableString,
  expiresAt: nullableNumber,
  receivedAt: nullableNumber,
  scope: v.optional(v.string(), ''),
  sub: nullableString,
  connectedAt: nullableNumber,
  lastRefreshAt: nullableNumber,
  lastError: v.nullish(v.object({ code: v.string(), message: v.string(), at: v.number() }), null),
  consecutiveFailures: v.optional(v.number(), 0),
  refreshInFlightSince: nullableNumber,
  lastTokenCallAt: nullableNumber,
  nextAttemptAt: nullableNumber,
  staleAlertAt: nullableNumber,
  account: v.nullish(AccountSummarySchema, null),
})
export type StoredConnection = v.InferOutput<typeof StoredSchema>

/**
 * Reads a stored row. A row that cannot be a connection (no access token in a linked state, or
 * not an object at all) reads as not connected: the owner is asked to connect rather than the
 * relay sending a broken token.
 */
export function fromStored(raw: unknown): ConnectionRecord {
  const parsed = v.safeParse(StoredSchema, raw ?? {})
  if (!parsed.success) return NOT_CONNECTED
  const s = parsed.output
  const base: Base = { generation: s.generation, lastTokenCallAt: s.lastTokenCallAt }
  if (!s.state || s.state === 'not_connected' || s.accessToken === null || s.expiresAt === null)
    return { ...base, state: 'not_connected' }
  const linked: Linked = {
    ...base,
    tokens: {
      accessToken: s.accessToken,
      refreshToken: s.refreshToken,
      expiresAt: s.expiresAt,
      receivedAt: s.receivedAt ?? s.expiresAt,
      scope: s.scope,
      sub: s.sub,
    },
    connectedAt: s.connectedAt ?? s.receivedAt ?? s.expiresAt,
    lastRefreshAt: s.lastRefreshAt,
    account: s.account,
    lastError: s.lastError,
    refreshInFlightSince: s.refreshInFlightSince,
  }
  const lastError = s.lastError ?? { code: 'unknown', message: '', at: 0 }
  if (s.state === 'connected') return { ...linked, state: 'connected' }
  if (s.state === 'needs_reauth')
    return { ...linked, state: 'needs_reauth', lastError, failures: s.consecutiveFailures }
  return {
    ...linked,
    state: 'degraded',
    lastError,
    failures: Math.max(1, s.consecutiveFailures),
    retryAt: s.nextAttemptAt ?? 0,
    staleAlertAt: s.staleAlertAt,
  }
}

export function toStored(record: ConnectionRecord): StoredConnection {
  const linked = record.state === 'not_connected' ? null : record
  return {
    state: record.state,
    generation: record.generation,
    accessToken: linked?.tokens.accessToken ?? null,
    refreshToken: linked?.tokens.refreshToken ?? null,
    expiresAt: linked?.tokens.expiresAt ?? null,
    receivedAt: linked?.tokens.receivedAt ?? null,
    scope: linked?.tokens.scope ?? '',
    sub: linked?.tokens.sub ?? null,
    connectedAt: linked?.connectedAt ?? null,
    lastRefreshAt: linked?.lastRefreshAt ?? null,
    lastError: linked?.lastError ?? null,
    consecutiveFailures:
      record.state === 'degraded' || record.state === 'needs_reauth' ? record.failures : 0,
    refreshInFlightSince: linked?.refreshInFlightSince ?? null,
    lastTokenCallAt: record.lastTokenCallAt,
    nextAttemptAt: record.state === 'degraded' ? record.retryAt : null,
    staleAlertAt: record.state === 'degraded' ? record.staleAlertAt : null,
    account: linked?.account ?? null,
  }
}

/**
 * How long before expiry we refresh: the lesser of one hour and a quarter of the token's
 * lifetime, so 24 h CC tokens refresh an hour early and 8 s test tokens 2 s early.
 */
function refreshMargin(lifetimeMs: number): number {
  return Math.max(0, Math.min(3_600_000, Math.floor(lifetimeMs / 4)))
}
