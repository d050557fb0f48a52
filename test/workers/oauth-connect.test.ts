/**
 * The one-time owner authorization (PKCE flavour: this project has no CC_CLIENT_SECRET).
 * Every case asserts what reached, or did not reach, the fake token endpoint.
 */
import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import worker from '../../src/worker.ts'
import { cc, net } from '../support/edge.ts'
import {
  ADMIN_TOKEN,
  CONNECT_COOKIE,
  call,
  callback,
  callbackWithSwappedCode,
  connect,
  cookieFrom,
  ORIGIN,
  OWNER,
  relay,
  startConnect,
  status,
} from '../support/helpers.ts'
import { s256 } from '../support/s256.ts'

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
    const res = await callback(back)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/admin?notice=connected')
    // The Connect cookie has done its job: the callback deletes it.
    expect(res.headers.getSetCookie()).toContainEqual(
      expect.stringMatching(/^__Host-ctct_relay_connect=;.*Max-Age=0/)
    )
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
    expect(await s256(verifier)).toBe(authorize.searchParams.get('code_challenge'))

    const s = await status()
    expect(s.state).toBe('connected')
    expect(s.account).toEqual({
      sub: 'sandbox-owner',
      summary: {
        organization_name: 'Sandbox Bakery',
        encoded_account_id: 'sandbox-1',
        time_zone_id: 'America/New_York',
      },
    })
    const health = await (await call('/healthz')).json()
    expect(health).toEqual({ ok: true, connected: true })
  })

  it('rejects a replayed state without calling the token endpoint', async () => {
    const back = await net.consent(await startConnect())
    expect((await callback(back)).status).toBe(303)
    expect(cc.tokenCalls).toHaveLength(1)
    // The owner's browser dropped the cookie: a replay from it cannot even be matched.
    const replay = await callback(back)
    expect(replay.status).toBe(400)
    expect(await replay.text()).toContain('not started in this browser')
    expect(cc.tokenCalls).toHaveLength(1)
  })

  it('rejects a state used once, even with its own (copied) cookie', async () => {
    const authorize = await call('/oauth/authorize', { headers: OWNER })
    const cookie = cookieFrom(authorize, CONNECT_COOKIE)
    const back = await net.consent(authorize.headers.get('location') ?? '')
    expect((await callback(back, cookie)).status).toBe(303)
    const replay = await callback(back, cookie)
    expect(replay.status).toBe(400)
    expect(await replay.text()).toContain('already used')
    expect(cc.tokenCalls).toHaveLength(1)
  })

  it('rejects a forged or missing state without calling the token endpoint', async () => {
    const forged = await callback('/oauth/callback?code=good-code&state=forged-state-value')
    expect(forged.status).toBe(400)
    expect(await forged.text()).toContain('not started in this browser')
    // A cookie that matches a state this relay never issued: the stored states say so.
    const binding = 'a-binding-this-relay-never-issued'
    const notIssued = await callback(
      `/oauth/callback?code=good-code&state=${await s256(binding)}`,
      `${CONNECT_COOKIE}=${binding}`
    )
    expect(notIssued.status).toBe(400)
    expect(await notIssued.text()).toContain('not issued by this relay')
    const missing = await callback('/oauth/callback?code=good-code')
    expect(missing.status).toBe(400)
    expect(await missing.text()).toContain('no state')
    expect(cc.tokenCalls).toHaveLength(0)
  })

  it('reports error=access_denied plainly and burns the state', async () => {
    const authorize = await call('/oauth/authorize', { headers: OWNER })
    const cookie = cookieFrom(authorize, CONNECT_COOKIE)
    const state = new URL(authorize.headers.get('location') ?? '').searchParams.get('state')
    const denied = await callback(`/oauth/callback?error=access_denied&state=${state}`, cookie)
    expect(denied.status).toBe(400)
    expect(await denied.text()).toContain('access was denied')
    const reuse = await callback(`/oauth/callback?code=good-code&state=${state}`, cookie)
    expect(reuse.status).toBe(400)
    expect(await reuse.text()).toContain('already used')
    expect(cc.tokenCalls).toHaveLength(0)
  })

  it('reports a failed exchange on a 400 page', async () => {
    const state = (await startConnect()).searchParams.get('state') ?? ''
    const res = await callback(`/oauth/callback?code=stale-code&state=${state}`)
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('invalid_grant')
    expect(cc.tokenCalls).toHaveLength(1)
    // The state is spent, so its cookie goes too, on the error page as on success.
    expect(cookieFrom(res, CONNECT_COOKIE)).toBe('')
    expect(res.headers.getSetCookie()).toContainEqual(
      expect.stringMatching(/^__Host-ctct_relay_connect=;.*Max-Age=0/)
    )
  })

  it('refuses a code issued for another PKCE challenge (a code swapped in by someone else)', async () => {
    await relay().disconnect()
    const res = await callbackWithSwappedCode()
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('PKCE')
    expect(cc.tokenCalls.map((c) => c.status)).toEqual([400])
    expect((await status()).state).toBe('not_connected')
  })

  it('tells the owner plainly when no refresh token came back, though offline_access was asked for', async () => {
    cc.omitRefreshToken = true
    const res = await connect()
    expect(res.status).toBe(200)
    const page = await res.text()
    // CC_SCOPES already has offline_access: telling the owner to add it would send them in circles.
    expect(page).not.toContain('Add offline_access')
    expect(page).toContain('issued no refresh token')
    expect(page).toContain('authorised again')
    expect(page).toContain('CC_PROMPT')
    const dashboard = await (await call('/admin', { headers: OWNER })).text()
    expect(dashboard).not.toContain('Add offline_access')
    expect(dashboard).toContain('CC_PROMPT')
    expect((await status()).refreshable).toBe(false)
  })

  it('sends CC_PROMPT as prompt on the authorize redirect when set, and no prompt otherwise', async () => {
    expect((await startConnect()).searchParams.has('prompt')).toBe(false)
    const res = await worker.fetch(
      new Request(`${ORIGIN}/oauth/authorize`, { headers: OWNER }) as Request<
        unknown,
        IncomingRequestCfProperties
      >,
      { ...env, CC_PROMPT: 'consent  login' } as Env,
      createExecutionContext()
    )
    expect(res.status).toBe(302)
    const url = new URL(res.headers.get('location') ?? '')
    expect(url.searchParams.get('prompt')).toBe('consent login')
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

describe('GET /oauth/callback: the client that starts a Connect must finish it', () => {
  it('/oauth/authorize sets a short-lived __Host- cookie: HttpOnly, Secure, SameSite=Lax', async () => {
    const res = await call('/oauth/authorize', { headers: OWNER })
    const set = res.headers.getSetCookie().find((c) => c.startsWith(`${CONNECT_COOKIE}=`)) ?? ''
    expect(set).toMatch(/^__Host-ctct_relay_connect=[\w-]{43}; /)
    expect(set).toMatch(/; Max-Age=600(;|$)/) // as long as the state it is bound to
    expect(set).toMatch(/; Path=\/(;|$)/)
    expect(set).toMatch(/; HttpOnly/)
    expect(set).toMatch(/; Secure/)
    expect(set).toMatch(/; SameSite=Lax/)
    expect(set).not.toMatch(/Domain=/i)
    // The cookie is not the state: a state seen in a URL or a log does not reveal it.
    const state = new URL(res.headers.get('location') ?? '').searchParams.get('state') ?? ''
    expect(set).not.toContain(state)
  })

  it('400 state_mismatch without the cookie, with no token call; the owner can still finish', async () => {
    const back = await net.consent(await startConnect())
    const res = await callback(back, '')
    expect(res.status).toBe(400)
    const page = await res.text()
    expect(page).toContain('Connection started elsewhere')
    expect(page).toContain('not started in this browser')
    expect(cc.tokenCalls).toHaveLength(0)
    // Not burned by the stranger: the browser that started it finishes it.
    expect((await callback(back)).status).toBe(303)
    expect(cc.tokenCalls).toHaveLength(1)
  })

  it("400 state_mismatch with another Connect's cookie, with no token call", async () => {
    const other = cookieFrom(await call('/oauth/authorize', { headers: OWNER }), CONNECT_COOKIE)
    const back = await net.consent(await startConnect())
    const res = await callback(back, other)
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('not started in this browser')
    expect(cc.tokenCalls).toHaveLength(0)
  })

  it('a Connect started with a Bearer token is finished only with its cookie', async () => {
    const started = await call('/oauth/authorize', { headers: OWNER }) // a script
    const back = await net.consent(started.headers.get('location') ?? '')
    const without = await call(back.pathname + back.search) // someone else, or a cookie-less client
    expect(without.status).toBe(400)
    expect(await without.text()).toContain('not started in this browser')
    expect(cc.tokenCalls).toHaveLength(0)
    const finished = await callback(back, cookieFrom(started, CONNECT_COOKIE))
    expect(finished.status).toBe(303)
    expect(cc.tokenCalls).toHaveLength(1)
  })
})

describe("GET /oauth/callback: CC's errors, as CC described them", () => {
  const description = 'The scope "campaign_data" is not allowed <script>alert(1)</script> & more'
  const query = (error: string) =>
    `error=${error}&error_description=${encodeURIComponent(description)}`

  it('shows error_description, escaped, and what to do next', async () => {
    const state = (await startConnect()).searchParams.get('state')
    const res = await callback(`/oauth/callback?${query('invalid_scope')}&state=${state}`)
    expect(res.status).toBe(400)
    const page = await res.text()
    expect(page).toContain('invalid_scope')
    expect(page).toContain('campaign_data')
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt; &amp; more')
    expect(page).not.toContain('<script>')
    expect(page).toContain('CC_SCOPES') // the next step: check the app and the scopes, reconnect
    expect(page).toContain('href="/admin"')
    expect(cc.tokenCalls).toHaveLength(0)
  })

  it('shows it for a declined consent, and for an answer that lost its state', async () => {
    const state = (await startConnect()).searchParams.get('state')
    const denied = await (
      await callback(`/oauth/callback?${query('access_denied')}&state=${state}`)
    ).text()
    expect(denied).toContain('access was denied')
    expect(denied).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(denied).toContain('choose Allow')
    const stateless = await (await callback(`/oauth/callback?${query('server_error')}`)).text()
    expect(stateless).toContain('server_error')
    expect(stateless).toContain('&lt;script&gt;alert(1)&lt;/script&gt;')
    expect(stateless).toContain('Start again from /admin')
    expect(cc.tokenCalls).toHaveLength(0)
  })
})

describe('GET /oauth/callback: the issuer (RFC 9207)', () => {
  /** A Connect whose consent answers with `iss` (or none): its callback URL and its cookie. */
  async function consentWithIssuer(issuer: string | null) {
    const started = await call('/oauth/authorize', { headers: OWNER })
    cc.issuer = issuer
    const back = await net.consent(started.headers.get('location') ?? '')
    cc.issuer = null
    return { back, cookie: cookieFrom(started, CONNECT_COOKIE) }
  }

  it("accepts the configured issuer (CC_AUTHORIZE_URL's origin when CC_ISSUER is unset)", async () => {
    const { back, cookie } = await consentWithIssuer('https://authz.cc.test')
    expect(back.searchParams.get('iss')).toBe('https://authz.cc.test')
    expect((await callback(back, cookie)).status).toBe(303)
    expect(cc.tokenCalls).toHaveLength(1)
  })

  it('refuses another issuer with 400 issuer_mismatch, makes no token request, and burns the state', async () => {
    await relay().disconnect()
    const { back, cookie } = await consentWithIssuer('https://authz.evil.test')
    const res = await callback(back, cookie)
    expect(res.status).toBe(400)
    const page = await res.text()
    expect(page).toContain('wrong issuer')
    expect(page).toContain('authz.evil.test')
    expect(cc.tokenCalls).toHaveLength(0)
    // The same answer without its iss, or with the right one, cannot finish this Connect.
    for (const iss of [null, 'https://authz.cc.test']) {
      const replay = new URL(back)
      if (iss) replay.searchParams.set('iss', iss)
      else replay.searchParams.delete('iss')
      const again = await callback(replay, cookie)
      expect(again.status).toBe(400)
      expect(await again.text()).toContain('already used')
    }
    expect(cc.tokenCalls).toHaveLength(0)
    expect((await status()).state).toBe('not_connected')
  })
})
