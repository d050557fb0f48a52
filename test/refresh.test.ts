/**
 * A connection that never dies: serialised, rotation-safe refresh in the Durable Object.
 * Tokens here live a few seconds (real time), so the adaptive margin is a quarter of that.
 * Every case counts the calls that reached the fake token endpoint.
 */

import {
  abortAllDurableObjects,
  createExecutionContext,
  createScheduledController,
  evictDurableObject,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeEach, describe, expect, it } from 'vitest'
import worker from '../src/worker.ts'
import { cc } from './fake-cc.ts'
import { connect, sleep, status } from './helpers.ts'

const relay = () => env.RELAY.getByName('main')

/**
 * Connects with tokens living `ttl` seconds and waits until they are due. The margin is a
 * quarter of the lifetime, and `exp` is whole seconds (so the lifetime is ttl-1 to ttl seconds):
 * waiting until 70% of the smallest possible margin is left is always inside it.
 */
async function connectAndWaitUntilDue(ttl = 4) {
  cc.ttlSeconds = ttl
  expect((await connect()).status).toBe(303)
  const s = await status()
  const expiresAt = Date.parse(String(s.access_token_expires_at))
  await sleep(Math.max(0, expiresAt - 0.7 * ((ttl - 1) * 250) - Date.now()))
  cc.tokenCalls = []
  cc.alerts = []
}

async function cron() {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ cron: '*/15 * * * *' }), env, ctx)
  await waitOnExecutionContext(ctx)
}

function expectSpacedAtLeastOneSecond() {
  const times = cc.tokenCalls.map((c) => c.at)
  // CC's limit: at most one token-endpoint call per second, as the calls arrive.
  for (let i = 1; i < times.length; i++)
    expect(times[i] - times[i - 1]).toBeGreaterThanOrEqual(1000)
}

beforeEach(async () => {
  await relay().disconnect()
})

describe('single flight', () => {
  it('50 concurrent requests at expiry make exactly one refresh, and all get the new token', async () => {
    await connectAndWaitUntilDue()
    const before = cc.validRefresh.size
    cc.delayMs = 200 // widen the window in which the others arrive
    const results = await Promise.all(Array.from({ length: 50 }, () => relay().accessToken()))
    expect(cc.refreshCalls()).toHaveLength(1)
    const tokens = new Set(results.map((r) => (r.ok ? r.value.token : r.code)))
    expect(tokens.size).toBe(1)
    expect(results.every((r) => r.ok)).toBe(true)
    expect(cc.validRefresh.size).toBe(before) // one rotated out, one issued
    expect((await status()).state).toBe('connected')
  })

  it('a token that is not due is served from memory with no token call', async () => {
    cc.ttlSeconds = 3600
    await connect()
    cc.tokenCalls = []
    const a = await relay().accessToken()
    const b = await relay().accessToken()
    expect(a.ok && b.ok && a.value.token === b.value.token).toBe(true)
    expect(cc.tokenCalls).toHaveLength(0)
  })
})

describe('rotation', () => {
  it('never sends a refresh token again after it was rotated', async () => {
    await connectAndWaitUntilDue(4)
    expect((await relay().accessToken()).ok).toBe(true)
    await sleep(3300) // due again
    expect((await relay().accessToken()).ok).toBe(true)
    const sent = cc.refreshCalls().map((c) => c.form.get('refresh_token'))
    expect(sent).toHaveLength(2)
    expect(new Set(sent).size).toBe(2)
    expectSpacedAtLeastOneSecond()
    expect((await status()).state).toBe('connected')
  })

  it('an eviction or crash right after a refresh loses nothing: the stored pair is used next', async () => {
    cc.ttlSeconds = 3600
    await connect()
    cc.tokenCalls = []
    const first = await relay().accessToken()
    if (!first.ok) throw new Error(first.message)
    // CC rejected the token with a 401: that forces one refresh even though it is not due.
    const refreshed = await relay().accessToken({ rejected: first.value.token })
    expect(refreshed.ok).toBe(true)
    expect(cc.refreshCalls()).toHaveLength(1)
    await evictDurableObject(relay())
    const afterEviction = await relay().accessToken()
    expect(afterEviction).toEqual(refreshed)
    expect(cc.refreshCalls()).toHaveLength(1)
    // After a hard crash the persisted (rotated) refresh token is the one sent, and it works.
    await abortAllDurableObjects()
    if (!refreshed.ok) throw new Error(refreshed.message)
    const again = await relay().accessToken({ rejected: refreshed.value.token })
    expect(again.ok).toBe(true)
    const sent = cc.refreshCalls().map((c) => c.form.get('refresh_token'))
    expect(sent).toHaveLength(2)
    expect(sent[0]).not.toBe(sent[1])
    expect((await status()).state).toBe('connected')
  })

  it('a 401 refreshes once; a second caller with the same stale token shares the result', async () => {
    cc.ttlSeconds = 3600
    await connect()
    cc.tokenCalls = []
    const first = await relay().accessToken()
    if (!first.ok) throw new Error(first.message)
    const [a, b] = await Promise.all([
      relay().accessToken({ rejected: first.value.token }),
      relay().accessToken({ rejected: first.value.token }),
    ])
    expect(a).toEqual(b)
    expect(cc.refreshCalls()).toHaveLength(1)
    // A caller that reports an already-replaced token gets the current one, with no new call.
    const c = await relay().accessToken({ rejected: first.value.token })
    expect(c).toEqual(a)
    expect(cc.refreshCalls()).toHaveLength(1)
  })

  it('persists the in-flight marker before the request leaves', async () => {
    await connectAndWaitUntilDue()
    cc.delayMs = 400
    const pending = relay().accessToken()
    await sleep(150)
    const marker = await runInDurableObject(relay(), (_i, ctx) => {
      const row = ctx.storage.sql.exec<{ record: string }>('SELECT record FROM connection').one()
      return JSON.parse(row.record).refreshInFlightSince
    })
    expect(typeof marker).toBe('number')
    expect((await pending).ok).toBe(true)
    expect((await status()).refresh_pending_since).toBeNull()
  })
})

describe('failures', () => {
  it('a lost answer is retried promptly with the same refresh token', async () => {
    await connectAndWaitUntilDue()
    cc.script = ['drop']
    const result = await relay().accessToken()
    expect(result.ok).toBe(true)
    const sent = cc.refreshCalls().map((c) => c.form.get('refresh_token'))
    expect(sent).toHaveLength(2)
    expect(sent[0]).toBe(sent[1])
    expectSpacedAtLeastOneSecond()
    expect((await status()).state).toBe('connected')
  })

  it('an answer lost mid-rotation is told apart from a revoked grant', async () => {
    await connectAndWaitUntilDue()
    cc.script = ['rotate_then_drop']
    const result = await relay().accessToken()
    expect(result).toMatchObject({ ok: false, code: 'needs_reauth' })
    const s = await status()
    expect(s.state).toBe('needs_reauth')
    expect((s.last_error as { code: string }).code).toBe('rotation_response_lost')
    expect(cc.alerts).toHaveLength(1)
  })

  it('a 200 with an unreadable body counts as lost: same token retried, then "lost mid-rotation"', async () => {
    await connectAndWaitUntilDue()
    cc.script = ['rotate_then_garbage']
    const result = await relay().accessToken()
    expect(result).toMatchObject({ ok: false, code: 'needs_reauth' })
    const sent = cc.refreshCalls().map((c) => c.form.get('refresh_token'))
    expect(sent).toHaveLength(2)
    expect(sent[0]).toBe(sent[1])
    const s = await status()
    expect((s.last_error as { code: string }).code).toBe('rotation_response_lost')
  })

  it('a 4xx page from a proxy (no OAuth error) degrades, never disconnects', async () => {
    await connectAndWaitUntilDue(24)
    cc.script = ['proxy403', 'proxy403', 'proxy403']
    const result = await relay().accessToken()
    expect(result.ok).toBe(true) // the old token is still valid
    expect(cc.refreshCalls()).toHaveLength(3)
    const s = await status()
    expect(s.state).toBe('degraded')
    expect(cc.alerts.map((a) => a.event)).toEqual(['degraded'])
  })

  it('500, then success → still connected, no alert', async () => {
    await connectAndWaitUntilDue()
    cc.script = ['error500']
    const result = await relay().accessToken()
    expect(result.ok).toBe(true)
    expect(cc.refreshCalls()).toHaveLength(2)
    expect((await status()).state).toBe('connected')
    expect(cc.alerts).toHaveLength(0)
  })

  it('a 500 storm degrades (one alert), keeps the still-valid token, then recovers (one alert)', async () => {
    // Three attempts 1.1 s apart must fit inside the margin: 24 s tokens have at least 5.75 s.
    await connectAndWaitUntilDue(24)
    cc.script = ['error500', 'error500', 'error500']
    const during = await relay().accessToken()
    expect(during.ok).toBe(true) // inside the margin the old token still works
    expect(cc.refreshCalls()).toHaveLength(3)
    let s = await status()
    expect(s.state).toBe('degraded')
    expect(s.consecutive_failures).toBe(1)
    expect(cc.alerts.map((a) => a.event)).toEqual(['degraded'])
    expect(JSON.stringify(cc.alerts[0])).not.toMatch(/refresh-|eyJ/)
    // Backoff: the next request does not hammer the token endpoint.
    await relay().accessToken()
    expect(cc.refreshCalls()).toHaveLength(3)
    await sleep(2100) // past the first backoff (1-2 s)
    await cron()
    s = await status()
    expect(s.state).toBe('connected')
    expect(cc.alerts.map((a) => a.event)).toEqual(['degraded', 'recovered'])
    expectSpacedAtLeastOneSecond()
  })

  it('invalid_grant → needs_reauth and one alert, however many requests; reconnect → recovered', async () => {
    await connectAndWaitUntilDue()
    cc.script = ['invalid_grant']
    const results = await Promise.all(Array.from({ length: 10 }, () => relay().accessToken()))
    expect(results.every((r) => !r.ok && r.code === 'needs_reauth')).toBe(true)
    expect(cc.refreshCalls()).toHaveLength(1)
    const s = await status()
    expect(s.state).toBe('needs_reauth')
    expect((s.last_error as { code: string }).code).toBe('refresh_token_revoked')
    expect(s.connected).toBe(false)
    expect(cc.alerts).toHaveLength(1)
    expect(cc.alerts[0]).toMatchObject({ event: 'needs_reauth', state: 'needs_reauth' })
    expect(String(cc.alerts[0].text)).toContain('reconnect')
    // Parked: no further token calls while needs_reauth.
    await relay().accessToken()
    await cron()
    expect(cc.refreshCalls()).toHaveLength(1)
    // Reconnecting replaces the token set and clears needs_reauth.
    expect((await connect()).status).toBe(303)
    expect((await status()).state).toBe('connected')
    expect(cc.alerts.map((a) => a.event)).toEqual(['needs_reauth', 'recovered'])
  })
})

describe('cron', () => {
  it('refreshes an idle token inside its margin', async () => {
    await connectAndWaitUntilDue()
    await cron()
    expect(cc.refreshCalls()).toHaveLength(1)
    const s = await status()
    expect(s.state).toBe('connected')
    expect(Date.parse(String(s.last_refresh_at))).toBeGreaterThan(Date.now() - 5000)
  })

  it('leaves a fresh token alone', async () => {
    cc.ttlSeconds = 3600
    await connect()
    cc.tokenCalls = []
    await cron()
    expect(cc.tokenCalls).toHaveLength(0)
  })

  it('is a watchdog: alerts once when the token expired without a successful refresh', async () => {
    await connectAndWaitUntilDue(4)
    cc.script = ['error500', 'error500', 'error500']
    await cron()
    await sleep(1500) // token now expired; backoff over
    cc.script = ['error500', 'error500', 'error500']
    await cron()
    expect(cc.alerts.map((a) => a.event)).toEqual(['degraded', 'stale_refresh'])
    expect((await relay().accessToken()).ok).toBe(false)
  })
})
