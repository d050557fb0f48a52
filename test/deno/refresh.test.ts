/**
 * A connection that never dies, on Deno: serialised, rotation-safe refresh when several
 * instances share one KV (here two KV handles on one file, as two processes would have).
 * Mirrors test/workers/refresh.test.ts. Every case counts the calls that reached the token
 * endpoint; the clock is moved to make tokens due, so nothing waits for real expiry.
 */
import assert from 'node:assert/strict'
import { KvTokenRepo } from '../../src/adapters/deno/kv/token-repo.ts'
import {
  connect,
  type Instance,
  makeDue,
  type Network,
  status,
  submit,
  withTwoInstances,
} from '../support/deno-relay.ts'

type Pair = Network & { a: Instance; b: Instance; kvA: Deno.Kv }

/** Two instances over one KV file, connected through the first. */
function twoInstances(t: (pair: Pair) => unknown) {
  return withTwoInstances(async (pair) => {
    assert.equal((await connect(pair.a, pair.net)).status, 303)
    pair.net.reset()
    await t(pair)
  })
}

Deno.test('refresh: 50 concurrent requests at expiry on two instances make ONE token call', () =>
  twoInstances(async ({ a, b, cc, net, clock }) => {
    await makeDue(a, clock)
    cc.latency.answer = 200 // widen the window in which the others arrive
    const tokenRequests = Array.from({ length: 40 }, (_, i) =>
      (i % 2 ? a : b).relay.service.accessToken()
    )
    const signups = Array.from({ length: 10 }, (_, i) =>
      submit(i % 2 ? a : b, `coalesce${i}@example.com`, `192.0.2.${100 + i}`)
    )
    const [results, answers] = await Promise.all([Promise.all(tokenRequests), Promise.all(signups)])
    assert.equal(net.refreshCalls().length, 1)
    assert.equal(cc.tokenCalls.length, 1)
    assert.ok(results.every((r) => r.ok))
    const tokens = new Set(results.map((r) => r.ok && r.value.token))
    assert.equal(tokens.size, 1)
    // Delivered or queued, never refused, and never held for the refresh (no valid token: they
    // are queued); whatever reached CC carried that same new token.
    assert.ok(answers.every((r) => r.status === 200 || r.status === 202))
    for (const call of cc.signupCalls) assert.equal(call.authorization, `Bearer ${[...tokens][0]}`)
    assert.equal(
      cc.refreshTokenState(net.refreshCalls()[0].form.get('refresh_token') ?? ''),
      'rotated'
    )
    assert.equal((await status(b)).state, 'connected')
  }))

Deno.test('refresh: a rotated refresh token is never sent again, whichever instance refreshes', () =>
  twoInstances(async ({ a, b, net, clock }) => {
    await makeDue(a, clock)
    assert.ok((await a.relay.service.accessToken()).ok)
    await makeDue(b, clock)
    assert.ok((await b.relay.service.accessToken()).ok)
    await makeDue(a, clock)
    assert.ok((await a.relay.service.accessToken()).ok)
    const sent = net.refreshCalls().map((c) => c.form.get('refresh_token'))
    assert.equal(sent.length, 3)
    assert.equal(new Set(sent).size, 3)
    // B used the pair A stored, not a stale copy: every refresh succeeded, none was refused.
    assert.deepEqual(
      net.refreshCalls().map((c) => c.status),
      [200, 200, 200]
    )
    assert.equal((await status(a)).state, 'connected')
    assert.equal((await status(b)).state, 'connected')
  }))

Deno.test('refresh: a 401 on both instances at once refreshes once; both get the new token', () =>
  twoInstances(async ({ a, b, cc, net }) => {
    const first = await a.relay.service.accessToken()
    assert.ok(first.ok)
    cc.latency.answer = 200
    const [x, y] = await Promise.all([
      a.relay.service.accessToken({ rejected: first.value.token }),
      b.relay.service.accessToken({ rejected: first.value.token }),
    ])
    assert.deepEqual(x, y)
    assert.ok(x.ok && x.value.token !== first.value.token)
    assert.equal(net.refreshCalls().length, 1)
    // A caller that reports an already-replaced token gets the current one, with no new call.
    assert.deepEqual(await b.relay.service.accessToken({ rejected: first.value.token }), x)
    assert.equal(net.refreshCalls().length, 1)
  }))

Deno.test('refresh: invalid_grant on one instance is the answer on the other, one call', () =>
  twoInstances(async ({ a, b, cc, net, clock }) => {
    await makeDue(a, clock)
    cc.tokenFaults = ['invalid_grant']
    cc.latency.answer = 200
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).relay.service.accessToken())
    )
    assert.ok(results.every((r) => !r.ok && r.code === 'needs_reauth'))
    assert.equal(net.refreshCalls().length, 1)
    const s = await status(b)
    assert.equal(s.state, 'needs_reauth')
    assert.equal((s.last_error as { code: string }).code, 'refresh_token_revoked')
    assert.deepEqual(net.alertEvents(), ['needs_reauth'])
    // Parked: no further token calls while needs_reauth, from either instance or the cron.
    await a.relay.service.accessToken()
    await b.relay.tick()
    assert.equal(net.refreshCalls().length, 1)
  }))

Deno.test('refresh: a crashed holder’s lease lapses, then exactly one instance refreshes', () =>
  twoInstances(async ({ a, b, net, clock, kvA }) => {
    await makeDue(a, clock)
    // A third instance took the lease and died: it will never release it.
    const crashed = new KvTokenRepo(kvA)
    const started = clock.now()
    assert.ok(await crashed.acquireRefreshLease('crashed-instance', started, 300))
    const results = await Promise.all([
      a.relay.service.accessToken(),
      b.relay.service.accessToken(),
    ])
    assert.ok(results.every((r) => r.ok))
    assert.equal(net.refreshCalls().length, 1)
    // Nobody called around the lease: the call came only after it lapsed.
    assert.ok(net.refreshCalls()[0].at >= started + 300)
  }))

Deno.test('refresh: the cron on two instances refreshes an idle due token once', () =>
  twoInstances(async ({ a, b, cc, net, clock }) => {
    await makeDue(a, clock)
    cc.latency.answer = 200
    await Promise.all([a.relay.tick(), b.relay.tick()])
    assert.equal(net.refreshCalls().length, 1)
    const s = await status(a)
    assert.equal(s.state, 'connected')
    assert.ok(Date.parse(String(s.last_refresh_at)) >= net.refreshCalls()[0].at)
  }))
