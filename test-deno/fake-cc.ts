/**
 * A fake Constant Contact for the Deno tests, the counterpart of test/fake-cc.ts (which is MSW
 * inside workerd). There is no MSW here, so the network edge is the `fetch` the relay is built
 * with: this class answers it in-process, counts every call, and refuses anything else, so no
 * test can reach the real network. Refresh tokens rotate as CC's do: each works once.
 */
import { SignJWT } from 'jose'

export const AUTHORIZE_URL = 'https://authz.cc.test/oauth2/default/v1/authorize'
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

export interface SignupCall {
  at: number
  body: Record<string, unknown>
  authorization: string | null
  answered: number
}

type TokenBehaviour = 'ok' | 'error500' | 'invalid_grant' | 'drop'

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })

export class FakeCc {
  tokenCalls: TokenCall[] = []
  signupCalls: SignupCall[] = []
  alerts: Record<string, unknown>[] = []
  /** Delivered contacts, by email (sign_up_form is an upsert). */
  contacts = new Map<string, Record<string, unknown>>()
  /** The refresh tokens CC would still accept. */
  validRefresh = new Set<string>()
  /** While true, every sign_up_form call answers 503. */
  down = false
  /** Answers for the next sign_up_form calls, in order; then the usual ones. */
  signupScript: ('400' | '503')[] = []
  /** Lifetime of issued access tokens, in seconds. */
  ttlSeconds = 86_400
  /** Behaviours for the next token calls, in order; then 'ok'. */
  script: TokenBehaviour[] = []
  /** Real milliseconds before a token answer: widens the window in which others arrive. */
  delayMs = 0
  issued = 0
  readonly #now: () => number

  constructor(now: () => number) {
    this.#now = now
  }

  refreshCalls(): TokenCall[] {
    return this.tokenCalls.filter((c) => c.grant === 'refresh_token')
  }

  readonly fetch: typeof fetch = async (input, init) => {
    const request = new Request(input, init)
    const { method } = request
    const url = request.url.split('?')[0]
    if (method === 'POST' && url === TOKEN_URL) return this.#token(request)
    if (method === 'GET' && url === `${API}/account/summary`) {
      return json({ organization_name: 'Test Bakery', encoded_account_id: 'acc-1' })
    }
    if (method === 'POST' && url === `${API}/contacts/sign_up_form`) return this.#signUp(request)
    if (method === 'POST' && url === ALERT_URL) {
      this.alerts.push((await request.json()) as Record<string, unknown>)
      return json({ ok: true })
    }
    throw new TypeError(`fake CC: unexpected request ${method} ${request.url}`)
  }

  async #token(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text())
    this.tokenCalls.push({
      at: this.#now(),
      grant: form.get('grant_type'),
      form,
      authorization: request.headers.get('authorization'),
    })
    const behaviour = this.script.shift() ?? 'ok'
    if (this.delayMs) await new Promise((r) => setTimeout(r, this.delayMs))
    if (behaviour === 'drop') throw new TypeError('fake CC: connection reset')
    if (behaviour === 'error500') return json({ error: 'server_error' }, 500)
    const invalid = () =>
      json(
        { error: 'invalid_grant', error_description: 'The refresh token is invalid or expired.' },
        400
      )
    if (behaviour === 'invalid_grant') return invalid()
    if (form.get('grant_type') === 'refresh_token') {
      const used = form.get('refresh_token') ?? ''
      if (!this.validRefresh.has(used)) return invalid()
      this.validRefresh.delete(used) // rotating: each refresh token works once
    } else if (form.get('code') !== 'good-code') {
      return json(
        { error: 'invalid_grant', error_description: 'The authorization code is invalid.' },
        400
      )
    }
    return json(await this.#issue())
  }

  async #issue() {
    this.issued++
    const iat = Math.floor(this.#now() / 1000)
    const access = await new SignJWT({ cid: 'client' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('account-owner-1')
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.ttlSeconds)
      .setJti(`a${this.issued}`)
      .sign(KEY)
    const refresh = `refresh-${this.issued}-${crypto.randomUUID()}`
    this.validRefresh.add(refresh)
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: this.ttlSeconds,
      scope: 'account_read contact_data offline_access',
      refresh_token: refresh,
    }
  }

  async #signUp(request: Request): Promise<Response> {
    const body = (await request.json()) as Record<string, unknown>
    const call: SignupCall = {
      at: this.#now(),
      body,
      authorization: request.headers.get('authorization'),
      answered: 0,
    }
    this.signupCalls.push(call)
    const answer = (status: number, payload: unknown) => {
      call.answered = status
      return json(payload, status)
    }
    const scripted = this.signupScript.shift()
    if (scripted === '400') {
      return answer(400, [
        { error_key: 'contacts.api.validation.error', error_message: 'List 9e2f… does not exist' },
      ])
    }
    if (this.down || scripted === '503') {
      return answer(503, [{ error_key: 'server_error', error_message: 'Service unavailable' }])
    }
    const token = (call.authorization ?? '').replace(/^Bearer /, '')
    if (!token.startsWith('eyJ')) {
      return answer(401, { error_key: 'unauthorized', error_message: 'Unauthorized' })
    }
    const email = String(body.email_address)
    const existing = this.contacts.has(email)
    this.contacts.set(email, body)
    return answer(existing ? 200 : 201, {
      contact_id: crypto.randomUUID(),
      action: existing ? 'updated' : 'created',
    })
  }
}
