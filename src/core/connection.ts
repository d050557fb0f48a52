/**
 * @module connection
 * The token set's owner: connect, refresh, status. Runtime-agnostic policy over a `TokenRepo`.
 *
 * Why it looks like this (CC refresh tokens are usually rotating: each works once):
 * - Single flight. Concurrent callers share one in-flight refresh promise, so any number of
 *   requests arriving at expiry make exactly one token-endpoint call. On Workers the Durable
 *   Object hosting this class is the only instance, which makes the promise a global lock.
 * - Persist first. A marker (`refreshInFlightSince`) is saved before calling the token endpoint,
 *   and the new pair is saved before anyone is handed the new access token.
 * - Re-check after I/O. `fetch` opens the Durable Object's input gate, so the record is re-read
 *   after it: a reconnect that landed meanwhile (a new `generation`) wins over our result.
 * - A lost response (network error or timeout after sending) is retried promptly with the same
 *   refresh token; if CC then says invalid_grant, the status says "response lost mid-rotation"
 *   rather than "revoked", because the two need different fixes.
 * - At most one token-endpoint call per second (CC's limit), across refreshes and exchanges.
 * - Across instances. Where several instances share one store (Deno KV), the in-memory promise
 *   only coalesces callers within one instance, so a repo may also offer a refresh lease: the
 *   holder refreshes, and the others wait for its result instead of calling the endpoint.
 */
import type { Alert } from './alerts.ts'
import type { Config } from './config.ts'
import type { Outcome } from './errors.ts'
import {
  buildTokenRequest,
  processTokenResponse,
  refreshMargin,
  type TokenEndpointResult,
  type TokenGrant,
  type TokenSet,
} from './oauth.ts'
import type { TokenRepo } from './store.ts'

export type ConnectionState = 'not_connected' | 'connected' | 'degraded' | 'needs_reauth'

/** The persisted record (see docs/storage.md, table `connection`). Times are epoch ms. */
export interface ConnectionRecord {
  state: ConnectionState
  /** Bumped by every new consent, so a refresh that raced a reconnect can tell. */
  generation: number
  accessToken: string | null
  refreshToken: string | null
  expiresAt: number | null
  /** When the current access token was received: with expiresAt, its lifetime. */
  receivedAt: number | null
  scope: string
  sub: string | null
  connectedAt: number | null
  lastRefreshAt: number | null
  lastError: { code: string; message: string; at: number } | null
  consecutiveFailures: number
  /** Set just before a refresh request leaves, cleared when its answer is stored. */
  refreshInFlightSince: number | null
  lastTokenCallAt: number | null
  /** After a transient failure, no new refresh attempt before this time. */
  nextAttemptAt: number | null
  /** When the watchdog last alerted that the token expired without a successful refresh. */
  staleAlertAt: number | null
  /** From GET /account/summary, when account_read was granted (best effort, no secrets). */
  account: AccountSummary | null
}

export interface AccountSummary {
  organization_name?: string
  encoded_account_id?: string
}

export const EMPTY_RECORD: ConnectionRecord = {
  state: 'not_connected',
  generation: 0,
  accessToken: null,
  refreshToken: null,
  expiresAt: null,
  receivedAt: null,
  scope: '',
  sub: null,
  connectedAt: null,
  lastRefreshAt: null,
  lastError: null,
  consecutiveFailures: 0,
  refreshInFlightSince: null,
  lastTokenCallAt: null,
  nextAttemptAt: null,
  staleAlertAt: null,
  account: null,
}

/** A store shared by several instances (Deno KV) may also offer a refresh lease. */
type LeasingTokenRepo = TokenRepo & {
  /**
   * Atomically takes the refresh lease for `holder` until `now + ttlMs` when it is free, expired
   * or already held by `holder`; false when someone else holds it.
   */
  acquireRefreshLease?(holder: string, now: number, ttlMs: number): Promise<boolean>
  /** Frees the lease if `holder` still holds it (an expired lease may have moved on). */
  releaseRefreshLease?(holder: string): Promise<void>
}

/** The stored document as a record: absent fields (older rows) take their empty values. */
export function readRecord(stored: unknown): ConnectionRecord {
  return { ...EMPTY_RECORD, ...((stored ?? {}) as Partial<ConnectionRecord>) }
}

export interface ConnectionDeps {
  repo: LeasingTokenRepo
  config: () => Config
  fetch: typeof fetch
  now: () => number
  sleep: (ms: number) => Promise<void>
  alert: (alert: Alert) => Promise<unknown>
}

export interface AccessToken {
  token: string
  expiresAt: number
}

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

/**
 * The smallest spacing between two calls to CC's token endpoint. CC's limit is 1/s as calls
 * arrive; 100 ms of slack absorbs the jitter between our clock reading and the call leaving.
 */
export const TOKEN_CALL_SPACING_MS = 1100
const TOKEN_CALL_TIMEOUT_MS = 8000
/** Attempts per refresh when the answer is lost or transient (same refresh token each time). */
const ATTEMPTS = 3
const MAX_BACKOFF_MS = 5 * 60_000
/** Outlives a whole refresh (ATTEMPTS × (spacing + timeout)), so only a crash lets it lapse. */
export const REFRESH_LEASE_MS = 60_000
/** How long a caller waits for another instance's refresh before giving up for now. */
const LEASE_WAIT_MS = 15_000
const LEASE_POLL_MS = 50

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

export function backoffDelay(failures: number, random = Math.random): number {
  const base = Math.min(MAX_BACKOFF_MS, 2000 * 2 ** Math.max(0, failures - 1))
  // Full jitter on half of the delay: spread retries without ever retrying immediately.
  return Math.round(base / 2 + (random() * base) / 2)
}

/** True when the token should be refreshed now: expired, or inside its adaptive margin. */
export function isDue(record: ConnectionRecord, now: number): boolean {
  if (record.expiresAt === null) return true
  const lifetime = record.expiresAt - (record.receivedAt ?? record.expiresAt)
  return now >= record.expiresAt - refreshMargin(lifetime)
}

export function describeStatus(record: ConnectionRecord, now: number): ConnectionStatus {
  const usable = record.accessToken !== null && record.expiresAt !== null && record.expiresAt > now
  const refreshable = record.refreshToken !== null
  return {
    state: record.state,
    // A usable token exists or can be obtained: connected, or degraded with a way forward.
    connected:
      (record.state === 'connected' || record.state === 'degraded') && (usable || refreshable),
    access_token_expires_at: iso(record.expiresAt),
    last_refresh_at: iso(record.lastRefreshAt),
    connected_at: iso(record.connectedAt),
    last_error: record.lastError
      ? { ...record.lastError, at: new Date(record.lastError.at).toISOString() }
      : null,
    consecutive_failures: record.consecutiveFailures,
    refresh_pending_since: iso(record.refreshInFlightSince),
    refreshable,
    scope: record.scope,
    account: { sub: record.sub, summary: record.account },
  }
}

export class Connection {
  readonly #deps: ConnectionDeps
  #inflight: Promise<Outcome<AccessToken>> | null = null
  /** This instance's name on the refresh lease (only when the repo has one). */
  #holder: string | null = null
  /** The last good token, so the common case reads no storage. */
  #cached: (AccessToken & { receivedAt: number | null }) | null = null

  constructor(deps: ConnectionDeps) {
    this.#deps = deps
  }

  /** Exchanges an authorization code and replaces the token set (a new consent). */
  async exchangeCode(
    grant: Extract<TokenGrant, { grant_type: 'authorization_code' }>
  ): Promise<
    Outcome<{ refreshable: boolean; generation: number; accessToken: string; scope: string }>
  > {
    await this.#spaceTokenCalls()
    let record = readRecord(await this.#deps.repo.load())
    record.lastTokenCallAt = this.#deps.now()
    await this.#deps.repo.save(record)
    const result = await this.#callTokenEndpoint(grant)
    if (!result.ok) {
      const message =
        result.kind === 'lost'
          ? 'The token endpoint did not answer'
          : `Constant Contact answered ${result.status} ${result.error}${result.description ? `: ${result.description}` : ''}`
      return { ok: false, code: 'token_exchange_failed', message }
    }
    record = readRecord(await this.#deps.repo.load())
    const previous = record.state
    const now = this.#deps.now()
    const next: ConnectionRecord = {
      ...EMPTY_RECORD,
      ...this.#withTokens(result.tokens, now),
      state: 'connected',
      generation: record.generation + 1,
      connectedAt: now,
      lastTokenCallAt: record.lastTokenCallAt,
    }
    await this.#deps.repo.save(next)
    this.#cached = null
    if (previous === 'needs_reauth' || previous === 'degraded') {
      await this.#alert('recovered', next, previous)
    }
    return {
      ok: true,
      value: {
        refreshable: next.refreshToken !== null,
        generation: next.generation,
        accessToken: next.accessToken as string,
        scope: next.scope,
      },
    }
  }

  /**
   * A usable access token. Refreshes when the token is expired or within its margin. Pass the
   * token CC just rejected with 401 as `rejected`, and it is refreshed once even if not due.
   */
  async accessToken(options: { rejected?: string } = {}): Promise<Outcome<AccessToken>> {
    const now = this.#deps.now()
    const cached = this.#cached
    if (
      cached &&
      cached.token !== options.rejected &&
      !isDue({ ...EMPTY_RECORD, expiresAt: cached.expiresAt, receivedAt: cached.receivedAt }, now)
    ) {
      return { ok: true, value: { token: cached.token, expiresAt: cached.expiresAt } }
    }
    const record = readRecord(await this.#deps.repo.load())
    const forced = options.rejected !== undefined && options.rejected === record.accessToken
    if (record.state === 'not_connected' || record.accessToken === null) {
      return { ok: false, code: 'not_connected', message: 'Constant Contact is not connected yet' }
    }
    if (record.state === 'needs_reauth') {
      return { ok: false, code: 'needs_reauth', message: needsReauthMessage(record) }
    }
    // A degraded connection keeps retrying (within its backoff) until it recovers, even while
    // the old token is still fresh; otherwise "degraded" could stand for most of a day.
    if (!forced && !isDue(record, now) && record.state !== 'degraded') {
      return { ok: true, value: this.#remember(record) }
    }
    const refreshed = await this.#refreshOnce(forced)
    if (refreshed.ok) return refreshed
    // A failed refresh inside the margin is not an outage: the old token still works.
    const after = readRecord(await this.#deps.repo.load())
    if (
      !forced &&
      refreshed.code === 'token_unavailable' &&
      after.accessToken &&
      after.expiresAt !== null &&
      after.expiresAt > this.#deps.now()
    ) {
      return { ok: true, value: { token: after.accessToken, expiresAt: after.expiresAt } }
    }
    return refreshed
  }

  /**
   * The cron's job: refresh an idle token that is within its margin and leave a fresh one alone.
   * It is also the watchdog: a token that expired without a successful refresh alerts the owner
   * (once per expired token), whatever the request path has or has not noticed.
   */
  async refreshIfDue(): Promise<'refreshed' | 'fresh' | 'skipped' | 'failed'> {
    const record = readRecord(await this.#deps.repo.load())
    if (record.state === 'not_connected' || record.state === 'needs_reauth') return 'skipped'
    if (!isDue(record, this.#deps.now()) && record.state !== 'degraded') return 'fresh'
    const outcome = await this.#refreshOnce(false)
    if (outcome.ok) return 'refreshed'
    const after = readRecord(await this.#deps.repo.load())
    const now = this.#deps.now()
    const expired = after.expiresAt !== null && after.expiresAt <= now
    const alreadyAlerted =
      after.staleAlertAt !== null && after.staleAlertAt >= (after.expiresAt ?? 0)
    if (after.state === 'degraded' && expired && !alreadyAlerted) {
      await this.#deps.repo.save({ ...after, staleAlertAt: now })
      await this.#alert('stale_refresh', after, after.state)
    }
    return 'failed'
  }

  /** Stores the account summary fetched after a new consent. */
  async setAccount(generation: number, account: AccountSummary): Promise<void> {
    const record = readRecord(await this.#deps.repo.load())
    if (record.generation === generation) await this.#deps.repo.save({ ...record, account })
  }

  async status(): Promise<ConnectionStatus> {
    return describeStatus(readRecord(await this.#deps.repo.load()), this.#deps.now())
  }

  /** Forgets the local token set. This does not revoke the grant at Constant Contact. */
  async disconnect(): Promise<void> {
    const record = readRecord(await this.#deps.repo.load())
    await this.#deps.repo.save({
      ...EMPTY_RECORD,
      generation: record.generation + 1,
      lastTokenCallAt: record.lastTokenCallAt,
    })
    this.#cached = null
  }

  #remember(record: ConnectionRecord): AccessToken {
    const token = { token: record.accessToken as string, expiresAt: record.expiresAt as number }
    this.#cached = { ...token, receivedAt: record.receivedAt }
    return token
  }

  #refreshOnce(forced: boolean): Promise<Outcome<AccessToken>> {
    // No await between the check and the assignment: this is what makes it single flight.
    if (!this.#inflight) {
      this.#inflight = this.#refresh(forced).finally(() => {
        this.#inflight = null
      })
    }
    return this.#inflight
  }

  /**
   * With a lease-capable repo, only the lease holder refreshes. Everyone else polls the record
   * until the holder's outcome lands (new tokens, a failure, a reconnect) and answers from it, so
   * N instances still make one token-endpoint call per refresh and never send a rotated token.
   */
  async #refresh(forced: boolean): Promise<Outcome<AccessToken>> {
    const repo = this.#deps.repo
    if (!repo.acquireRefreshLease) return this.#refreshHeld(forced)
    this.#holder ??= crypto.randomUUID()
    const holder = this.#holder
    const before = readRecord(await repo.load())
    const deadline = this.#deps.now() + LEASE_WAIT_MS
    while (!(await repo.acquireRefreshLease(holder, this.#deps.now(), REFRESH_LEASE_MS))) {
      const current = readRecord(await repo.load())
      if (settledElsewhere(before, current)) return this.#fromOtherRefresh(current)
      if (this.#deps.now() >= deadline) {
        return {
          ok: false,
          code: 'token_unavailable',
          message: 'Another instance is still refreshing the token',
        }
      }
      await this.#deps.sleep(LEASE_POLL_MS)
    }
    try {
      // The holder may have finished and released between our last poll and our acquire.
      const current = readRecord(await repo.load())
      if (settledElsewhere(before, current)) return this.#fromOtherRefresh(current)
      return await this.#refreshHeld(forced)
    } finally {
      await repo.releaseRefreshLease?.(holder)
    }
  }

  /** The answer another instance's refresh left in the record: its tokens, or its failure. */
  #fromOtherRefresh(record: ConnectionRecord): Outcome<AccessToken> {
    if (record.state === 'needs_reauth') {
      return { ok: false, code: 'needs_reauth', message: needsReauthMessage(record) }
    }
    if (record.consecutiveFailures > 0) {
      // It failed and is backing off: accessToken() still falls back to a valid old token.
      return {
        ok: false,
        code: 'token_unavailable',
        message: record.lastError?.message ?? 'Another instance failed to refresh the token',
      }
    }
    return this.#current(record)
  }

  async #refreshHeld(forced: boolean): Promise<Outcome<AccessToken>> {
    let record = readRecord(await this.#deps.repo.load())
    const generation = record.generation
    if (!record.refreshToken) {
      return this.#fail(record, 'needs_reauth', {
        code: 'no_refresh_token',
        message:
          'Constant Contact issued no refresh token (is offline_access in CC_SCOPES?); reconnect from /admin',
      })
    }
    if (!forced && !isDue(record, this.#deps.now()) && record.state !== 'degraded') {
      return { ok: true, value: this.#remember(record) }
    }
    if (record.nextAttemptAt !== null && record.nextAttemptAt > this.#deps.now()) {
      return {
        ok: false,
        code: 'token_unavailable',
        message: `Refresh is backing off after ${record.consecutiveFailures} failure(s)`,
      }
    }
    let lostEarlier = record.refreshInFlightSince !== null
    let last: { code: string; message: string } = { code: 'unknown', message: '' }
    for (let attempt = 1; attempt <= ATTEMPTS; attempt++) {
      await this.#spaceTokenCalls()
      record = readRecord(await this.#deps.repo.load())
      if (record.generation !== generation) return this.#current(record)
      const usedRefreshToken = record.refreshToken as string
      const sentAt = this.#deps.now()
      // Persist the marker before the request leaves (output gates make it durable first).
      await this.#deps.repo.save({
        ...record,
        refreshInFlightSince: sentAt,
        lastTokenCallAt: sentAt,
      })
      const result = await this.#callTokenEndpoint({
        grant_type: 'refresh_token',
        refresh_token: usedRefreshToken,
      })
      // The input gate was open during fetch: re-read before acting on the answer.
      record = readRecord(await this.#deps.repo.load())
      if (record.generation !== generation) return this.#current(record)
      const now = this.#deps.now()
      if (result.ok) {
        const previous = record.state
        const next: ConnectionRecord = {
          ...record,
          ...this.#withTokens(result.tokens, now, usedRefreshToken),
          state: 'connected',
          lastRefreshAt: now,
          consecutiveFailures: 0,
          refreshInFlightSince: null,
          nextAttemptAt: null,
        }
        await this.#deps.repo.save(next)
        if (previous === 'degraded') await this.#alert('recovered', next, previous)
        return { ok: true, value: this.#remember(next) }
      }
      if (result.kind === 'lost') {
        // Keep the marker: if the answer never comes, the next attempt knows rotation may be lost.
        lostEarlier = true
        last = { code: 'refresh_response_lost', message: result.description }
        continue
      }
      // Keep the marker while any answer in this chain was lost, so a later invalid_grant is
      // still reported as "lost mid-rotation" rather than "revoked".
      if (!lostEarlier) record.refreshInFlightSince = null
      if (result.kind === 'invalid_grant') {
        return this.#fail(record, 'needs_reauth', {
          code: lostEarlier ? 'rotation_response_lost' : 'refresh_token_revoked',
          message: lostEarlier
            ? 'A refresh answer was lost and Constant Contact will not accept the old refresh token again; reconnect from /admin'
            : `Constant Contact rejected the refresh token (invalid_grant${result.description ? `: ${result.description}` : ''}); access was revoked or expired, reconnect from /admin`,
        })
      }
      if (result.kind === 'rejected') {
        return this.#fail(record, 'needs_reauth', {
          code: result.error,
          message: `The token endpoint refused the app (${result.status} ${result.error}${result.description ? `: ${result.description}` : ''}); check CC_CLIENT_ID and CC_CLIENT_SECRET, then reconnect`,
        })
      }
      last = {
        code: 'token_endpoint_error',
        message: `Token endpoint answered ${result.status} ${result.error}`,
      }
      await this.#deps.repo.save(record)
    }
    return this.#fail(readRecord(await this.#deps.repo.load()), 'degraded', last)
  }

  #current(record: ConnectionRecord): Outcome<AccessToken> {
    if (record.accessToken && record.expiresAt !== null && record.state !== 'needs_reauth') {
      return { ok: true, value: this.#remember(record) }
    }
    return { ok: false, code: 'not_connected', message: 'The connection changed during refresh' }
  }

  async #fail(
    record: ConnectionRecord,
    state: 'degraded' | 'needs_reauth',
    error: { code: string; message: string }
  ): Promise<Outcome<AccessToken>> {
    const now = this.#deps.now()
    const previous = record.state
    const failures = record.consecutiveFailures + 1
    const next: ConnectionRecord = {
      ...record,
      state,
      lastError: { ...error, at: now },
      consecutiveFailures: failures,
      nextAttemptAt: state === 'degraded' ? now + backoffDelay(failures) : null,
    }
    if (state === 'needs_reauth') next.refreshInFlightSince = null
    await this.#deps.repo.save(next)
    this.#cached = null
    if (previous !== state) await this.#alert(state, next, previous)
    return state === 'needs_reauth'
      ? { ok: false, code: 'needs_reauth', message: error.message }
      : { ok: false, code: 'token_unavailable', message: error.message }
  }

  #withTokens(tokens: TokenSet, now: number, previousRefresh?: string): Partial<ConnectionRecord> {
    return {
      accessToken: tokens.accessToken,
      refreshToken: tokens.refreshToken ?? previousRefresh ?? null,
      expiresAt: tokens.expiresAt,
      receivedAt: now,
      scope: tokens.scope,
      sub: tokens.sub ?? null,
    }
  }

  async #spaceTokenCalls(): Promise<void> {
    const record = readRecord(await this.#deps.repo.load())
    const wait = (record.lastTokenCallAt ?? 0) + TOKEN_CALL_SPACING_MS - this.#deps.now()
    if (wait > 0) await this.#deps.sleep(wait)
  }

  async #callTokenEndpoint(
    grant: TokenGrant
  ): Promise<TokenEndpointResult | { ok: false; kind: 'lost'; description: string }> {
    const config = this.#deps.config()
    let response: Response
    try {
      const answer = await this.#deps.fetch(buildTokenRequest(config, grant), {
        signal: AbortSignal.timeout(TOKEN_CALL_TIMEOUT_MS),
      })
      // Reading the body is part of receiving the answer: a reset or timeout here loses it too.
      const body = await answer.arrayBuffer()
      response = new Response(body, { status: answer.status, headers: answer.headers })
    } catch (err) {
      return {
        ok: false,
        kind: 'lost',
        description: `No answer from the token endpoint: ${String(err)}`,
      }
    }
    const previous = grant.grant_type === 'refresh_token' ? grant.refresh_token : undefined
    const result = await processTokenResponse(response, this.#deps.now(), previous)
    if (!result.ok && response.ok) {
      // A 2xx we could not read may still have rotated the refresh token: treat it as lost.
      return { ok: false, kind: 'lost', description: result.description ?? result.error }
    }
    return result
  }

  async #alert(event: Alert['event'], record: ConnectionRecord, previous: ConnectionState) {
    await this.#deps.alert({
      event,
      state: record.state,
      previous_state: previous,
      reason:
        event === 'recovered' || !record.lastError
          ? undefined
          : { code: record.lastError.code, message: record.lastError.message },
      at: new Date(this.#deps.now()).toISOString(),
    })
  }
}

/**
 * True when a refresh by someone else finished after `before` was read: every outcome changes one
 * of these (success: the access token; failure: the failure count or the state; a reconnect: the
 * generation). A holder that crashed mid-call changes none of them, so the next holder retries.
 */
function settledElsewhere(before: ConnectionRecord, after: ConnectionRecord): boolean {
  return (
    after.generation !== before.generation ||
    after.accessToken !== before.accessToken ||
    after.consecutiveFailures !== before.consecutiveFailures ||
    after.state !== before.state
  )
}

function needsReauthMessage(record: ConnectionRecord): string {
  return record.lastError
    ? `Reconnect needed (${record.lastError.code}): ${record.lastError.message}`
    : 'Reconnect needed: open /admin and Reconnect'
}
