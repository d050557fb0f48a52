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
type TokenBehaviour =
  | 'ok'
  | 'error500'
  | 'invalid_grant'
  | 'drop'
  | 'rotate_then_drop'
  /** CC rotates, then a 200 arrives whose body is not JSON (a proxy mangled it). */
  | 'rotate_then_garbage'
  /** A proxy or WAF answers 403 with an HTML page, no OAuth error. */
  | 'proxy403'

/** What CC does with the next sign_up_form calls, in order; then 'ok'. */
type SignupBehaviour = 'ok' | '503' | '500' | '409' | 'throttled' | 'quota' | 'drop' | '400' | '401'

export interface SignupCall {
  at: number
  body: Record<string, unknown>
  authorization: string | null
  contentType: string | null
  answered: number
}

export const cc = {
  /** Every request that reached sign_up_form, answered or not. */
  signupCalls: [] as SignupCall[],
  /** Delivered contacts, by email (sign_up_form is an upsert). */
  contacts: new Map<string, Record<string, unknown>>(),
  signupScript: [] as SignupBehaviour[],
  signupDelayMs: 0,
  /** While true, every sign_up_form call answers 503. */
  down: false,
  /** CC's own limits: 4 requests in any second → 429 throttled; a daily budget → quota_exceeded. */
  perSecond: 4,
  quotaLeft: Number.POSITIVE_INFINITY,

  tokenCalls: [] as TokenCall[],
  alerts: [] as Record<string, unknown>[],
  siteverifyCalls: [] as URLSearchParams[],
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
    this.siteverifyCalls = []
    this.apiCalls = []
    this.signupCalls = []
    this.contacts = new Map()
    this.signupScript = []
    this.signupDelayMs = 0
    this.down = false
    this.perSecond = 4
    this.quotaLeft = Number.POSITIVE_INFINITY
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
    if (behaviour === 'proxy403')
      return new HttpResponse('<html>Access denied</html>', { status: 403 })
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
      if (behaviour === 'rotate_then_garbage') {
        await issueTokens()
        return new HttpResponse('<html>upstream</html>', { status: 200 })
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
  http.post(`${API}/contacts/sign_up_form`, async ({ request }) => {
    const body = (await request.json()) as Record<string, unknown>
    const call: SignupCall = {
      at: Date.now(),
      body,
      authorization: request.headers.get('authorization'),
      contentType: request.headers.get('content-type'),
      answered: 0,
    }
    cc.signupCalls.push(call)
    const answer = (status: number, json: unknown) => {
      call.answered = status
      return HttpResponse.json(json as Record<string, unknown>, { status })
    }
    const recent = cc.signupCalls.filter((c) => c.at > call.at - 1000).length
    if (recent > cc.perSecond)
      return answer(429, { error_key: 'throttled', error_message: 'Too Many Requests' })
    const behaviour = cc.signupScript.shift() ?? (cc.down ? '503' : 'ok')
    // The answer is decided on arrival; the delay only holds it (a send in flight).
    if (cc.signupDelayMs) await new Promise((r) => setTimeout(r, cc.signupDelayMs))
    if (behaviour === 'drop') return HttpResponse.error()
    if (behaviour === '503' || behaviour === '500')
      return answer(Number(behaviour), [
        { error_key: 'server_error', error_message: 'Service unavailable' },
      ])
    if (behaviour === '409')
      return answer(409, [{ error_key: 'conflict', error_message: 'Conflict' }])
    if (behaviour === 'throttled')
      return answer(429, { error_key: 'throttled', error_message: 'Too Many Requests' })
    if (behaviour === 'quota' || cc.quotaLeft <= 0)
      return answer(429, { error_key: 'quota_exceeded', error_message: 'Limit Exceeded' })
    if (behaviour === '401')
      return answer(401, { error_key: 'unauthorized', error_message: 'Unauthorized' })
    if (behaviour === '400')
      return answer(400, [
        { error_key: 'contacts.api.validation.error', error_message: 'List 9e2f… does not exist' },
      ])
    const token = (call.authorization ?? '').replace(/^Bearer /, '')
    if (!token.startsWith('eyJ'))
      return answer(401, { error_key: 'unauthorized', error_message: 'Unauthorized' })
    cc.quotaLeft--
    const email = String(body.email_address)
    const existing = cc.contacts.has(email)
    cc.contacts.set(email, body)
    return answer(existing ? 200 : 201, {
      contact_id: crypto.randomUUID(),
      action: existing ? 'updated' : 'created',
    })
  }),
  http.post('https://challenges.cloudflare.com/turnstile/v0/siteverify', async ({ request }) => {
    const form = new URLSearchParams(await request.text())
    cc.siteverifyCalls.push(form)
    const token = form.get('response') ?? ''
    const verdicts: Record<string, Record<string, unknown>> = {
      'pass-token': { success: true, hostname: 'site.test', action: 'protected' },
      'wrong-host': { success: true, hostname: 'evil.test', action: 'protected' },
      'wrong-action': { success: true, hostname: 'site.test', action: 'other' },
    }
    return HttpResponse.json(
      verdicts[token] ?? { success: false, 'error-codes': ['invalid-input-response'] }
    )
  }),
  http.get(`${API}/contact_lists`, ({ request }) => {
    const url = new URL(request.url)
    cc.apiCalls.push({
      method: 'GET',
      path: url.pathname + url.search,
      authorization: request.headers.get('authorization'),
    })
    // Two pages, linked the way CC does it: a relative href with a cursor.
    if (url.searchParams.get('cursor') === 'p2') {
      return HttpResponse.json({
        lists: [{ list_id: '9e2f7d10-1111-4c3b-8e42-000000000002', name: 'Product updates' }],
      })
    }
    return HttpResponse.json({
      lists: [{ list_id: '9e2f7d10-1111-4c3b-8e42-000000000001', name: 'Newsletter' }],
      _links: { next: { href: '/v3/contact_lists?cursor=p2' } },
    })
  }),
  http.get(`${API}/contact_custom_fields`, ({ request }) => {
    const url = new URL(request.url)
    cc.apiCalls.push({
      method: 'GET',
      path: url.pathname,
      authorization: request.headers.get('authorization'),
    })
    return HttpResponse.json({
      custom_fields: [
        {
          custom_field_id: '5a1d0c6e-2222-4f1a-9b7c-000000000001',
          name: 'source',
          label: 'Where did you hear of us?',
        },
      ],
    })
  }),
  http.post(ALERT_URL, async ({ request }) => {
    cc.alerts.push((await request.json()) as Record<string, unknown>)
    return HttpResponse.json({ ok: true })
  }),
]

export const server = setupServer(...handlers)
