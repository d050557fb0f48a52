/**
 * The sign-in throttle: after ten failed attempts with ADMIN_TOKEN from one client network within
 * 15 minutes (the sign-in form, or a wrong Bearer on any owner route), that network gets
 * 429 `rate_limited` with Retry-After, whatever it sends. Other networks are unaffected. The
 * counts live in the Durable Object's SQLite, so every isolate sees them and a restart forgives
 * nothing; the table is bounded.
 */
import {
  createExecutionContext,
  evictDurableObject,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { SIGN_IN_CLIENTS, SIGN_IN_WINDOW_MS } from '../../src/core/owner/sign-in-rules.ts'
import worker from '../../src/worker.ts'
import { clock } from '../support/edge.ts'
import { ADMIN_TOKEN, call, cookieFrom, ORIGIN, OWNER, relay } from '../support/helpers.ts'
// The local entry (npm start's): its sandbox pages are owner pages too, checked here with the rest.
import '../../src/worker-sandbox.ts'

const WRONG = { authorization: `Bearer ${ADMIN_TOKEN}x` }

function login(ip: string, token: string, accept = 'text/html') {
  return call('/admin/login', {
    method: 'POST',
    headers: {
      origin: ORIGIN,
      accept,
      'content-type': 'application/x-www-form-urlencoded',
      'cf-connecting-ip': ip,
    },
    body: new URLSearchParams({ token }),
  })
}

/** Every owner route that accepts a Bearer token, with a request a script could send. */
const BEARER_ROUTES: [method: string, path: string][] = [
  ['GET', '/admin'],
  ['GET', '/admin/status'],
  ['POST', '/admin/forms/newsletter/test'],
  ['POST', '/admin/dead-letters/all/retry'],
  ['POST', '/admin/dead-letters/1/delete'],
  ['POST', '/admin/disconnect'],
  ['GET', '/oauth/authorize'],
  ['GET', '/__sandbox'],
  ['POST', '/__sandbox/lists/9e2f7d10-1111-4c3b-8e42-000000000001/delete'],
]

function bearer(method: string, path: string, ip: string, headers: Record<string, string>) {
  const init: RequestInit = { method, headers: { ...headers, 'cf-connecting-ip': ip } }
  if (method === 'POST') {
    init.headers = {
      ...init.headers,
      origin: ORIGIN,
      'content-type': 'application/x-www-form-urlencoded',
    }
    init.body = 'email=throttle@example.com'
  }
  return call(path, init)
}

describe('sign-in throttling', () => {
  it('ten wrong tokens get 401; then 429 with Retry-After, even for the right token', async () => {
    const ip = '192.0.2.10'
    for (let i = 0; i < 10; i++) {
      const res = await login(ip, `wrong-token-${i}`)
      expect(res.status).toBe(401)
      expect(res.headers.get('set-cookie')).toBeNull()
    }
    const locked = await login(ip, ADMIN_TOKEN)
    expect(locked.status).toBe(429)
    expect(locked.headers.get('retry-after')).toBe(String(SIGN_IN_WINDOW_MS / 1000))
    expect(locked.headers.get('set-cookie')).toBeNull()
    const page = await locked.text()
    expect(page).toContain('Too many sign-in attempts')
    expect(page).toContain('Try again in 15 minute(s)')
    // A script gets the same as JSON.
    const json = await login(ip, ADMIN_TOKEN, 'application/json')
    expect(json.status).toBe(429)
    expect(await json.json()).toMatchObject({ ok: false, error: 'rate_limited' })
  })

  it('locks the whole IPv6 /64, and only it; other clients are unaffected', async () => {
    for (let i = 0; i < 10; i++)
      expect((await login(`2001:db8:1:2::${i}`, 'nope')).status).toBe(401)
    expect((await login('2001:db8:1:2:ffff::1', ADMIN_TOKEN)).status).toBe(429) // same /64
    expect((await login('2001:db8:1:3::1', ADMIN_TOKEN)).status).toBe(303) // the next /64
    expect((await login('192.0.2.11', ADMIN_TOKEN)).status).toBe(303)
    expect((await call('/admin/status', { headers: OWNER })).status).toBe(200)
  })

  it('wrong Bearer tokens count on every owner route that accepts one', async () => {
    const ip = '192.0.2.20'
    // Ten wrong tokens spread over the routes: if one route did not count, the 11th would pass.
    for (let i = 0; i < 10; i++) {
      const [method, path] = BEARER_ROUTES[i % BEARER_ROUTES.length]
      const res = await bearer(method, path, ip, WRONG)
      expect(res.status, `${method} ${path}`).not.toBe(429)
    }
    for (const [method, path] of BEARER_ROUTES) {
      const res = await bearer(method, path, ip, OWNER)
      expect(res.status, `${method} ${path}`).toBe(429)
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
    }
    expect((await login(ip, ADMIN_TOKEN)).status).toBe(429)
    expect((await bearer('GET', '/admin/status', '192.0.2.21', OWNER)).status).toBe(200)
  })

  it('a live session keeps working from a locked-out network (a cookie is not a guess)', async () => {
    const ip = '192.0.2.30'
    const cookie = cookieFrom(await login(ip, ADMIN_TOKEN), '__Host-ctct_relay_session')
    for (let i = 0; i < 10; i++) await login(ip, 'nope')
    expect((await login(ip, ADMIN_TOKEN)).status).toBe(429)
    const status = await call('/admin/status', { headers: { cookie, 'cf-connecting-ip': ip } })
    expect(status.status).toBe(200)
    // Forged cookies are refused without counting: they cannot be guessed either.
    for (let i = 0; i < 12; i++) {
      const forged = await call('/admin/status', {
        headers: { cookie: '__Host-ctct_relay_session=forged', 'cf-connecting-ip': '192.0.2.31' },
      })
      expect(forged.status).toBe(401)
    }
    expect((await login('192.0.2.31', ADMIN_TOKEN)).status).toBe(303)
  })

  it('the lockout lifts once the failures are 15 minutes old', async () => {
    const ip = '192.0.2.40'
    for (let i = 0; i < 10; i++) await login(ip, 'nope')
    expect((await login(ip, ADMIN_TOKEN)).status).toBe(429)
    clock.advance(SIGN_IN_WINDOW_MS - 1000)
    expect((await login(ip, ADMIN_TOKEN)).status).toBe(429)
    clock.advance(1000)
    expect((await login(ip, ADMIN_TOKEN)).status).toBe(303)
  })

  it('holds across isolates and restarts: the counts are in the Durable Object', async () => {
    const ip = '192.0.2.50'
    for (let i = 0; i < 10; i++) await login(ip, 'nope')
    // Another isolate: a new app (the worker keeps one per env object), the same Relay object.
    const elsewhere = async () => {
      const ctx = createExecutionContext()
      const request = new Request(`${ORIGIN}/admin/status`, {
        headers: { ...OWNER, 'cf-connecting-ip': ip },
      }) as Request<unknown, IncomingRequestCfProperties>
      const res = await worker.fetch(request, { ...env } as Env, ctx)
      await waitOnExecutionContext(ctx)
      return res.status
    }
    expect(await elsewhere()).toBe(429)
    await evictDurableObject(relay())
    expect(await elsewhere()).toBe(429)
    expect((await login(ip, ADMIN_TOKEN)).status).toBe(429)
  })

  it('keeps at most SIGN_IN_CLIENTS networks, forgetting the stalest, and none past the window', async () => {
    const now = clock.now()
    const count = () =>
      runInDurableObject(relay(), (_instance, state) => {
        const sql = state.storage.sql
        const rows = sql.exec<{ n: number }>('SELECT COUNT(*) AS n FROM signin_failures').one().n
        const stalest = sql.exec<{ client: string }>(
          'SELECT client FROM signin_failures ORDER BY last_at LIMIT 1'
        )
        return { rows, stalest: stalest.toArray()[0]?.client }
      })
    await runInDurableObject(relay(), (_instance, state) => {
      const sql = state.storage.sql
      sql.exec('DELETE FROM signin_failures')
      // One long past the window, and a full table of recent ones (oldest first).
      sql.exec(
        'INSERT INTO signin_failures (client, failures, last_at) VALUES (?, ?, ?)',
        'expired',
        JSON.stringify([now - SIGN_IN_WINDOW_MS]),
        now - SIGN_IN_WINDOW_MS
      )
      for (let i = 0; i < SIGN_IN_CLIENTS; i++) {
        sql.exec(
          'INSERT INTO signin_failures (client, failures, last_at) VALUES (?, ?, ?)',
          `client-${i}`,
          JSON.stringify([now - 60_000 + i]),
          now - 60_000 + i
        )
      }
    })
    expect(await count()).toEqual({ rows: SIGN_IN_CLIENTS + 1, stalest: 'expired' })
    expect((await login('192.0.2.60', 'nope')).status).toBe(401)
    // The expired one is purged; the new one pushes out the stalest recent one, and only it.
    expect(await count()).toEqual({ rows: SIGN_IN_CLIENTS, stalest: 'client-1' })
  })
})
