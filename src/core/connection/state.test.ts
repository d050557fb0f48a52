import { describe, expect, it } from 'vitest'
import {
  backoffDelay,
  type Connected,
  type ConnectionEvent,
  type ConnectionRecord,
  type Degraded,
  describeStatus,
  fromStored,
  type NeedsReauth,
  NOT_CONNECTED,
  type Tokens,
  tokenPlan,
  toStored,
  transition,
} from './state.ts'

const T0 = Date.UTC(2031, 0, 6, 9)
const tokens = (n: number, at = T0): Tokens => ({
  accessToken: `access-${n}`,
  refreshToken: `refresh-${n}`,
  expiresAt: at + 86_400_000,
  receivedAt: at,
  scope: 'account_read contact_data offline_access',
  sub: 'owner',
})

const connected: Connected = {
  state: 'connected',
  generation: 3,
  lastTokenCallAt: T0,
  tokens: tokens(1),
  connectedAt: T0,
  lastRefreshAt: null,
  account: { organization_name: 'Bakery' },
  lastError: null,
  refreshInFlightSince: null,
}
const error = { code: 'token_endpoint_error', message: 'Token endpoint answered 500', at: T0 }
const degraded: Degraded = {
  ...connected,
  state: 'degraded',
  lastError: error,
  failures: 2,
  retryAt: T0 + 5000,
  staleAlertAt: null,
}
const needsReauth: NeedsReauth = {
  ...connected,
  state: 'needs_reauth',
  lastError: { ...error, code: 'refresh_token_revoked' },
  failures: 1,
}
const notConnected: ConnectionRecord = { ...NOT_CONNECTED, generation: 3, lastTokenCallAt: T0 }

const at = T0 + 60_000
const failure = (final: boolean, lost = false): ConnectionEvent => ({
  type: 'refresh_failed',
  final,
  error: { code: final ? 'refresh_token_revoked' : 'token_endpoint_error', message: 'm' },
  at,
  lost,
  jitter: 0.5,
})

/** CC answered 403 to a sign-up sent with `accessToken`. */
const forbidden = (accessToken: string): ConnectionEvent => ({
  type: 'api_forbidden',
  accessToken,
  message: 'Constant Contact refused sign-ups with 403',
  at,
})
/** A grant that names its scopes, without contact_data. */
const narrow: Tokens = { ...tokens(2, at), scope: 'account_read offline_access' }

type Row = [
  name: string,
  from: ConnectionRecord,
  event: ConnectionEvent,
  state: ConnectionRecord['state'],
  alert: string | null,
]

const TABLE: Row[] = [
  [
    'not_connected + consented',
    notConnected,
    { type: 'consented', tokens: tokens(2, at), at },
    'connected',
    null,
  ],
  [
    'connected + consented (reconnect)',
    connected,
    { type: 'consented', tokens: tokens(2, at), at },
    'connected',
    null,
  ],
  [
    'degraded + consented',
    degraded,
    { type: 'consented', tokens: tokens(2, at), at },
    'connected',
    'recovered',
  ],
  [
    'needs_reauth + consented',
    needsReauth,
    { type: 'consented', tokens: tokens(2, at), at },
    'connected',
    'recovered',
  ],
  ['connected + disconnected', connected, { type: 'disconnected' }, 'not_connected', null],
  ['needs_reauth + disconnected', needsReauth, { type: 'disconnected' }, 'not_connected', null],
  ['not_connected + disconnected', notConnected, { type: 'disconnected' }, 'not_connected', null],
  [
    'connected + refreshed',
    connected,
    { type: 'refreshed', tokens: tokens(2, at), at },
    'connected',
    null,
  ],
  [
    'degraded + refreshed',
    degraded,
    { type: 'refreshed', tokens: tokens(2, at), at },
    'connected',
    'recovered',
  ],
  [
    'needs_reauth + refreshed (a late answer)',
    needsReauth,
    { type: 'refreshed', tokens: tokens(2, at), at },
    'needs_reauth',
    null,
  ],
  [
    'not_connected + refreshed',
    notConnected,
    { type: 'refreshed', tokens: tokens(2, at), at },
    'not_connected',
    null,
  ],
  ['connected + transient failure', connected, failure(false), 'degraded', 'degraded'],
  ['degraded + transient failure', degraded, failure(false), 'degraded', null],
  ['connected + final failure', connected, failure(true), 'needs_reauth', 'needs_reauth'],
  ['degraded + final failure', degraded, failure(true), 'needs_reauth', 'needs_reauth'],
  ['needs_reauth + failure', needsReauth, failure(false), 'needs_reauth', null],
  ['not_connected + failure', notConnected, failure(true), 'not_connected', null],
  [
    'degraded + stale_alerted',
    degraded,
    { type: 'stale_alerted', at },
    'degraded',
    'stale_refresh',
  ],
  ['connected + stale_alerted', connected, { type: 'stale_alerted', at }, 'connected', null],
  ['connected + refresh_sent', connected, { type: 'refresh_sent', at }, 'connected', null],
  [
    'not_connected + refresh_sent',
    notConnected,
    { type: 'refresh_sent', at },
    'not_connected',
    null,
  ],
  ['degraded + token_call', degraded, { type: 'token_call', at }, 'degraded', null],
  ['connected + api_forbidden', connected, forbidden('access-1'), 'needs_reauth', 'needs_reauth'],
  ['degraded + api_forbidden', degraded, forbidden('access-1'), 'needs_reauth', 'needs_reauth'],
  ['needs_reauth + api_forbidden', needsReauth, forbidden('access-1'), 'needs_reauth', null],
  ['not_connected + api_forbidden', notConnected, forbidden('access-1'), 'not_connected', null],
  [
    'connected + api_forbidden for an older token (a reconnect landed meanwhile)',
    connected,
    forbidden('access-0'),
    'connected',
    null,
  ],
  [
    'connected + consented without contact_data',
    connected,
    { type: 'consented', tokens: narrow, at },
    'needs_reauth',
    'needs_reauth',
  ],
  [
    'degraded + consented without contact_data',
    degraded,
    { type: 'consented', tokens: narrow, at },
    'needs_reauth',
    'needs_reauth',
  ],
  [
    'not_connected + consented without contact_data',
    notConnected,
    { type: 'consented', tokens: narrow, at },
    'needs_reauth',
    null,
  ],
  [
    'needs_reauth + consented without contact_data',
    needsReauth,
    { type: 'consented', tokens: narrow, at },
    'needs_reauth',
    null,
  ],
]

describe('transition', () => {
  it.each(TABLE)('%s → %s', (_name, from, event, state, alert) => {
    const next = transition(from, event)
    expect(next.record.state).toBe(state)
    expect(next.alert).toBe(alert)
  })

  it('a consent replaces everything and bumps the generation', () => {
    const { record } = transition(degraded, { type: 'consented', tokens: tokens(2, at), at })
    expect(record).toEqual({
      state: 'connected',
      generation: 4,
      lastTokenCallAt: T0,
      tokens: tokens(2, at),
      connectedAt: at,
      lastRefreshAt: null,
      account: null,
      lastError: null,
      refreshInFlightSince: null,
    })
  })

  it('Disconnect forgets the tokens, keeps the token-call spacing, bumps the generation', () => {
    expect(transition(connected, { type: 'disconnected' }).record).toEqual({
      state: 'not_connected',
      generation: 4,
      lastTokenCallAt: T0,
    })
  })

  it('a refresh keeps the consent, stores the new pair, clears the marker', () => {
    const sent = transition(connected, { type: 'refresh_sent', at }).record
    expect(sent).toMatchObject({ refreshInFlightSince: at, lastTokenCallAt: at })
    const { record } = transition(sent, {
      type: 'refreshed',
      tokens: tokens(2, at + 50),
      at: at + 50,
    })
    expect(record).toEqual({
      ...connected,
      lastTokenCallAt: at,
      tokens: tokens(2, at + 50),
      lastRefreshAt: at + 50,
      refreshInFlightSince: null,
    })
  })

  it('recovering from degraded keeps the last error for the dashboard', () => {
    const { record } = transition(degraded, { type: 'refreshed', tokens: tokens(2, at), at })
    expect(record).toMatchObject({ state: 'connected', lastError: error })
  })

  it('a transient failure counts, backs off 1-2 s at first, and keeps the marker only if an answer was lost', () => {
    const marked = { ...connected, refreshInFlightSince: at - 10 }
    const kept = transition(marked, failure(false, true)).record as Degraded
    expect(kept).toMatchObject({ failures: 1, refreshInFlightSince: at - 10 })
    expect(kept.retryAt).toBe(at + backoffDelay(1, 0.5))
    expect(kept.retryAt - at).toBeGreaterThanOrEqual(1000)
    expect(kept.retryAt - at).toBeLessThanOrEqual(2000)
    expect(transition(marked, failure(false, false)).record).toMatchObject({
      refreshInFlightSince: null,
    })
    expect(transition(degraded, failure(false)).record).toMatchObject({ failures: 3 })
  })

  it('a final failure clears the marker and records the error', () => {
    const { record } = transition({ ...degraded, refreshInFlightSince: at }, failure(true, true))
    expect(record).toMatchObject({
      state: 'needs_reauth',
      failures: 3,
      refreshInFlightSince: null,
      lastError: { code: 'refresh_token_revoked', message: 'm', at },
    })
  })

  it('an answer that did not rotate clears the marker unless an earlier one was lost', () => {
    const marked = { ...connected, refreshInFlightSince: at }
    expect(
      transition(marked, { type: 'refresh_not_rotated', lostEarlier: false }).record
    ).toMatchObject({ refreshInFlightSince: null })
    expect(transition(marked, { type: 'refresh_not_rotated', lostEarlier: true }).record).toBe(
      marked
    )
  })

  it('the account summary lands only on the consent it was fetched for', () => {
    const account = { organization_name: 'New name' }
    expect(
      transition(connected, { type: 'account_fetched', generation: 3, account }).record
    ).toMatchObject({ account })
    expect(transition(connected, { type: 'account_fetched', generation: 2, account }).record).toBe(
      connected
    )
  })

  it('a 403 parks the connection with cc_forbidden, keeping the consent for the dashboard', () => {
    const { record } = transition(degraded, forbidden('access-1'))
    expect(record).toEqual({
      ...connected,
      state: 'needs_reauth',
      lastError: {
        code: 'cc_forbidden',
        message: 'Constant Contact refused sign-ups with 403',
        at,
      },
      failures: 2,
    })
  })

  it('a consent without contact_data is a new consent that needs another (missing_scope)', () => {
    const { record } = transition(connected, { type: 'consented', tokens: narrow, at })
    expect(record).toMatchObject({
      state: 'needs_reauth',
      generation: 4,
      tokens: narrow,
      connectedAt: at,
      failures: 0,
      lastError: { code: 'missing_scope', at },
    })
    expect((record as NeedsReauth).lastError.message).toContain('contact_data')
    // A grant that names no scope at all is taken on trust (CC always names them).
    const unnamed = { ...narrow, scope: '' }
    expect(transition(connected, { type: 'consented', tokens: unnamed, at }).record.state).toBe(
      'connected'
    )
  })

  it('an event that does not apply returns the very same record (nothing to save)', () => {
    expect(transition(notConnected, { type: 'stale_alerted', at }).record).toBe(notConnected)
    expect(transition(needsReauth, failure(false)).record).toBe(needsReauth)
  })
})

describe('backoffDelay', () => {
  it('doubles from 1-2 s per failure, capped at 2.5-5 min', () => {
    expect(backoffDelay(1, 0)).toBe(1000)
    expect(backoffDelay(1, 0.999_999)).toBe(2000)
    expect(backoffDelay(3, 0)).toBe(4000)
    expect(backoffDelay(30, 0)).toBe(150_000)
    expect(backoffDelay(30, 0.999_999)).toBe(300_000)
  })
})

describe('stored rows', () => {
  it.each([
    ['connected', connected],
    ['degraded', degraded],
    ['needs_reauth', needsReauth],
    ['not_connected', notConnected],
  ] as const)('%s survives a save and a load unchanged', (_state, record) => {
    expect(fromStored(JSON.parse(JSON.stringify(toStored(record))))).toEqual(record)
  })

  it('reads a version-1 row, which has every field flat', () => {
    const v1 = {
      state: 'degraded',
      generation: 7,
      accessToken: 'a',
      refreshToken: 'r',
      expiresAt: T0 + 1000,
      receivedAt: T0,
      scope: 'contact_data',
      sub: 's',
      connectedAt: T0,
      lastRefreshAt: null,
      lastError: error,
      consecutiveFailures: 2,
      refreshInFlightSince: null,
      lastTokenCallAt: T0,
      nextAttemptAt: T0 + 4000,
      staleAlertAt: null,
      account: null,
    }
    const record = fromStored(v1)
    expect(record).toMatchObject({ state: 'degraded', failures: 2, retryAt: T0 + 4000 })
    expect(toStored(record)).toEqual(v1)
  })

  it('reads nothing, garbage or a linked state without a token as not connected', () => {
    expect(fromStored(null)).toEqual(NOT_CONNECTED)
    expect(fromStored('nonsense')).toEqual(NOT_CONNECTED)
    expect(fromStored({ state: 'connected', generation: 4, accessToken: null })).toEqual({
      ...NOT_CONNECTED,
      generation: 4,
    })
  })
})

describe('describeStatus', () => {
  it('connected means a usable or obtainable token, never while needs_reauth', () => {
    expect(describeStatus(connected, T0).connected).toBe(true)
    expect(describeStatus(degraded, T0).connected).toBe(true)
    expect(describeStatus(needsReauth, T0).connected).toBe(false)
    expect(describeStatus(notConnected, T0).connected).toBe(false)
    const expiredNoRefresh = { ...connected, tokens: { ...tokens(1), refreshToken: null } }
    expect(describeStatus(expiredNoRefresh, T0 + 2 * 86_400_000).connected).toBe(false)
  })

  it('shows failures, the marker and the account, never a token', () => {
    const status = describeStatus({ ...degraded, refreshInFlightSince: T0 }, T0)
    expect(status).toMatchObject({
      state: 'degraded',
      consecutive_failures: 2,
      refresh_pending_since: new Date(T0).toISOString(),
      account: { sub: 'owner', summary: { organization_name: 'Bakery' } },
    })
    expect(JSON.stringify(status)).not.toMatch(/access-1|refresh-1/)
  })
})

describe('tokenPlan: nobody waits for a refresh while a valid token exists', () => {
  const expires = connected.tokens.expiresAt
  const inMargin = expires - 30 * 60_000
  it.each([
    ['connected, fresh: used, no refresh', connected, T0, undefined, 'use', false],
    [
      'connected, inside the margin: used, refreshed behind',
      connected,
      inMargin,
      undefined,
      'use',
      true,
    ],
    [
      'degraded, valid: used, refreshed behind (within its backoff)',
      degraded,
      T0,
      undefined,
      'use',
      true,
    ],
    ['connected, expired: a refresh', connected, expires, undefined, 'refresh', null],
    [
      'connected, rejected by CC (401): a forced refresh',
      connected,
      T0,
      'access-1',
      'refresh',
      null,
    ],
    ['an older token rejected: the current one is used', connected, T0, 'access-0', 'use', false],
    [
      'degraded, expired, in backoff: none',
      { ...degraded, retryAt: expires + 5000 },
      expires,
      undefined,
      'backing_off',
      null,
    ],
    [
      'degraded, expired, backoff over: a refresh',
      { ...degraded, retryAt: expires },
      expires,
      undefined,
      'refresh',
      null,
    ],
    ['needs_reauth: the owner', needsReauth, T0, undefined, 'owner', null],
    ['not connected: the owner', notConnected, T0, undefined, 'owner', null],
  ] as const)('%s', (_name, record, now, rejected, kind, refresh) => {
    const plan = tokenPlan(record, now, rejected)
    expect(plan.kind).toBe(kind)
    if (plan.kind === 'use') {
      expect(plan.refresh).toBe(refresh)
      expect(plan.tokens).toBe(record.state === 'not_connected' ? null : record.tokens)
    }
  })
})
