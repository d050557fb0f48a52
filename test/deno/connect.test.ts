/**
 * The one-time owner authorization on Deno (PKCE: no CC_CLIENT_SECRET), mirroring
 * test/workers/oauth-connect.test.ts. Every case asserts what reached, or did not reach, the token
 * endpoint, and the state's single use holds across two instances sharing one KV.
 */
import assert from 'node:assert/strict'
import {
  CLIENT_ID,
  CONNECT_COOKIE,
  callback,
  connect,
  cookieFrom,
  OWNER,
  startConnect,
  status,
  withInstance,
  withTwoInstances,
} from '../support/deno-relay.ts'
import { s256 } from '../support/s256.ts'

Deno.test('connect: the verifier sent matches the challenge, then 303 /admin', async () => {
  await withInstance(async ({ relay, cc, net }) => {
    const authorize = await startConnect(relay)
    assert.equal(
      authorize.origin + authorize.pathname,
      'https://authz.cc.test/oauth2/default/v1/authorize'
    )
    assert.equal(authorize.searchParams.get('client_id'), CLIENT_ID)
    assert.equal(authorize.searchParams.get('redirect_uri'), 'https://relay.test/oauth/callback')
    assert.equal(authorize.searchParams.get('code_challenge_method'), 'S256')
    const state = authorize.searchParams.get('state') ?? ''
    assert.match(state, /^[\w-]{43}$/)

    const back = await net.consent(authorize)
    const res = await callback(relay, back)
    assert.equal(res.status, 303)
    assert.equal(res.headers.get('location'), '/admin?notice=connected')
    assert.equal(cc.tokenCalls.length, 1)
    const [exchange] = cc.tokenCalls
    assert.equal(exchange.grant, 'authorization_code')
    assert.equal(exchange.authorization, null)
    assert.equal(exchange.form.get('client_id'), CLIENT_ID)
    assert.equal(exchange.form.get('redirect_uri'), 'https://relay.test/oauth/callback')
    assert.equal(exchange.form.get('code'), back.searchParams.get('code'))
    assert.equal(exchange.status, 200)
    const verifier = exchange.form.get('code_verifier') ?? ''
    assert.match(verifier, /^[\w-]{43,128}$/)
    assert.equal(await s256(verifier), authorize.searchParams.get('code_challenge'))

    const s = await status(relay)
    assert.equal(s.state, 'connected')
    assert.deepEqual(s.account, {
      sub: 'sandbox-owner',
      summary: {
        organization_name: 'Sandbox Bakery',
        encoded_account_id: 'sandbox-1',
        time_zone_id: 'America/New_York',
      },
    })
    assert.deepEqual(await (await relay.call('/healthz')).json(), { ok: true, connected: true })
  })
})

Deno.test('connect: a replayed state is rejected, on any instance, with no token call', async () => {
  await withTwoInstances(async ({ a, b, cc, net }) => {
    const started = await a.call('/oauth/authorize', { headers: OWNER })
    const cookie = cookieFrom(started, CONNECT_COOKIE) // even a copy of the right cookie
    const back = await net.consent(started.headers.get('location') ?? '')
    assert.equal((await callback(a, back, cookie)).status, 303)
    assert.equal(cc.tokenCalls.length, 1)
    for (const replayer of [a, b]) {
      const replay = await callback(replayer, back, cookie)
      assert.equal(replay.status, 400)
      assert.match(await replay.text(), /already used/)
    }
    const forged = await callback(b, '/oauth/callback?code=good-code&state=forged-state-value')
    assert.equal(forged.status, 400)
    assert.match(await forged.text(), /not started in this browser/)
    assert.equal(cc.tokenCalls.length, 1)
  })
})

Deno.test('connect: two callbacks racing with one state on two instances: one wins', async () => {
  await withTwoInstances(async ({ a, b, cc, net }) => {
    const back = await net.consent(await startConnect(a))
    const answers = await Promise.all([a, b, a, b].map((i) => callback(i, back)))
    assert.deepEqual(answers.map((r) => r.status).sort(), [303, 400, 400, 400])
    assert.equal(cc.tokenCalls.length, 1)
  })
})

Deno.test('connect: the client that starts a Connect must finish it (state_mismatch)', async () => {
  await withTwoInstances(async ({ a, b, cc, net }) => {
    const other = cookieFrom(await a.call('/oauth/authorize', { headers: OWNER }), CONNECT_COOKIE)
    const started = await a.call('/oauth/authorize', { headers: OWNER }) // Bearer-started
    const back = await net.consent(started.headers.get('location') ?? '')
    for (const [i, cookie] of [
      [a, ''],
      [b, other],
    ] as const) {
      const res = await callback(i, back, cookie)
      assert.equal(res.status, 400)
      assert.match(await res.text(), /not started in this browser/)
    }
    assert.equal(cc.tokenCalls.length, 0)
    // With its own cookie, on either instance, it finishes.
    assert.equal((await callback(b, back, cookieFrom(started, CONNECT_COOKIE))).status, 303)
    assert.equal(cc.tokenCalls.length, 1)
  })
})

Deno.test('connect: error=access_denied is reported plainly and burns the state', async () => {
  await withInstance(async ({ relay, cc }) => {
    const started = await relay.call('/oauth/authorize', { headers: OWNER })
    const cookie = cookieFrom(started, CONNECT_COOKIE)
    const state = new URL(started.headers.get('location') ?? '').searchParams.get('state')
    const denied = await callback(
      relay,
      `/oauth/callback?error=access_denied&error_description=${encodeURIComponent('<b>No</b>')}&state=${state}`,
      cookie
    )
    assert.equal(denied.status, 400)
    const page = await denied.text()
    assert.match(page, /access was denied/)
    assert.match(page, /&lt;b&gt;No&lt;\/b&gt;/) // CC's error_description, escaped
    const reuse = await callback(relay, `/oauth/callback?code=good-code&state=${state}`, cookie)
    assert.equal(reuse.status, 400)
    assert.equal(cc.tokenCalls.length, 0)
  })
})

Deno.test('connect: /healthz and /admin/status never show a secret', async () => {
  await withInstance(async ({ relay, net }) => {
    assert.equal((await connect(relay, net)).status, 303)
    const body = JSON.stringify(await status(relay)) + (await (await relay.call('/healthz')).text())
    assert.doesNotMatch(body, /eyJ/) // neither the access nor the refresh token (both JWTs here)
    assert.ok(!body.includes('test-admin-token'))
  })
})
