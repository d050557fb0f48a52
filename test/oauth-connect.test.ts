/**
 * The one-time owner authorization (PKCE flavour: this project has no CC_CLIENT_SECRET).
 * Every case asserts what reached, or did not reach, the fake token endpoint.
 */
import { describe, expect, it } from 'vitest'
import { cc, net } from './edge.ts'
import { ADMIN_TOKEN, call, connect, OWNER, relay, startConnect, status } from './helpers.ts'

async function pkceChallenge(verifier: string) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))
  return btoa(String.fromCharCode(...new Uint8Array(digest)))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '')
}

describe('GET /oauth/authorize', () => {
  it('redirects the owner to CC with state, scopes and an S256 PKCE challenge', async () => {
    const url = await startConnect()
    expect(url.origin + url.pathname).toBe('https://authz.cc.test/oauth2/default/v1/authorize')
    expect(url.searchParams.get('client_id')).toBe('0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10')
    expect(url.searchParams.get('redirect_uri')).toBe('https://relay.test/oauth/callback')
    expect(url.searchParams.get('response_type')).toBe('code')
    expect(url.searchParams.get('scope')).toBe('account_read contact_data offline_access')
    expect(url.search).toContain('scope=account_read+contact_data+offline_access')
    expect(url.searchParams.get('state')).toMatch(/^[\w-]{43}$/)
    expect(url.searchParams.get('code_challenge_method')).toBe('S256')
    expect(url.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/)
  })

  it('issues a fresh state every time', async () => {
    const a = (await startConnect()).searchParams.get('state')
    const b = (await startConnect()).searchParams.get('state')
    expect(a).not.toBe(b)
  })

  it('refuses anyone but the owner, without redirecting', async () => {
    for (const headers of [{}, { authorization: 'Bearer wrong-token-0123456789' }] as Record<
      string,
      string
    >[]) {
      const res = await call('/oauth/authorize', { headers })
      expect(res.status).toBe(401)
      expect(res.headers.get('location')).toBeNull()
    }
  })
})

describe('GET /oauth/callback (PKCE)', () => {
  it('exchanges the code with client_id and a verifier matching the challenge, then 303 /admin', async () => {
    const authorize = await startConnect()
    const back = await net.consent(authorize)
    const code = back.searchParams.get('code')
    expect(back.searchParams.get('state')).toBe(authorize.searchParams.get('state'))
    const res = await call(back.pathname + back.search)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/admin?notice=connected')
    expect(cc.tokenCalls).toHaveLength(1)
    const [exchange] = cc.tokenCalls
    expect(exchange.grant).toBe('authorization_code')
    expect(exchange.authorization).toBeNull()
    expect(exchange.form.get('client_id')).toBe('0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10')
    expect(exchange.form.get('code')).toBe(code)
    expect(exchange.status).toBe(200)
    expect(exchange.form.get('redirect_uri')).toBe('https://relay.test/oauth/callback')
    const verifier = exchange.form.get('code_verifier') ?? ''
    expect(verifier).toMatch(/^[\w-]{43,128}$/)
    expect(await pkceChallenge(verifier)).toBe(authorize.searchParams.get('code_challenge'))

    const s = await status()
    expect(s.state).toBe('connected')
    expect(s.account).toEqual({
      sub: 'sandbox-owner',
      summary: { organization_name: 'Sandbox Bakery', encoded_account_id: 'sandbox-1' },
    })
    const health = await (await call('/healthz')).json()
    expect(health).toEqual({ ok: true, connected: true })
  })

  it('rejects a replayed state without calling the token endpoint', async () => {
    const back = await net.consent(await startConnect())
    expect((await call(back.pathname + back.search)).status).toBe(303)
    expect(cc.tokenCalls).toHaveLength(1)
    const replay = await call(back.pathname + back.search)
    expect(replay.status).toBe(400)
    expect(await replay.text()).toContain('already used')
    expect(cc.tokenCalls).toHaveLength(1)
  })

  it('rejects a forged or missing state without calling the token endpoint', async () => {
    const forged = await call('/oauth/callback?code=good-code&state=forged-state-value')
    expect(forged.status).toBe(400)
    expect(await forged.text()).toContain('not issued by this relay')
    const missing = await call('/oauth/callback?code=good-code')
    expect(missing.status).toBe(400)
    expect(await missing.text()).toContain('no state')
    expect(cc.tokenCalls).toHaveLength(0)
  })

  it('reports error=access_denied plainly and burns the state', async () => {
    const state = (await startConnect()).searchParams.get('state') ?? ''
    const denied = await call(`/oauth/callback?error=access_denied&state=${state}`)
    expect(denied.status).toBe(400)
    expect(await denied.text()).toContain('access was denied')
    const reuse = await call(`/oauth/callback?code=good-code&state=${state}`)
    expect(reuse.status).toBe(400)
    expect(cc.tokenCalls).toHaveLength(0)
  })

  it('reports a failed exchange on a 400 page', async () => {
    const state = (await startConnect()).searchParams.get('state') ?? ''
    const res = await call(`/oauth/callback?code=stale-code&state=${state}`)
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('invalid_grant')
    expect(cc.tokenCalls).toHaveLength(1)
  })

  it('refuses a code issued for another PKCE challenge (a code swapped in by someone else)', async () => {
    await relay().disconnect()
    const mine = await startConnect()
    const theirs = new URL(mine)
    theirs.searchParams.set('code_challenge', 'A'.repeat(43))
    const stolen = (await net.consent(theirs)).searchParams.get('code') ?? ''
    const state = mine.searchParams.get('state') ?? ''
    const res = await call(`/oauth/callback?code=${encodeURIComponent(stolen)}&state=${state}`)
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('PKCE')
    expect(cc.tokenCalls.map((c) => c.status)).toEqual([400])
    expect((await status()).state).toBe('not_connected')
  })

  it('tells the owner plainly when no refresh token came back', async () => {
    cc.omitRefreshToken = true
    const res = await connect()
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('offline_access')
    expect((await status()).refreshable).toBe(false)
  })

  it('never shows a secret on /healthz or /admin/status', async () => {
    await connect()
    const body =
      (await (await call('/admin/status', { headers: OWNER })).text()) +
      (await (await call('/healthz')).text())
    expect(body).not.toContain('eyJ') // neither the access nor the refresh token (both JWTs here)
    expect(body).not.toContain(ADMIN_TOKEN)
  })
})
