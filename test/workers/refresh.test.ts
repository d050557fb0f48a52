/**
 * A connection that never dies: serialised, rotation-safe refresh in the Durable Object.
 * Time is virtual (test/support/edge.ts): a case moves the clock into the refresh margin instead of
 * waiting for a short-lived token. Every case counts the calls that reached the model of CC.
 */

import { abortAllDurableObjects, evictDurableObject, runInDurableObject } from 'cloudflare:test'
import { beforeEach, describe, expect, it } from 'vitest'
import { until } from '../support/arrivals.ts'
import { cc, clock, net } from '../support/edge.ts'
import { connect, cron, relay, status } from '../support/helpers.ts'

const refreshCalls = () => net.refreshCalls()
const sentRefreshTokens = () => refreshCalls().map((c) => c.form.get('refresh_token') ?? '')

/**
 * Connects (24 h tokens, so a 1 h margin) and moves the clock to `beforeExpiryMs` before expiry:
 * by default just past it, where a caller has no valid token and waits for the refresh. (Inside
 * the margin, with the token still valid, callers get it at once and the refresh runs behind.)
 */
async function connectAndMakeDue(beforeExpiryMs?: number) {
  expect((await connect()).status).toBe(303)
  await makeDue(beforeExpiryMs)
  net.reset()
}

async function makeDue(beforeExpiryMs = -1000) {
  const expiresAt = Date.parse(String((await status()).access_token_expires_at))
  clock.set(expiresAt - beforeExpiryMs)
}

function expectSpacedAtLeastOneSecond() {
  const times = cc.tokenCalls.map((c) => c.at)
  // CC's limit: at most one token-endpoint call per second, as the calls arrive.
  for (let i = 1; i < times.length; i++)
    expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(1000)
}

beforeEach(async () => {
  await relay().disconnect()
  net.reset()
})

describe('single flight', () => {
  it('50 concurrent requests at expiry make exactly one refresh, and all get the new token', async () => {
    await connectAndMakeDue()
    const held = net.hold() // every caller arrives while the refresh is in flight
    const pending = Promise.all(Array.from({ length: 50 }, () => relay().accessToken()))
    await until(() => refreshCalls().length === 1, 'the refresh to reach CC')
    held.release()
    const results = await pending
    expect(refreshCalls()).toHaveLength(1)
    const tokens = new Set(results.map((r) => (r.ok ? r.value.token : r.code)))
    expect(tokens.size).toBe(1)
    expect(results.every((r) => r.ok)).toBe(true)
    expect(cc.refreshTokenState(sentRefreshTokens()[0])).toBe('rotated')
    expect((await status()).state).toBe('connected')
  })

  it('inside the margin the valid token is handed out at once, while one refresh runs behind it', async () => {
    await connectAndMakeDue(30 * 60_000)
    const held = net.hold() // the refresh stays in flight
    const results = await Promise.all(Array.from({ length: 20 }, () => relay().accessToken()))
    expect(new Set(results.map((r) => (r.ok ? r.value.token : r.code))).size).toBe(1)
    expect(results.every((r) => r.ok)).toBe(true) // nobody waited for the held refresh
    await until(() => refreshCalls().length === 1, 'the refresh to reach CC')
    held.release()
    await until(async () => (await status()).last_refresh_at !== null, 'the refresh to land')
    const after = await relay().accessToken()
    expect(after.ok && results[0].ok && after.value.token !== results[0].value.token).toBe(true)
    expect(refreshCalls()).toHaveLength(1)
  })

  it('a token that is not due is served from memory with no token call', async () => {
    expect((await connect()).status).toBe(303)
    net.reset()
    const a = await relay().accessToken()
    clock.advance(60 * 60_000)
    const b = await relay().accessToken()
    expect(a.ok && b.ok && a.value.token === b.value.token).toBe(true)
    expect(cc.tokenCalls).toHaveLength(0)
  })
})

describe('rotation', () => {
  it('never sends a refresh token again after it was rotated', async () => {
    await connectAndMakeDue()
    expect((await relay().accessToken()).ok).toBe(true)
    await makeDue() // the new token's own margin, a day later
    expect((await relay().accessToken()).ok).toBe(true)
    const sent = sentRefreshTokens()
    expect(sent).toHaveLength(2)
    expect(new Set(sent).size).toBe(2)
    expect(sent.map((t) => cc.refreshTokenState(t))).toEqual(['rotated', 'rotated'])
    expectSpacedAtLeastOneSecond()
    expect((await status()).state).toBe('connected')
  })

  it('an eviction or crash right after a refresh loses nothing: the stored pair is used next', async () => {
    expect((await connect()).status).toBe(303)
    net.reset()
    const first = await relay().accessToken()
    if (!first.ok) throw new Error(first.message)
    // CC rejected the token with a 401: that forces one refresh even though it is not due.
    const refreshed = await relay().accessToken({ rejected: first.value.token })
    expect(refreshed.ok).toBe(true)
    expect(refreshCalls()).toHaveLength(1)
    await evictDurableObject(relay())
    const afterEviction = await relay().accessToken()
    expect(afterEviction).toEqual(refreshed)
    expect(refreshCalls()).toHaveLength(1)
    // After a hard crash the persisted (rotated) refresh token is the one sent, and it works.
    await abortAllDurableObjects()
    if (!refreshed.ok) throw new Error(refreshed.message)
    const again = await relay().accessToken({ rejected: refreshed.value.token })
    expect(again.ok).toBe(true)
    const sent = sentRefreshTokens()
    expect(sent).toHaveLength(2)
    expect(sent[0]).not.toBe(sent[1])
    expect((await status()).state).toBe('connected')
  })

  it('a 401 refreshes once; a second caller with the same stale token shares the result', async () => {
    expect((await connect()).status).toBe(303)
    net.reset()
    const first = await relay().accessToken()
    if (!first.ok) throw new Error(first.message)
    const [a, b] = await Promise.all([
      relay().accessToken({ rejected: first.value.token }),
      relay().accessToken({ rejected: first.value.token }),
    ])
    expect(a).toEqual(b)
    expect(refreshCalls()).toHaveLength(1)
    // A caller that reports an already-replaced token gets the current one, with no new call.
    const c = await relay().accessToken({ rejected: first.value.token })
    expect(c).toEqual(a)
    expect(refreshCalls()).toHaveLength(1)
  })

  it('a reconnect that lands while a refresh is in flight wins (the input gate was open)', async () => {
    await connectAndMakeDue()
    const held = net.hold()
    const refreshing = relay().accessToken()
    await until(() => refreshCalls().length === 1, 'the refresh to reach CC')
    held.stop() // the refresh stays in flight; the reconnect's calls are answered
    expect((await connect()).status).toBe(303)
    const reconnected = await relay().accessToken()
    held.release()
    // The refresh's answer came back after the reconnect: it is discarded, not stored.
    expect(await refreshing).toEqual(reconnected)
    expect((await relay().accessToken()).ok && reconnected.ok).toBe(true)
    const s = await status()
    expect(s.state).toBe('connected')
    expect(s.last_refresh_at).toBeNull() // a fresh consent, not the refresh
  })

  it('persists the in-flight marker before the request leaves', async () => {
    await connectAndMakeDue()
    const held = net.hold()
    const pending = relay().accessToken()
    await until(() => refreshCalls().length === 1, 'the refresh to reach CC')
    const marker = await runInDurableObject(relay(), (_i, state) => {
      const row = state.storage.sql.exec<{ record: string }>('SELECT record FROM connection').one()
      return JSON.parse(row.record).refreshInFlightSince
    })
    expect(marker).toBe(refreshCalls()[0].at)
    held.release()
    expect((await pending).ok).toBe(true)
    expect((await status()).refresh_pending_since).toBeNull()
  })
})

describe('failures', () => {
  it('a lost answer is retried promptly with the same refresh token', async () => {
    await connectAndMakeDue()
    cc.tokenFaults = ['drop']
    const result = await relay().accessToken()
    expect(result.ok).toBe(true)
    const sent = sentRefreshTokens()
    expect(sent).toHaveLength(2)
    expect(sent[0]).toBe(sent[1])
    expectSpacedAtLeastOneSecond()
    expect((await status()).state).toBe('connected')
  })

  it('an answer lost mid-rotation is told apart from a revoked grant', async () => {
    await connectAndMakeDue()
    cc.tokenFaults = ['rotate_then_drop']
    const result = await relay().accessToken()
    expect(result).toMatchObject({ ok: false, code: 'needs_reauth' })
    const s = await status()
    expect(s.state).toBe('needs_reauth')
    expect((s.last_error as { code: string }).code).toBe('rotation_response_lost')
    expect(net.alertEvents()).toEqual(['needs_reauth'])
  })

  it('a 200 with an unreadable body counts as lost: same token retried, then "lost mid-rotation"', async () => {
    await connectAndMakeDue()
    cc.tokenFaults = ['rotate_then_garbage']
    const result = await relay().accessToken()
    expect(result).toMatchObject({ ok: false, code: 'needs_reauth' })
    const sent = sentRefreshTokens()
    expect(sent).toHaveLength(2)
    expect(sent[0]).toBe(sent[1])
    const s = await status()
    expect((s.last_error as { code: string }).code).toBe('rotation_response_lost')
  })

  it('a 4xx page from a proxy (no OAuth error) degrades, never disconnects', async () => {
    await connectAndMakeDue(30 * 60_000)
    cc.tokenFaults = ['proxy403', 'proxy403', 'proxy403']
    const result = await relay().accessToken()
    expect(result.ok).toBe(true) // the old token is still valid: handed out, refreshed behind
    await until(async () => (await status()).state === 'degraded', 'the refresh to give up')
    expect(refreshCalls()).toHaveLength(3)
    expect(net.alertEvents()).toEqual(['degraded'])
  })

  it('500, then success → still connected, no alert', async () => {
    await connectAndMakeDue()
    cc.tokenFaults = ['error500']
    expect((await relay().accessToken()).ok).toBe(true)
    expect(refreshCalls()).toHaveLength(2)
    expect((await status()).state).toBe('connected')
    expect(net.alerts).toHaveLength(0)
  })

  it('a 500 storm degrades (one alert), keeps the still-valid token, then recovers (one alert)', async () => {
    await connectAndMakeDue(30 * 60_000)
    cc.tokenFaults = ['error500', 'error500', 'error500']
    const during = await relay().accessToken()
    expect(during.ok).toBe(true) // inside the margin the old token still works
    await until(async () => (await status()).state === 'degraded', 'the refresh to give up')
    expect(refreshCalls()).toHaveLength(3)
    let s = await status()
    expect(s.state).toBe('degraded')
    expect(s.consecutive_failures).toBe(1)
    expect(net.alertEvents()).toEqual(['degraded'])
    expect(JSON.stringify(net.alerts[0])).not.toMatch(/eyJ/)
    // Backoff: the next request does not hammer the token endpoint (and still gets the token).
    expect((await relay().accessToken()).ok).toBe(true)
    expect(refreshCalls()).toHaveLength(3)
    clock.advance(2100) // past the first backoff (1-2 s)
    await cron()
    s = await status()
    expect(s.state).toBe('connected')
    expect(net.alertEvents()).toEqual(['degraded', 'recovered'])
    expectSpacedAtLeastOneSecond()
  })

  it('invalid_grant → needs_reauth and one alert, however many requests; reconnect → recovered', async () => {
    await connectAndMakeDue()
    cc.tokenFaults = ['invalid_grant']
    const results = await Promise.all(Array.from({ length: 10 }, () => relay().accessToken()))
    expect(results.every((r) => !r.ok && r.code === 'needs_reauth')).toBe(true)
    expect(refreshCalls()).toHaveLength(1)
    const s = await status()
    expect(s.state).toBe('needs_reauth')
    expect((s.last_error as { code: string }).code).toBe('refresh_token_revoked')
    expect(s.connected).toBe(false)
    expect(net.alerts).toHaveLength(1)
    expect(net.alerts[0]).toMatchObject({ event: 'needs_reauth', state: 'needs_reauth' })
    expect(String(net.alerts[0].text)).toContain('reconnect')
    // Parked: no further token calls while needs_reauth.
    await relay().accessToken()
    await cron()
    expect(refreshCalls()).toHaveLength(1)
    // Reconnecting replaces the token set and clears needs_reauth.
    expect((await connect()).status).toBe(303)
    expect((await status()).state).toBe('connected')
    expect(net.alertEvents()).toEqual(['needs_reauth', 'recovered'])
  })
})

describe('cron', () => {
  it('refreshes an idle token inside its margin', async () => {
    await connectAndMakeDue(30 * 60_000)
    await cron()
    expect(refreshCalls()).toHaveLength(1)
    const s = await status()
    expect(s.state).toBe('connected')
    expect(Date.parse(String(s.last_refresh_at))).toBe(refreshCalls()[0].at)
  })

  it('leaves a fresh token alone', async () => {
    expect((await connect()).status).toBe(303)
    net.reset()
    clock.advance(12 * 3600_000) // half-way through its 24 hours: outside the 1 h margin
    await cron()
    expect(cc.tokenCalls).toHaveLength(0)
  })

  it('is a watchdog: alerts once when the token expired without a successful refresh', async () => {
    await connectAndMakeDue(30 * 60_000)
    cc.tokenFaults = ['error500', 'error500', 'error500']
    await cron()
    await makeDue(-60_000) // a minute past expiry, and past the backoff
    cc.tokenFaults = ['error500', 'error500', 'error500']
    await cron()
    clock.advance(10 * 60_000)
    cc.tokenFaults = ['error500', 'error500', 'error500']
    await cron() // a third failure: no second watchdog alert for the same expired token
    expect(net.alertEvents()).toEqual(['degraded', 'stale_refresh'])
    expect((await relay().accessToken()).ok).toBe(false)
  })
})

describe('a slow token endpoint with opaque access tokens (a strict server)', () => {
  it('counts expires_in from when the request was sent, for the code exchange and the refresh', async () => {
    cc.opaqueAccessTokens = true // no exp to read: expires_in is all the relay has
    cc.tokenTtlSeconds = 30
    cc.latency.answer = 20_000
    expect((await connect()).status).toBe(303)
    const [exchange] = cc.tokenCalls
    expect(exchange.grant).toBe('authorization_code')
    expect(clock.now()).toBeGreaterThanOrEqual(exchange.at + 20_000)
    expect(Date.parse(String((await status()).access_token_expires_at))).toBe(exchange.at + 30_000)

    const first = await relay().accessToken()
    if (!first.ok) throw new Error(first.message)
    // CC rejected it with a 401: one refresh, answered 20 s after it was sent.
    const renewed = await relay().accessToken({ rejected: first.value.token })
    expect(renewed.ok).toBe(true)
    const refresh = refreshCalls().at(-1)
    expect(refresh?.status).toBe(200)
    expect(Date.parse(String((await status()).access_token_expires_at))).toBe(
      (refresh?.at ?? 0) + 30_000
    )
  })
})
