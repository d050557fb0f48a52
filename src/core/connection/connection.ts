/**
 * @module core/connection/connection
 * Owns the token set: connect, refresh, status. Does the I/O and feeds every outcome to state.ts.
 * CC refresh tokens usually work once, so:
 * - concurrent callers share one in-flight refresh (on Workers the single Durable Object makes it
 *   a global lock; on Deno `serializeRefresh` adds a lease across instances);
 * - the in-flight marker is saved before the request, the new pair before anyone gets it;
 * - the record is re-read after each fetch (the Durable Object's input gate opens), and a
 *   reconnect that landed meanwhile wins;
 * - a lost answer is retried with the same refresh token; token calls are ≥ 1.1 s apart.
 * See docs/architecture.md, "A refresh".
 */
import type { Alert, AlertEvent } from '../alerts/alert-webhook.ts'
import type { Config } from '../app/config.ts'
import type { Outcome } from '../app/errors.ts'
import {
  type AccountSummary,
  exchange,
  processTokenResponse,
  type TokenGrant,
  type TokenSet,
  tokenRequest,
} from '../cc/client.ts'
import type { Clock } from '../lib/clock.ts'
import { historyEntry } from './history.ts'
import { noRefreshTokenAdvice } from './oauth.ts'
import type { TokenRepo } from './repo.ts'
import {
  type ConnectionEvent,
  type ConnectionRecord,
  type ConnectionStatus,
  describeStatus,
  fromStored,
  isDue,
  type LinkedRecord,
  type Tokens,
  tokenPlan,
  toStored,
  transition,
} from './state.ts'

export interface AccessToken {
  token: string
  expiresAt: number
}

/** Wraps one refresh (the default runs it as is); see `serializeRefresh` in src/adapters/deno/relay.ts. */
export type RefreshSerializer = (
  refresh: () => Promise<Outcome<AccessToken>>
) => Promise<Outcome<AccessToken>>

export interface ConnectionDeps {
  repo: TokenRepo
  config: () => Config
  fetch: typeof fetch
  clock: Clock
  alert: (alert: Alert) => Promise<unknown>
  serializeRefresh?: RefreshSerializer
  /** Jitter for the refresh backoff; injectable so tests can pin it. */
  random?: () => number
}

/**
 * The smallest spacing between two calls to CC's token endpoint. CC's limit is 1/s as calls
 * arrive; 100 ms of slack absorbs the jitter between our clock reading and the call leaving.
 */
export const TOKEN_CALL_SPACING_MS = 1100
/**
 * How long a token call may take before its answer counts as lost. Generous on purpose: after a
 * lost answer the same refresh token is sent again, and a strict server that had already rotated
 * it then revokes the whole grant (the owner must reconnect). Waiting costs less than that.
 */
export const TOKEN_CALL_TIMEOUT_MS = 30_000
/** Attempts per refresh when the answer is lost or transient (same refresh token each time). */
export const REFRESH_ATTEMPTS = 3
/** The longest one refresh can take: every attempt spaced, then timing out (about 93 s). */
export const SLOWEST_REFRESH_MS = REFRESH_ATTEMPTS * (TOKEN_CALL_SPACING_MS + TOKEN_CALL_TIMEOUT_MS)

const ok = (tokens: Pick<Tokens, 'accessToken' | 'expiresAt'>): Outcome<AccessToken> => ({
  ok: true,
  value: { token: tokens.accessToken, expiresAt: tokens.expiresAt },
})

function needsReauthMessage(record: ConnectionRecord): string {
  return record.state !== 'not_connected' && record.lastError
    ? `Reconnect needed (${record.lastError.code}): ${record.lastError.message}`
    : 'Reconnect needed: open /admin and Reconnect'
}

/**
 * What a caller gets from a record someone else's refresh (or a reconnect) left behind: its
 * tokens, or its failure. A degraded record answers token_unavailable, and accessToken() still
 * falls back to a valid old token.
 */
export function outcomeFromRecord(record: ConnectionRecord): Outcome<AccessToken> {
  switch (record.state) {
    case 'connected':
      return ok(record.tokens)
    case 'degraded':
      return { ok: false, code: 'token_unavailable', message: record.lastError.message }
    case 'needs_reauth':
      return { ok: false, code: 'needs_reauth', message: needsReauthMessage(record) }
    case 'not_connected':
      return { ok: false, code: 'not_connected', message: 'Constant Contact is not connected' }
  }
}

/**
 * True when a refresh by someone else finished after `before` was read: every outcome changes one
 * of these (success: the access token; failure: the state or failure count; a reconnect: the
 * generation). A holder that crashed mid-call changes none of them, so the next holder retries.
 */
export function settledElsewhere(before: ConnectionRecord, after: ConnectionRecord): boolean {
  const token = (r: ConnectionRecord) => (r.state === 'not_connected' ? null : r.tokens.accessToken)
  const failures = (r: ConnectionRecord) =>
    r.state === 'degraded' || r.state === 'needs_reauth' ? r.failures : 0
  return (
    after.generation !== before.generation ||
    after.state !== before.state ||
    token(after) !== token(before) ||
    failures(after) !== failures(before)
  )
}

function toTokens(set: TokenSet, now: number): Tokens {
  return {
    accessToken: set.accessToken,
    refreshToken: set.refreshToken ?? null,
    expiresAt: set.expiresAt,
    receivedAt: now,
    scope: set.scope,
    sub: set.sub ?? null,
  }
}

export class Connection {
  readonly #deps: ConnectionDeps
  #inflight: Promise<Outcome<AccessToken>> | null = null
  /** The last good token set, so the common case reads no storage. */
  #cached: Tokens | null = null

  constructor(deps: ConnectionDeps) {
    this.#deps = deps
  }

  async #load(): Promise<ConnectionRecord> {
    return fromStored(await this.#deps.repo.load())
  }

  /**
   * Applies an event: saves the new record first (with its line in the connection's history, in
   * the same write), then sends the alert it calls for.
   */
  async #apply(record: ConnectionRecord, event: ConnectionEvent): Promise<ConnectionRecord> {
    const { record: next, alert } = transition(record, event)
    if (next !== record) {
      const line = historyEntry(record, event, next, this.#deps.clock.now())
      await this.#deps.repo.save(toStored(next), line)
    }
    if (alert) await this.#alert(alert, next, record.state)
    return next
  }

  /** Exchanges an authorization code and replaces the token set (a new consent). */
  async exchangeCode(
    grant: Extract<TokenGrant, { grant_type: 'authorization_code' }>
  ): Promise<Outcome<{ refreshable: boolean; generation: number; tokens: Tokens }>> {
    await this.#spaceTokenCalls()
    const { clock } = this.#deps
    const sentAt = clock.now()
    await this.#apply(await this.#load(), { type: 'token_call', at: sentAt })
    const answer = await exchange(
      this.#deps.fetch,
      tokenRequest(this.#deps.config(), grant),
      TOKEN_CALL_TIMEOUT_MS
    )
    // expires_in counts from when the server issued the token, somewhere during the call: from
    // the send, never from the answer, or a slow endpoint has us send expired (opaque) tokens.
    const result = processTokenResponse(answer, sentAt)
    if (!result.ok) {
      const message =
        result.kind === 'lost'
          ? 'The token endpoint did not answer'
          : `Constant Contact answered ${result.status} ${result.error}${result.description ? `: ${result.description}` : ''}`
      return { ok: false, code: 'token_exchange_failed', message }
    }
    const now = clock.now()
    const record = await this.#apply(await this.#load(), {
      type: 'consented',
      tokens: toTokens(result.tokens, now),
      at: now,
    })
    this.#cached = null
    const tokens = (record as LinkedRecord).tokens
    return {
      ok: true,
      value: { refreshable: tokens.refreshToken !== null, generation: record.generation, tokens },
    }
  }

  /**
   * A usable access token. A valid one is handed out at once, and when it is due (or the
   * connection is degraded) a refresh is started behind it, single flight: callers never wait for
   * a refresh while a valid token exists. Without one (expired, or `rejected`: the token CC just
   * answered 401 to), the caller waits for the refresh, unless it passes `wait: false`: then the
   * refresh is started and it gets `token_refreshing` at once (a visitor's sign-up goes to the
   * outbox, whose drain waits for the refresh and delivers when it lands).
   */
  async accessToken(
    options: { rejected?: string; wait?: boolean } = {}
  ): Promise<Outcome<AccessToken>> {
    const cached = this.#cached
    if (cached && cached.accessToken !== options.rejected && !isDue(cached, this.#deps.clock.now()))
      return ok(cached)
    const record = await this.#load()
    const plan = tokenPlan(record, this.#deps.clock.now(), options.rejected)
    switch (plan.kind) {
      case 'owner':
        return outcomeFromRecord(record)
      case 'use':
        if (plan.refresh) this.#refreshBehind()
        else this.#cached = plan.tokens
        return ok(plan.tokens)
      case 'backing_off':
        return {
          ok: false,
          code: 'token_unavailable',
          message: `Refresh is backing off until ${new Date(plan.retryAt).toISOString()}`,
        }
      case 'refresh':
        // The rejected token goes down, not the plan's `forced`: the refresh re-reads the record
        // once it holds the lock, and by then another caller or instance may have replaced it.
        if (options.wait !== false) return this.#refreshOnce(options.rejected)
        this.#refreshBehind(options.rejected)
        return {
          ok: false,
          code: 'token_refreshing',
          message: 'No valid access token: a refresh is under way',
        }
    }
  }

  /**
   * Starts the refresh (or joins the one in flight) without waiting for it. Its outcome is in the
   * stored record, which every later caller reads; in the Durable Object it runs on after the
   * call that started it has answered.
   */
  #refreshBehind(rejected?: string): void {
    this.#refreshOnce(rejected).catch(() => undefined)
  }

  /**
   * The cron's job: refresh an idle token that is within its margin and leave a fresh one alone.
   * It is also the watchdog: a token that expired without a successful refresh alerts the owner
   * (once per expired token), whatever the request path has or has not noticed.
   */
  async refreshIfDue(): Promise<'refreshed' | 'fresh' | 'skipped' | 'failed'> {
    const record = await this.#load()
    if (record.state === 'not_connected' || record.state === 'needs_reauth') return 'skipped'
    if (!isDue(record.tokens, this.#deps.clock.now()) && record.state !== 'degraded') return 'fresh'
    if ((await this.#refreshOnce()).ok) return 'refreshed'
    const after = await this.#load()
    const now = this.#deps.clock.now()
    if (
      after.state === 'degraded' &&
      after.tokens.expiresAt <= now &&
      !(after.staleAlertAt !== null && after.staleAlertAt >= after.tokens.expiresAt)
    ) {
      await this.#apply(after, { type: 'stale_alerted', at: now })
    }
    return 'failed'
  }

  /**
   * CC answered 403 to a sign-up sent with `accessToken`: the account cannot take sign-ups until
   * the owner reconnects (needs_reauth, `cc_forbidden`). A reconnect that landed meanwhile wins.
   */
  async apiForbidden(accessToken: string, message: string): Promise<void> {
    this.#cached = null
    const at = this.#deps.clock.now()
    await this.#apply(await this.#load(), { type: 'api_forbidden', accessToken, message, at })
  }

  /** Stores the account summary fetched after the consent of `generation`. */
  async setAccount(generation: number, account: AccountSummary): Promise<void> {
    await this.#apply(await this.#load(), { type: 'account_fetched', generation, account })
  }

  async status(): Promise<ConnectionStatus> {
    return describeStatus(await this.#load(), this.#deps.clock.now())
  }

  /** Forgets the local token set. This does not revoke the grant at Constant Contact. */
  async disconnect(): Promise<void> {
    await this.#apply(await this.#load(), { type: 'disconnected' })
    this.#cached = null
  }

  #refreshOnce(rejected?: string): Promise<Outcome<AccessToken>> {
    // No await between the check and the assignment: this is what makes it single flight.
    if (!this.#inflight) {
      const serialize = this.#deps.serializeRefresh ?? ((refresh) => refresh())
      this.#inflight = serialize(() => this.#refresh(rejected)).finally(() => {
        this.#inflight = null
      })
    }
    return this.#inflight
  }

  async #refresh(rejected?: string): Promise<Outcome<AccessToken>> {
    const { clock } = this.#deps
    let record = await this.#load()
    if (record.state === 'not_connected' || record.state === 'needs_reauth')
      return outcomeFromRecord(record)
    const generation = record.generation
    if (!record.tokens.refreshToken) {
      return this.#fail(record, true, false, {
        code: 'no_refresh_token',
        message: `Constant Contact issued no refresh token, so the connection cannot be renewed. ${noRefreshTokenAdvice(this.#deps.config().CC_SCOPES)}`,
      })
    }
    // Forced only while the rejected token is still the stored one: a caller that reports a token
    // already replaced (by a refresh it waited behind, here or on another instance) gets the new
    // one, and a rotating refresh token is not spent twice.
    const forced = rejected !== undefined && rejected === record.tokens.accessToken
    if (!forced && !isDue(record.tokens, clock.now()) && record.state !== 'degraded') {
      this.#cached = record.tokens
      return ok(record.tokens)
    }
    if (record.state === 'degraded' && record.retryAt > clock.now()) {
      return {
        ok: false,
        code: 'token_unavailable',
        message: `Refresh is backing off after ${record.failures} failure(s)`,
      }
    }
    let lost = record.refreshInFlightSince !== null
    let last = { code: 'unknown', message: '' }
    for (let attempt = 1; attempt <= REFRESH_ATTEMPTS; attempt++) {
      await this.#spaceTokenCalls()
      record = await this.#load()
      if (record.generation !== generation || record.state === 'not_connected')
        return outcomeFromRecord(record)
      const sentRefreshToken = record.tokens.refreshToken as string
      // Persisted before the request leaves (output gates make it durable first).
      const sentAt = clock.now()
      record = await this.#apply(record, { type: 'refresh_sent', at: sentAt })
      const answer = await exchange(
        this.#deps.fetch,
        tokenRequest(this.#deps.config(), {
          grant_type: 'refresh_token',
          refresh_token: sentRefreshToken,
        }),
        TOKEN_CALL_TIMEOUT_MS
      )
      // Expiry counts from the send, as in exchangeCode.
      const result = processTokenResponse(answer, sentAt, sentRefreshToken)
      // The input gate was open during the call: re-read before acting on the answer.
      record = await this.#load()
      if (record.generation !== generation || record.state === 'not_connected')
        return outcomeFromRecord(record)
      if (result.ok) {
        const now = clock.now()
        const next = await this.#apply(record, {
          type: 'refreshed',
          tokens: toTokens(result.tokens, now),
          at: now,
        })
        this.#cached = (next as LinkedRecord).tokens
        return ok(this.#cached)
      }
      if (result.kind === 'lost') {
        // The marker stays: if no answer ever comes, the next attempt knows rotation may be lost.
        lost = true
        last = { code: 'refresh_response_lost', message: result.description }
        continue
      }
      const detail = `${result.status} ${result.error}${result.description ? `: ${result.description}` : ''}`
      if (result.kind === 'invalid_grant') {
        return this.#fail(
          record,
          true,
          lost,
          lost
            ? {
                code: 'rotation_response_lost',
                message:
                  'A refresh answer was lost and Constant Contact will not accept the old refresh token again; reconnect from /admin',
              }
            : {
                code: 'refresh_token_revoked',
                message: `Constant Contact rejected the refresh token (invalid_grant${result.description ? `: ${result.description}` : ''}); access was revoked or expired, reconnect from /admin`,
              }
        )
      }
      if (result.kind === 'rejected') {
        return this.#fail(record, true, lost, {
          code: result.error,
          message: `The token endpoint refused the app (${detail}); check CC_CLIENT_ID and CC_CLIENT_SECRET, then reconnect`,
        })
      }
      last = {
        code: 'token_endpoint_error',
        message: `Token endpoint answered ${result.status} ${result.error}`,
      }
      record = await this.#apply(record, { type: 'refresh_not_rotated', lostEarlier: lost })
    }
    return this.#fail(await this.#load(), false, lost, last)
  }

  async #fail(
    record: ConnectionRecord,
    final: boolean,
    lost: boolean,
    error: { code: string; message: string }
  ): Promise<Outcome<AccessToken>> {
    this.#cached = null
    await this.#apply(record, {
      type: 'refresh_failed',
      final,
      error,
      at: this.#deps.clock.now(),
      lost,
      jitter: (this.#deps.random ?? Math.random)(),
    })
    return { ok: false, code: final ? 'needs_reauth' : 'token_unavailable', message: error.message }
  }

  async #spaceTokenCalls(): Promise<void> {
    const record = await this.#load()
    const wait = (record.lastTokenCallAt ?? 0) + TOKEN_CALL_SPACING_MS - this.#deps.clock.now()
    if (wait > 0) await this.#deps.clock.sleep(wait)
  }

  async #alert(event: AlertEvent, record: ConnectionRecord, previous: ConnectionRecord['state']) {
    const lastError = record.state === 'not_connected' ? null : record.lastError
    await this.#deps.alert({
      event,
      state: record.state,
      previous_state: previous,
      reason:
        event === 'recovered' || !lastError
          ? undefined
          : { code: lastError.code, message: lastError.message },
      at: new Date(this.#deps.clock.now()).toISOString(),
    })
  }
}
