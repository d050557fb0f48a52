/**
 * A fake Constant Contact at the network edge (MSW inside workerd). It counts every request that
 * reaches it, issues JWT access tokens with a configurable lifetime, and rotates single-use
 * refresh tokens the way CC does: reusing an old one gets invalid_grant.
 */
import { SignJWT } from 'jose'
import { HttpResponse, http } from 'msw'
import { setupServer } from 'msw/node'

export const TOKEN_URL = 'https://authz.cc.test/oauth2/default/v1/token'
export const API = 'https://api.cc.test/v3'
export const ALERT_URL = 'https://hooks.test/alert'

const KEY = new TextEncoder().encode('fake-cc-signing-key')

export interface TokenCall {
  at: number
  grant: string | null
  form: URLSearchParams
  authorization: string | null
}

/** 'rotate_then_drop': CC rotates the token, then the answer is lost on the way back. */
type TokenBehaviour = 'ok' | 'error500' | 'invalid_grant' | 'drop' | 'rotate_then_drop'

export const cc = {
  tokenCalls: [] as TokenCall[],
  alerts: [] as Record<string, unknown>[],
  apiCalls: [] as { method: string; path: string; authorization: string | null; body?: unknown }[],
  /** Lifetime of issued access tokens, in seconds. */
  ttlSeconds: 86_400,
  /** Behaviours to apply to the next token calls, in order; then 'ok'. */
  script: [] as TokenBehaviour[],
  /** Delay before answering a token call (to widen race windows). */
  delayMs: 0,
  omitRefreshToken: false,
  validRefresh: new Set<string>(),
  issued: 0,
  reset() {
    this.tokenCalls = []
    this.alerts = []
    this.apiCalls = []
    this.ttlSeconds = 86_400
    this.script = []
    this.delayMs = 0
    this.omitRefreshToken = false
    // validRefresh survives: the Durable Object's stored token set does too (per test file).
  },
  refreshCalls() {
    return this.tokenCalls.filter((c) => c.grant === 'refresh_token')
  },
}

async function issueTokens() {
  cc.issued++
  const iat = Math.floor(Date.now() / 1000)
  const access = await new SignJWT({ cid: 'client' })
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('account-owner-1')
    .setIssuedAt(iat)
    .setExpirationTime(iat + cc.ttlSeconds)
    .setJti(`a${cc.issued}`)
    .sign(KEY)
  const refresh = `refresh-${cc.issued}-${crypto.randomUUID()}`
  cc.validRefresh.add(refresh)
  return {
    access_token: access,
    token_type: 'Bearer',
    expires_in: cc.ttlSeconds,
    scope: 'account_read contact_data offline_access',
    ...(cc.omitRefreshToken ? {} : { refresh_token: refresh }),
  }
}

export const handlers = [
  http.post(TOKEN_URL, async ({ request }) => {
    const form = new URLSearchParams(await request.text())
    cc.tokenCalls.push({
      at: Date.now(),
      grant: form.get('grant_type'),
      form,
      authorization: request.headers.get('authorization'),
    })
    const behaviour = cc.script.shift() ?? 'ok'
    if (cc.delayMs) await new Promise((r) => setTimeout(r, cc.delayMs))
    if (behaviour === 'drop') return HttpResponse.error()
    if (behaviour === 'error500')
      return HttpResponse.json({ error: 'server_error' }, { status: 500 })
    if (behaviour === 'invalid_grant')
      return HttpResponse.json(
        { error: 'invalid_grant', error_description: 'The refresh token is invalid or expired.' },
        { status: 400 }
      )
    if (form.get('grant_type') === 'refresh_token') {
      const used = form.get('refresh_token') ?? ''
      if (!cc.validRefresh.has(used)) {
        return HttpResponse.json(
          { error: 'invalid_grant', error_description: 'The refresh token is invalid or expired.' },
          { status: 400 }
        )
      }
      cc.validRefresh.delete(used) // rotating: each refresh token works once
      if (behaviour === 'rotate_then_drop') {
        await issueTokens()
        return HttpResponse.error()
      }
    } else if (form.get('code') !== 'good-code') {
      return HttpResponse.json(
        { error: 'invalid_grant', error_description: 'The authorization code is invalid.' },
        { status: 400 }
      )
    }
    return HttpResponse.json(await issueTokens())
  }),
  http.get(`${API}/account/summary`, ({ request }) => {
    cc.apiCalls.push({
      method: 'GET',
      path: '/account/summary',
      authorization: request.headers.get('authorization'),
    })
    return HttpResponse.json({ organization_name: 'Test Bakery', encoded_account_id: 'acc-1' })
  }),
  http.post(ALERT_URL, async ({ request }) => {
    cc.alerts.push((await request.json()) as Record<string, unknown>)
    return HttpResponse.json({ ok: true })
  }),
]

export const server = setupServer(...handlers)
