/**
 * A connection that never dies, on Deno: serialised, rotation-safe refresh when several
 * instances share one KV (here two KV handles on one file, as two processes would have).
 * Mirrors test/refresh.test.ts. Every case counts the calls that reached the token endpoint;
 * the clock is moved to make tokens due, so nothing waits for real expiry.
 */
import assert from 'node:assert/strict'
import { KvTokenRepo } from '../src/deno/kv-store.ts'
import {
  type Clock,
  connect,
  type FakeCc,
  type Instance,
  makeDue,
  status,
  submit,
  withTwoInstances,
} from './helpers.ts'

interface Pair {
  a: Instance
  b: Instance
  cc: FakeCc
  clock: Clock
  kvA: Deno.Kv
}

/** Two instances over one KV file, connected through the first. */
function twoInstances(t: (pair: Pair) => unknown) {
  return withTwoInstances(async (pair) => {
    pair.cc.ttlSeconds = 3600
    assert.equal((await connect(pair.a)).status, 303)
    pair.cc.tokenCalls = []
    await t(pair)
  })
}

Deno.test('refresh: 50 concurrent requests at expiry on two instances make ONE token call', () =>
  twoInstances(async ({ a, b, cc, clock }) => {
    await makeDue(a, clock)
    const before = cc.validRefresh.size
    cc.delayMs = 200 // widen the window in which the others arrive
    const tokenRequests = Array.from({ length: 40 }, (_, i) =>
      (i % 2 ? a : b).relay.service.accessToken()
    )
    const signups = Array.from({ length: 10 }, (_, i) =>
      submit(i % 2 ? a : b, `coalesce${i}@example.com`, `192.0.2.${100 + i}`)
    )
    const [results, answers] = await Promise.all([Promise.all(tokenRequests), Promise.all(signups)])
    assert.equal(cc.refreshCalls().length, 1)
    assert.equal(cc.tokenCalls.length, 1)
    assert.ok(results.every((r) => r.ok))
    const tokens = new Set(results.map((r) => r.ok && r.value.token))
    assert.equal(tokens.size, 1)
    // The sign-ups were sent with that same new token (delivered or queued, never refused).
    assert.ok(answers.every((r) => r.status === 200 || r.status === 202))
    const sentWith = new Set(cc.signupCalls.map((c) => c.authorization))
    assert.deepEqual([...sentWith], [`Bearer ${[...tokens][0]}`])
    assert.equal(cc.validRefresh.size, before) // one rotated out, one issued
    assert.equal((await status(b)).state, 'connected')
  }))

Deno.test('refresh: a rotated refresh token is never sent again, whichever instance refreshes', () =>
  twoInstances(async ({ a, b, cc, clock }) => {
    const originalRefresh = [...cc.validRefresh].at(-1)
    await makeDue(a, clock)
    assert.ok((await a.relay.service.accessToken()).ok)
    const rotated = [...cc.validRefresh].at(-1)
    await makeDue(b, clock)
    assert.ok((await b.relay.service.accessToken()).ok)
    await makeDue(a, clock)
    assert.ok((await a.relay.service.accessToken()).ok)
    const sent = cc.refreshCalls().map((c) => c.form.get('refresh_token'))
    assert.equal(sent.length, 3)
    assert.equal(new Set(sent).size, 3)
    assert.equal(sent[0], originalRefresh)
    assert.equal(sent[1], rotated) // B used the pair A stored, not a stale copy
    assert.equal((await status(a)).state, 'connected')
    assert.equal((await status(b)).state, 'connected')
  }))

Deno.test('refresh: a 401 on both instances at once refreshes once; both get the new token', () =>
  twoInstances(async ({ a, b, cc }) => {
    const first = await a.relay.service.accessToken()
    assert.ok(first.ok)
    cc.delayMs = 200
    const [x, y] = await Promise.all([
      a.relay.service.accessToken({ rejected: first.value.token }),
      b.relay.service.accessToken({ rejected: first.value.token }),
    ])
    assert.deepEqual(x, y)
    assert.ok(x.ok && x.value.token !== first.value.token)
    assert.equal(cc.refreshCalls().length, 1)
    // A caller that reports an already-replaced token gets the current one, with no new call.
    assert.deepEqual(await b.relay.service.accessToken({ rejected: first.value.token }), x)
    assert.equal(cc.refreshCalls().length, 1)
  }))

Deno.test('refresh: invalid_grant on one instance is the answer on the other, one call', () =>
  twoInstances(async ({ a, b, cc, clock }) => {
    await makeDue(a, clock)
    cc.script = ['invalid_grant']
    cc.delayMs = 200
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).relay.service.accessToken())
    )
    assert.ok(results.every((r) => !r.ok && r.code === 'needs_reauth'))
    assert.equal(cc.refreshCalls().length, 1)
    const s = await status(b)
    assert.equal(s.state, 'needs_reauth')
    assert.equal((s.last_error as { code: string }).code, 'refresh_token_revoked')
    assert.deepEqual(
      cc.alerts.map((x) => x.event),
      ['needs_reauth']
    )
    // Parked: no further token calls while needs_reauth, from either instance or the cron.
    await a.relay.service.accessToken()
    await b.relay.tick()
    assert.equal(cc.refreshCalls().length, 1)
  }))

Deno.test('refresh: a crashed holder’s lease lapses, then exactly one instance refreshes', () =>
  twoInstances(async ({ a, b, cc, clock, kvA }) => {
    await makeDue(a, clock)
    // A third instance took the lease and died: it will never release it.
    const crashed = new KvTokenRepo(kvA)
    assert.ok(await crashed.acquireRefreshLease('crashed-instance', clock.now(), 300))
    const started = Date.now()
    const results = await Promise.all([
      a.relay.service.accessToken(),
      b.relay.service.accessToken(),
    ])
    assert.ok(results.every((r) => r.ok))
    assert.equal(cc.refreshCalls().length, 1)
    // Nobody called around the lease: the call came only after it lapsed.
    assert.ok(cc.refreshCalls()[0].at - clock.skew >= started + 250)
  }))

Deno.test('refresh: the cron on two instances refreshes an idle due token once', () =>
  twoInstances(async ({ a, b, cc, clock }) => {
    await makeDue(a, clock)
    cc.delayMs = 200
    await Promise.all([a.relay.tick(), b.relay.tick()])
    assert.equal(cc.refreshCalls().length, 1)
    const s = await status(a)
    assert.equal(s.state, 'connected')
    assert.ok(Date.parse(String(s.last_refresh_at)) > clock.now() - 5000)
  }))
