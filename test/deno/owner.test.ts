/**
 * The owner's surface on Deno, where several instances share one KV (as on Deno Deploy): the
 * sign-in throttle counts failures from every instance, exactly, even when they race; sign-out on
 * one instance refuses the copied cookie on all; owner bodies are bounded; pages carry their
 * security headers. Mirrors test/workers/owner-throttle.test.ts, owner-auth.test.ts,
 * owner-body.test.ts.
 */
import assert from 'node:assert/strict'
import { REFRESH_LEASE_MS } from '../../src/adapters/deno/relay.ts'
import { SLOWEST_REFRESH_MS } from '../../src/core/connection/connection.ts'
import {
  ADMIN_TOKEN,
  cookieFrom,
  type Instance,
  ORIGIN,
  withTwoInstances,
} from '../support/deno-relay.ts'

const SESSION = '__Host-ctct_relay_session'

function login(i: Instance, token: string, ip: string, body = new URLSearchParams({ token })) {
  return i.call(
    '/admin/login',
    {
      method: 'POST',
      headers: {
        origin: ORIGIN,
        accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body,
    },
    ip
  )
}

Deno.test('owner: failed sign-ins count across instances; then 429, for the right token too', () =>
  withTwoInstances(async ({ a, b }) => {
    const ip = '192.0.2.10'
    for (let n = 0; n < 5; n++) {
      assert.equal((await login(a, 'wrong', ip)).status, 401)
      // A wrong Bearer on b counts as a failed sign-in too.
      const res = await b.call('/admin/status', { headers: { authorization: 'Bearer nope' } }, ip)
      assert.equal(res.status, 401)
    }
    for (const i of [a, b]) {
      const locked = await login(i, ADMIN_TOKEN, ip)
      assert.equal(locked.status, 429)
      assert.equal(locked.headers.get('retry-after'), '900')
      assert.equal(((await locked.json()) as { error: string }).error, 'rate_limited')
    }
    // Another client network is unaffected; the same IPv6 /64 is one client.
    assert.equal((await login(b, ADMIN_TOKEN, '192.0.2.11')).status, 303)
    for (let n = 0; n < 10; n++) await login(a, 'wrong', `2001:db8:5:6::${n}`)
    assert.equal((await login(b, ADMIN_TOKEN, '2001:db8:5:6:ffff::1')).status, 429)
    assert.equal((await login(b, ADMIN_TOKEN, '2001:db8:5:7::1')).status, 303)
  }))

Deno.test('owner: twenty racing guesses on two instances: exactly ten are counted', () =>
  withTwoInstances(async ({ a, b }) => {
    const ip = '192.0.2.20'
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, n) => login(n % 2 ? a : b, `wrong-${n}`, ip))
    )
    const statuses = answers.map((r) => r.status).sort()
    assert.deepEqual(statuses, [...Array(10).fill(401), ...Array(10).fill(429)])
  }))

Deno.test('owner: sign-out on one instance refuses the copied cookie on every instance', () =>
  withTwoInstances(async ({ a, b }) => {
    const signedIn = await login(a, ADMIN_TOKEN, '192.0.2.30')
    assert.equal(signedIn.status, 303)
    const cookie = cookieFrom(signedIn, SESSION)
    assert.match(cookie, /^__Host-ctct_relay_session=/)
    assert.equal((await b.call('/admin/status', { headers: { cookie } })).status, 200)
    const out = await a.call('/admin/logout', {
      method: 'POST',
      headers: { origin: ORIGIN, cookie, 'content-type': 'application/x-www-form-urlencoded' },
    })
    assert.equal(out.status, 303)
    for (const i of [a, b]) {
      assert.equal((await i.call('/admin/status', { headers: { cookie } })).status, 401)
    }
  }))

Deno.test('owner: a POST body over 16 KiB is 413, before it is parsed', () =>
  withTwoInstances(async ({ a }) => {
    const body = new URLSearchParams({ token: ADMIN_TOKEN, pad: 'x'.repeat(16 * 1024) })
    const res = await login(a, ADMIN_TOKEN, '192.0.2.40', body)
    assert.equal(res.status, 413)
    assert.equal(((await res.json()) as { error: string }).error, 'payload_too_large')
    assert.equal(res.headers.get('set-cookie'), null)
  }))

Deno.test('owner: pages carry the CSP, nosniff and no-store; visitors’ pages too', () =>
  withTwoInstances(async ({ a }) => {
    for (const [path, ownerPath] of [
      ['/admin', true],
      ['/subscribe/newsletter/thanks', false],
    ] as const) {
      const res = await a.call(path)
      assert.equal(res.status, 200)
      assert.match(res.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/)
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff')
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer')
      assert.equal(res.headers.get('cache-control') === 'no-store', ownerPath)
    }
  }))

Deno.test('refresh lease: outlives the slowest refresh (three attempts that time out)', () => {
  assert.ok(REFRESH_LEASE_MS > SLOWEST_REFRESH_MS)
  assert.ok(SLOWEST_REFRESH_MS >= 3 * 30_000)
})
