/**
 * @module sandbox/model
 * A model of Constant Contact, the project's only stand-in for CC: used by `npm start` without
 * credentials (loopback only; traffic goes to SANDBOX_ORIGIN, a `.invalid` host), the workerd and
 * Deno tests, and the benchmarks. It mirrors CC where the relay depends on it
 * (docs/constant-contact.md): single-use PKCE-bound codes, rotating refresh tokens (reuse revokes
 * the family), sign_up_form as an upsert with CC's limits, tags and tagging activities (applied at
 * once here; CC runs them in the background), 4 requests/s and a daily quota counted on arrival.
 * Codes and tokens are self-verifying JWTs, so isolates need not share memory. Tests script
 * faults, latency and limits through its public fields. It holds everything in memory; for
 * `npm start`, stored-sandbox.ts keeps the account's contacts, tags and deleted lists in storage.
 */
import { decodeJwt, jwtVerify, SignJWT } from 'jose'
import { SANDBOX_ORIGIN } from '../core/app/config.ts'
import { pkceChallenge, randomToken } from '../core/connection/oauth.ts'
import type { Clock } from '../core/lib/clock.ts'

// Not a secret: the model only runs on loopback or in tests, and its tokens grant nothing real.
const KEY = new TextEncoder().encode('ctct-relay sandbox key (public, loopback only)')
const ISSUER = `${SANDBOX_ORIGIN}/oauth2`
const ALL_SCOPES = 'account_read contact_data offline_access'

export const SANDBOX_LISTS = [
  { list_id: '3a1b2c4d-0000-4000-8000-000000000001', name: 'Sandbox newsletter' },
  { list_id: '3a1b2c4d-0000-4000-8000-000000000002', name: 'Sandbox product updates' },
] as const
export const SANDBOX_TAGS: readonly ModelTag[] = [
  { tag_id: '7a6c0000-0000-4000-8000-000000000001', name: 'Sandbox website' },
  { tag_id: '7a6c0000-0000-4000-8000-000000000002', name: 'Sandbox bread lover' },
]
export const SANDBOX_CUSTOM_FIELDS: readonly ModelCustomField[] = [
  {
    custom_field_id: '7c0de000-0000-4000-8000-000000000001',
    name: 'source',
    label: 'Source',
    type: 'string',
  },
  {
    custom_field_id: '7c0de000-0000-4000-8000-000000000002',
    name: 'baking_classes',
    label: 'Interested in baking classes',
    type: 'boolean',
  },
  {
    custom_field_id: '7c0de000-0000-4000-8000-000000000003',
    name: 'loaves_per_week',
    label: 'Loaves per week',
    type: 'number',
    metadata: { integer: true, decimal_places: 0 },
  },
  {
    custom_field_id: '7c0de000-0000-4000-8000-000000000004',
    name: 'favourite_bread',
    label: 'Favourite bread',
    type: 'single_select',
  },
]

/** What the next token-endpoint calls do, in order (then they answer normally). */
export type TokenFault =
  | 'error500'
  | 'invalid_grant'
  /** The connection drops before any answer (nothing happened at CC). */
  | 'drop'
  /** CC rotates the refresh token, then the answer is lost on the way back. */
  | 'rotate_then_drop'
  /** CC rotates, then a 200 arrives whose body is not JSON (a proxy mangled it). */
  | 'rotate_then_garbage'
  /** A proxy or WAF answers 403 with an HTML page, no OAuth error. */
  | 'proxy403'
  | 'invalid_client'

/** What the next sign_up_form (or tagging) calls do, in order (then they answer normally). */
export type SignupFault =
  | '400'
  | '401'
  | '403'
  | '409'
  | '500'
  | '503'
  | 'throttled'
  | 'quota'
  | 'drop'

export interface ModelList {
  list_id: string
  name: string
}
export interface ModelTag {
  tag_id: string
  name: string
}
export interface ModelCustomField {
  custom_field_id: string
  name: string
  label: string
  type: string
  /** CustomFieldMetadata: number and currency only. */
  metadata?: { allow_negative?: boolean; decimal_places?: number; integer?: boolean }
}

export interface TokenCall {
  at: number
  grant: string | null
  form: URLSearchParams
  authorization: string | null
  /** The HTTP Basic credentials, decoded as CC does (RFC 6749 §2.3.1), or null. */
  basic: BasicCredentials | null
  status: number
}
export interface BasicCredentials {
  clientId: string
  clientSecret: string
}
export interface SignupCall {
  /** When it arrived, on the model's clock. */
  at: number
  body: Record<string, unknown>
  authorization: string | null
  contentType: string | null
  /** The status CC answered (0: dropped). */
  answered: number
}
export interface ApiCall {
  at: number
  method: string
  /** Path and query, e.g. `/v3/contact_lists?limit=50`. */
  path: string
  /** A POST's JSON body (a tagging, a new tag). */
  body?: Record<string, unknown>
  authorization: string | null
  status: number
}
export interface ModelContact {
  contact_id: string
  email_address: string
  body: Record<string, unknown>
  /** Added by tagging activities, kept across sign_up_form's upserts. */
  tag_ids: string[]
  updated_at: string
}

export interface SandboxView {
  lists: { list_id: string; name: string; deleted: boolean }[]
  tags: ModelTag[]
  contacts: {
    email_address: string
    list_memberships: string[]
    tag_ids: string[]
    updated_at: string
  }[]
}

/** Milliseconds, or a function giving them per request (for jitter). */
type Delay = number | (() => number)

export interface CcModelOptions {
  clock: Clock
  tokenTtlSeconds?: number
  lists?: readonly ModelList[]
  customFields?: readonly ModelCustomField[]
  tags?: readonly ModelTag[]
  /**
   * Told of each change a request makes to the account (a contact written or tagged, a tag
   * made), as it is made, so a store can keep it (stored-sandbox.ts). The model itself keeps
   * everything in memory.
   */
  onChange?: (change: ModelChange) => void
}

/** What a request changed in the account: the contact or the tag as it is now. */
export type ModelChange = { contact: ModelContact } | { tag: ModelTag }

const json = (body: unknown, status = 200, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json', ...headers },
  })
const oauthError = (error: string, description: string, status = 400) =>
  json({ error, error_description: description }, status, { 'cache-control': 'no-store' })
const apiError = (status: number, error_key: string, error_message: string) =>
  // CC's error bodies are an array, except on 401 and 429 where they are one object.
  status === 401 || status === 429
    ? json({ error_key, error_message }, status)
    : json([{ error_key, error_message }], status)

/** Thrown by `handle` where the connection drops: adapters turn it into a network error. */
export class DroppedConnection extends TypeError {
  constructor() {
    super('The connection was reset by the peer (model of Constant Contact)')
    this.name = 'DroppedConnection'
  }
}

/**
 * The consent step, stateless: the redirect back to the relay's callback with a signed, 5-minute
 * code (or `error=access_denied`). The sandbox's consent page and `GET …/authorize` both use it.
 */
export async function issueSandboxCode(params: {
  clientId: string
  redirectUri: string
  codeChallenge: string | null
  scope?: string
  now: number
}): Promise<string> {
  const iat = Math.floor(params.now / 1000)
  return new SignJWT({
    typ: 'code',
    cid: params.clientId,
    redirect_uri: params.redirectUri,
    code_challenge: params.codeChallenge,
    scope: params.scope ?? ALL_SCOPES,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setJti(randomToken(12))
    .setIssuedAt(iat)
    .setExpirationTime(iat + 300)
    .sign(KEY)
}

export class CcModel {
  // --- knobs (tests and the bench set these; reset() restores them) -------------------------
  tokenTtlSeconds: number
  tokenFaults: TokenFault[] = []
  signupFaults: SignupFault[] = []
  /** The same for POST /activities/contacts_taggings_add. */
  taggingFaults: SignupFault[] = []
  /** While true, every sign_up_form call answers 503. */
  down = false
  /** CC's per-app limit, counted on arrival over API calls (0: no limit). */
  perSecond = 4
  /** API requests left today; at 0 CC answers 429 quota_exceeded. */
  quotaLeft = Number.POSITIVE_INFINITY
  /** Before a request counts as arrived at CC, and before its answer leaves. */
  latency: { arrive: Delay; answer: Delay } = { arrive: 0, answer: 0 }
  /** Leave refresh_token out of token answers (an app without offline_access). */
  omitRefreshToken = false
  /**
   * Issue opaque access tokens (no readable `exp`), as a strict OAuth server may: the relay then
   * has only `expires_in`, which counts from when the server issued the token.
   */
  opaqueAccessTokens = false
  /** Sent as `iss` on the authorize redirect (RFC 9207) when set; CC sends none. */
  issuer: string | null = null
  /** The scopes CC grants, whatever was asked (null: what the authorize request asked). */
  grantScope: string | null = null
  /** The largest `limit` GET /contact_lists accepts (CC documents 500). */
  maxListPageSize = 500
  /**
   * The account refuses this app: every API call answers 403, as CC does for a deactivated app
   * or a user without the privileges (docs/constant-contact.md §2, §10). Account-wide, unlike a 403
   * fault.
   */
  accountForbidden = false
  /**
   * Requests that arrive while `heldUntil` is set wait for it before they are answered: a test acts
   * while they are in flight, then resolves it. Later arrivals are not held once it is unset.
   */
  heldUntil: Promise<void> | null = null
  /** The same for the token endpoint alone (a slow token endpoint; the API answers as usual). */
  tokenHeldUntil: Promise<void> | null = null

  // --- the account ------------------------------------------------------------------------
  lists: ModelList[]
  customFields: ModelCustomField[]
  /** The account's tags; a test deletes one by taking it out. At most 500 (CC's limit). */
  tags: ModelTag[]
  /** Lists the owner "deleted in CC" (sandbox page, tests), to try config drift. */
  readonly deletedLists = new Set<string>()
  contacts = new Map<string, ModelContact>()

  // --- what reached it --------------------------------------------------------------------
  tokenCalls: TokenCall[] = []
  signupCalls: SignupCall[] = []
  apiCalls: ApiCall[] = []

  readonly #clock: Clock
  readonly #onChange: (change: ModelChange) => void
  readonly #defaultTtl: number
  readonly #usedCodes = new Set<string>()
  /** Refresh-token family → the only generation still valid (-1: revoked after reuse). */
  readonly #families = new Map<string, number>()
  /** Arrival times of API calls in the last second, for the rate limit. */
  #arrivals: number[] = []

  constructor(options: CcModelOptions) {
    this.#clock = options.clock
    this.#onChange = options.onChange ?? (() => {})
    this.#defaultTtl = options.tokenTtlSeconds ?? 86_400
    this.tokenTtlSeconds = this.#defaultTtl
    this.lists = [...(options.lists ?? SANDBOX_LISTS)]
    this.customFields = [...(options.customFields ?? SANDBOX_CUSTOM_FIELDS)]
    this.tags = [...(options.tags ?? SANDBOX_TAGS)]
  }

  /** Back to a quiet, healthy CC with empty logs; the account's lists, tags and tokens stay. */
  reset(): void {
    this.tokenTtlSeconds = this.#defaultTtl
    this.tokenFaults = []
    this.signupFaults = []
    this.taggingFaults = []
    this.down = false
    this.perSecond = 4
    this.quotaLeft = Number.POSITIVE_INFINITY
    this.latency = { arrive: 0, answer: 0 }
    this.omitRefreshToken = false
    this.opaqueAccessTokens = false
    this.issuer = null
    this.grantScope = null
    this.maxListPageSize = 500
    this.accountForbidden = false
    this.heldUntil = null
    this.tokenHeldUntil = null
    this.deletedLists.clear()
    this.contacts = new Map()
    this.tokenCalls = []
    this.signupCalls = []
    this.apiCalls = []
    this.#arrivals = []
  }

  /** A `fetch` that answers everything as CC would; a dropped connection rejects like fetch. */
  readonly fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
    this.handle(new Request(input, init))

  /** Answers one request. Throws DroppedConnection where CC's answer never arrives. */
  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    const path = url.pathname
    if (request.method === 'GET' && path.endsWith('/authorize')) return this.#authorize(url)
    if (request.method === 'POST' && path.endsWith('/token')) return this.#token(request)
    const v3 = path.indexOf('/v3/')
    if (v3 !== -1) return this.#api(request, path.slice(v3 + 3), url)
    return json([{ error_key: 'not_found', error_message: 'Not found' }], 404)
  }

  /** Which state a refresh token is in, for tests that check rotation. */
  refreshTokenState(token: string): 'current' | 'rotated' | 'revoked' | 'invalid' {
    let claims: { fam: string; gen: number }
    try {
      const c = decodeJwt(token)
      claims = { fam: String(c.fam), gen: Number(c.gen) }
    } catch {
      return 'invalid'
    }
    const current = this.#families.get(claims.fam)
    if (current === undefined) return 'invalid'
    if (current === -1) return 'revoked'
    return current === claims.gen ? 'current' : 'rotated'
  }

  view(): SandboxView {
    return {
      lists: this.lists.map((l) => ({ ...l, deleted: this.deletedLists.has(l.list_id) })),
      tags: this.tags.map((t) => ({ ...t })),
      contacts: [...this.contacts.values()].map((c) => ({
        email_address: c.email_address,
        list_memberships: (c.body.list_memberships as string[]) ?? [],
        tag_ids: [...c.tag_ids],
        updated_at: c.updated_at,
      })),
    }
  }

  async #wait(delay: Delay): Promise<void> {
    const ms = typeof delay === 'function' ? delay() : delay
    if (ms > 0) await this.#clock.sleep(ms)
  }

  /** What every answer goes through: the hold the request arrived under, then the latency. */
  async #beforeAnswer(heldUntil: Promise<void> | null): Promise<void> {
    if (heldUntil) await heldUntil
    await this.#wait(this.latency.answer)
  }

  async #authorize(url: URL): Promise<Response> {
    const q = url.searchParams
    const redirectUri = q.get('redirect_uri') ?? ''
    let back: URL
    try {
      back = new URL(redirectUri)
    } catch {
      return json({ error: 'invalid_request', error_description: 'redirect_uri' }, 400)
    }
    back.searchParams.set('state', q.get('state') ?? '')
    if (this.issuer !== null) back.searchParams.set('iss', this.issuer)
    back.searchParams.set(
      'code',
      await issueSandboxCode({
        clientId: q.get('client_id') ?? '',
        redirectUri,
        codeChallenge: q.get('code_challenge'),
        scope: q.get('scope') ?? undefined,
        now: this.#clock.now(),
      })
    )
    return new Response(null, { status: 302, headers: { location: back.toString() } })
  }

  async #token(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text())
    const call: TokenCall = {
      at: this.#clock.now(),
      grant: form.get('grant_type'),
      form,
      authorization: request.headers.get('authorization'),
      basic: basicCredentials(request.headers.get('authorization')),
      status: 0,
    }
    this.tokenCalls.push(call)
    const heldUntil = this.heldUntil ?? this.tokenHeldUntil
    const answer = async (response: Response) => {
      await this.#beforeAnswer(heldUntil)
      call.status = response.status
      return response
    }
    const fault = this.tokenFaults.shift()
    await this.#wait(this.latency.arrive)
    if (fault === 'drop') throw new DroppedConnection()
    if (fault === 'proxy403')
      return answer(new Response('<html>Access denied</html>', { status: 403 }))
    if (fault === 'error500') return answer(oauthError('server_error', 'Try again later.', 500))
    if (fault === 'invalid_client')
      return answer(oauthError('invalid_client', 'Client authentication failed.', 401))
    if (fault === 'invalid_grant')
      return answer(oauthError('invalid_grant', 'The refresh token is invalid or expired.'))
    if (call.grant === 'authorization_code') return answer(await this.#exchange(call))
    if (call.grant !== 'refresh_token')
      return answer(oauthError('unsupported_grant_type', 'grant_type is not supported.'))

    const refreshToken = form.get('refresh_token') ?? ''
    let fam: string
    let gen: number
    let scope: string
    try {
      const { payload } = await jwtVerify(refreshToken, KEY)
      fam = String(payload.fam)
      gen = Number(payload.gen)
      scope = typeof payload.scope === 'string' ? payload.scope : ALL_SCOPES
    } catch {
      return answer(oauthError('invalid_grant', 'The refresh token is invalid or expired.'))
    }
    const current = this.#families.get(fam) ?? gen
    if (gen !== current) {
      this.#families.set(fam, -1) // reuse of a rotated token revokes the whole family
      return answer(oauthError('invalid_grant', 'The refresh token is invalid or expired.'))
    }
    const tokens = await this.#tokens(fam, gen + 1, scope)
    if (fault === 'rotate_then_drop') throw new DroppedConnection()
    if (fault === 'rotate_then_garbage')
      return answer(new Response('<html>upstream</html>', { status: 200 }))
    return answer(json(tokens, 200, { 'cache-control': 'no-store' }))
  }

  async #exchange({ form, basic }: TokenCall): Promise<Response> {
    let claims: Record<string, unknown>
    try {
      ;({ payload: claims } = await jwtVerify(form.get('code') ?? '', KEY, {
        currentDate: new Date(this.#clock.now()),
      }))
    } catch {
      return oauthError('invalid_grant', 'The authorization code is invalid or expired.')
    }
    const jti = String(claims.jti)
    if (claims.typ !== 'code' || this.#usedCodes.has(jti))
      return oauthError('invalid_grant', 'The authorization code was already used.')
    this.#usedCodes.add(jti)
    if (claims.redirect_uri !== form.get('redirect_uri'))
      return oauthError('invalid_grant', 'redirect_uri does not match the authorize request.')
    const clientId = basic?.clientId ?? form.get('client_id')
    if (clientId !== claims.cid) return oauthError('invalid_client', 'Unknown client.', 401)
    if (claims.code_challenge) {
      if ((await pkceChallenge(form.get('code_verifier') ?? '')) !== claims.code_challenge)
        return oauthError('invalid_grant', 'PKCE verification failed.')
    } else if (basic === null) {
      return oauthError('invalid_client', 'Client authentication failed.', 401)
    }
    const scope = this.grantScope ?? String(claims.scope ?? ALL_SCOPES)
    return json(await this.#tokens(randomToken(12), 0, scope), 200, { 'cache-control': 'no-store' })
  }

  async #tokens(fam: string, gen: number, scope: string) {
    this.#families.set(fam, gen)
    const iat = Math.floor(this.#clock.now() / 1000)
    const access = await new SignJWT({ scp: scope.split(' ') })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setSubject('sandbox-owner')
      .setAudience('https://api.cc.email/v3')
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.tokenTtlSeconds)
      .setJti(randomToken(8))
      .sign(KEY)
    const offline = scope.split(' ').includes('offline_access') && !this.omitRefreshToken
    const refresh = offline
      ? await new SignJWT({ fam, gen, scope }).setProtectedHeader({ alg: 'HS256' }).sign(KEY)
      : undefined
    return {
      access_token: this.opaqueAccessTokens ? toOpaque(access) : access,
      token_type: 'Bearer',
      expires_in: this.tokenTtlSeconds,
      scope,
      ...(refresh ? { refresh_token: refresh } : {}),
    }
  }

  /** The bearer's scopes, or null when the token is invalid or expired. */
  async #bearer(request: Request): Promise<string[] | null> {
    const token = fromOpaque(request.headers.get('authorization')?.replace(/^Bearer /, '') ?? '')
    try {
      const { payload } = await jwtVerify(token, KEY, {
        issuer: ISSUER,
        currentDate: new Date(this.#clock.now()),
      })
      return Array.isArray(payload.scp) ? payload.scp.map(String) : []
    } catch {
      return null
    }
  }

  async #api(request: Request, path: string, url: URL): Promise<Response> {
    await this.#wait(this.latency.arrive)
    const at = this.#clock.now()
    const signup = request.method === 'POST' && path === '/contacts/sign_up_form'
    const tagging = request.method === 'POST' && path === '/activities/contacts_taggings_add'
    let body: Record<string, unknown> | null = null
    let bodyError: Response | null = null
    if (request.method === 'POST') {
      if (!(request.headers.get('content-type') ?? '').startsWith('application/json')) {
        bodyError = apiError(415, 'unsupported_media_type', 'Use application/json')
      } else {
        try {
          body = (await request.json()) as Record<string, unknown>
        } catch {
          bodyError = apiError(400, 'malformed_json', 'Malformed JSON')
        }
      }
    }
    const signupCall: SignupCall | null = signup
      ? {
          at,
          body: body ?? {},
          authorization: request.headers.get('authorization'),
          contentType: request.headers.get('content-type'),
          answered: 0,
        }
      : null
    const apiCall: ApiCall = {
      at,
      method: request.method,
      path: `/v3${path}${url.search}`,
      ...(body ? { body } : {}),
      authorization: request.headers.get('authorization'),
      status: 0,
    }
    if (signupCall) this.signupCalls.push(signupCall)
    else this.apiCalls.push(apiCall)
    const heldUntil = this.heldUntil
    const answer = async (response: Response) => {
      await this.#beforeAnswer(heldUntil)
      if (signupCall) signupCall.answered = response.status
      apiCall.status = response.status
      return response
    }

    // CC counts every request as it arrives, answered or not.
    this.#arrivals = this.#arrivals.filter((t) => t > at - 1000)
    this.#arrivals.push(at)
    if (this.perSecond > 0 && this.#arrivals.length > this.perSecond)
      return answer(apiError(429, 'throttled', 'Too Many Requests'))

    if (this.accountForbidden)
      return answer(
        apiError(403, 'forbidden', 'This application is not authorized for the account')
      )
    const fault = signup
      ? this.signupFaults.shift()
      : tagging
        ? this.taggingFaults.shift()
        : undefined
    if (fault === 'drop') throw new DroppedConnection()
    if (fault === 'throttled') return answer(apiError(429, 'throttled', 'Too Many Requests'))
    if (fault === 'quota' || this.quotaLeft <= 0)
      return answer(apiError(429, 'quota_exceeded', 'Limit Exceeded'))
    this.quotaLeft--
    if (fault === '503' || fault === '500' || (signup && this.down))
      return answer(apiError(fault === '500' ? 500 : 503, 'server_error', 'Service unavailable'))
    if (fault === '409') return answer(apiError(409, 'conflict', 'Conflict'))
    if (fault === '401') return answer(apiError(401, 'unauthorized', 'Unauthorized'))
    if (fault === '403')
      return answer(
        apiError(403, 'forbidden', 'The application is not authorized for this operation')
      )
    if (fault === '400')
      return answer(
        apiError(400, 'contacts.api.validation.error', 'List 9e2f… does not exist (scripted)')
      )
    const scopes = await this.#bearer(request)
    if (!scopes) return answer(apiError(401, 'unauthorized', 'Unauthorized'))
    if (bodyError) return answer(bodyError)

    if (request.method === 'POST') {
      if (!scopes.includes('contact_data'))
        return answer(apiError(403, 'forbidden', 'Missing scope contact_data'))
      if (signup) return answer(this.#signup(body ?? {}))
      if (tagging) return answer(this.#tagging(body ?? {}))
      if (path === '/contact_tags') return answer(this.#createTag(body ?? {}))
      return answer(apiError(404, 'not_found', 'Not found'))
    }
    if (request.method !== 'GET') return answer(apiError(404, 'not_found', 'Not found'))
    if (path === '/account/summary') {
      if (!scopes.includes('account_read'))
        return answer(apiError(403, 'forbidden', 'Missing scope account_read'))
      return answer(
        json({
          organization_name: 'Sandbox Bakery',
          encoded_account_id: 'sandbox-1',
          time_zone_id: 'America/New_York',
          contact_email: 'owner@sandbox.invalid',
        })
      )
    }
    if (path === '/contact_lists') {
      const live = this.lists.filter((l) => !this.deletedLists.has(l.list_id))
      return answer(
        page(url, live, 'lists', 50, this.maxListPageSize, { lists_count: live.length })
      )
    }
    if (path === '/contact_custom_fields')
      return answer(page(url, this.customFields, 'custom_fields', 50, 100))
    if (path === '/contact_tags') return answer(page(url, this.tags, 'tags', 50, 500))
    return answer(apiError(404, 'not_found', 'Not found'))
  }

  #signup(body: Record<string, unknown>): Response {
    const invalid = (message: string) => apiError(400, 'contacts.api.validation.error', message)
    const email = typeof body.email_address === 'string' ? body.email_address.toLowerCase() : ''
    if (!email || email.length > 50 || !email.includes('@'))
      return invalid('email_address is required (at most 50 characters)')
    const lists = Array.isArray(body.list_memberships) ? body.list_memberships.map(String) : []
    if (lists.length < 1 || lists.length > 50)
      return invalid('list_memberships takes 1 to 50 list ids')
    const known = new Set(
      this.lists.filter((l) => !this.deletedLists.has(l.list_id)).map((l) => l.list_id)
    )
    const unknown = lists.find((id) => !known.has(id))
    if (unknown) return invalid(`List ${unknown} does not exist`)
    for (const key of ['first_name', 'last_name', 'job_title', 'company_name'])
      if (typeof body[key] === 'string' && (body[key] as string).length > 50)
        return invalid(`${key} is longer than 50 characters`)
    const fields = Array.isArray(body.custom_fields) ? body.custom_fields : []
    if (fields.length > 50) return invalid('At most 50 custom_fields')
    const fieldsById = new Map(this.customFields.map((f) => [f.custom_field_id, f]))
    for (const f of fields as { custom_field_id?: unknown; value?: unknown }[]) {
      const field = fieldsById.get(String(f.custom_field_id))
      if (!field) return invalid(`Custom field ${String(f.custom_field_id)} does not exist`)
      const value = String(f.value ?? '')
      if (value.length > 255) return invalid('A custom field value is too long')
      const problem = typeProblem(field, value)
      if (problem) return invalid(`Custom field ${field.name}: ${problem}`)
    }
    const existing = this.contacts.get(email)
    const contact: ModelContact = {
      contact_id: existing?.contact_id ?? crypto.randomUUID(),
      email_address: email,
      body,
      tag_ids: existing?.tag_ids ?? [],
      updated_at: new Date(this.#clock.now()).toISOString(),
    }
    this.contacts.set(email, contact)
    this.#onChange({ contact })
    return json(
      { contact_id: contact.contact_id, action: existing ? 'updated' : 'created' },
      existing ? 200 : 201
    )
  }

  /**
   * POST /activities/contacts_taggings_add with `source.contact_ids` (CC's limits: 1 to 500
   * contacts, 1 to 50 tags). Every tag must exist: a deleted one is a 400. The tags are applied
   * at once; a contact id the account does not have is reported in `activity_errors`, as CC's
   * background activity would.
   */
  #tagging(body: Record<string, unknown>): Response {
    const invalid = (message: string) => apiError(400, 'contacts.api.validation.error', message)
    const source = (body.source ?? {}) as { contact_ids?: unknown }
    const contactIds = Array.isArray(source.contact_ids) ? source.contact_ids.map(String) : []
    const tagIds = Array.isArray(body.tag_ids) ? body.tag_ids.map(String) : []
    if (contactIds.length < 1 || contactIds.length > 500)
      return invalid('source.contact_ids takes 1 to 500 contact ids')
    if (tagIds.length < 1 || tagIds.length > 50) return invalid('tag_ids takes 1 to 50 tag ids')
    const known = new Set(this.tags.map((t) => t.tag_id))
    const unknown = tagIds.find((id) => !known.has(id))
    if (unknown) return invalid(`Tag ${unknown} does not exist`)
    const byId = new Map([...this.contacts.values()].map((c) => [c.contact_id, c]))
    const errors: string[] = []
    for (const id of contactIds) {
      const contact = byId.get(id)
      if (contact) {
        contact.tag_ids = [...new Set([...contact.tag_ids, ...tagIds])]
        this.#onChange({ contact })
      } else errors.push(`Contact ${id} does not exist`)
    }
    const activityId = crypto.randomUUID()
    return json(
      {
        activity_id: activityId,
        state: 'completed',
        percent_done: 100,
        activity_errors: errors,
        _links: { self: { href: `/v3/activities/${activityId}` } },
      },
      201
    )
  }

  /** POST /contact_tags: a unique name of 1 to 255 characters, no `<` or `>`; 500 at most. */
  #createTag(body: Record<string, unknown>): Response {
    const name = typeof body.name === 'string' ? body.name : ''
    if (name.length < 1 || name.length > 255 || /[<>]/.test(name))
      return apiError(400, 'contacts.api.validation.error', 'The tag name is not valid')
    if (this.tags.some((t) => t.name.toLowerCase() === name.toLowerCase()))
      return apiError(409, 'conflict', `A tag named ${name} already exists`)
    if (this.tags.length >= 500)
      return apiError(400, 'contacts.api.validation.error', 'The account has 500 tags')
    const tag = { tag_id: crypto.randomUUID(), name }
    this.tags.push(tag)
    this.#onChange({ tag })
    const at = new Date(this.#clock.now()).toISOString()
    return json({ ...tag, created_at: at, updated_at: at }, 201)
  }
}

/**
 * What CC documents about a typed custom field's value (the relay's field-types.ts cites the
 * sources), read literally: a boolean "accepts true or false"; a number is one, negative only
 * with `allow_negative`, with no more decimals than `decimal_places` and none when `integer`; a
 * currency amount the same, sign aside. Select types are set by choice_ids, which sign_up_form
 * does not take. What CC does not document (dates, text) is not checked.
 */
function typeProblem(field: ModelCustomField, value: string): string | null {
  const meta = field.metadata ?? {}
  switch (field.type) {
    case 'boolean':
      return value === 'true' || value === 'false' ? null : 'must be true or false'
    case 'single_select':
    case 'multi_select':
      return 'choices are set with choice_ids'
    case 'number':
    case 'currency': {
      const m = /^(-?)\d+(?:\.(\d+))?$/.exec(value)
      if (!m) return 'must be a number'
      if (field.type === 'number' && m[1] && !meta.allow_negative) return 'must not be negative'
      const decimals = m[2]?.length ?? 0
      if (decimals > (meta.integer ? 0 : (meta.decimal_places ?? Number.POSITIVE_INFINITY)))
        return 'has too many decimal places'
      return null
    }
    default:
      return null
  }
}

/** One page of a collection, linked to the next the way CC does: a path with a cursor. */
function page<T>(
  url: URL,
  items: readonly T[],
  key: string,
  defaultLimit: number,
  maxLimit: number,
  extra: Record<string, unknown> = {}
): Response {
  const limit = Number(url.searchParams.get('limit') ?? defaultLimit)
  if (!Number.isInteger(limit) || limit < 1 || limit > maxLimit)
    return apiError(400, 'invalid_limit', `limit must be 1 to ${maxLimit}`)
  const offset = Number(url.searchParams.get('cursor') ?? 0) || 0
  const body: Record<string, unknown> = { [key]: items.slice(offset, offset + limit), ...extra }
  if (offset + limit < items.length) {
    const next = new URLSearchParams({ limit: String(limit), cursor: String(offset + limit) })
    body._links = { next: { href: `${url.pathname}?${next}` } }
  }
  return json(body)
}

/**
 * An opaque form of a signed access token, so the model stays stateless: `~` for `.` (a valid
 * bearer character, RFC 6750 §2.1) keeps it from reading as a JWT, and it is reversed on use.
 */
const OPAQUE_PREFIX = 'opaque~'
function toOpaque(jwt: string): string {
  return OPAQUE_PREFIX + jwt.replaceAll('.', '~')
}
function fromOpaque(token: string): string {
  return token.startsWith(OPAQUE_PREFIX)
    ? token.slice(OPAQUE_PREFIX.length).replaceAll('~', '.')
    : token
}

/** An HTTP Basic header's id and secret, each form-urlencoded (RFC 6749 §2.3.1), or null. */
function basicCredentials(authorization: string | null): BasicCredentials | null {
  if (!authorization?.startsWith('Basic ')) return null
  try {
    const decoded = atob(authorization.slice(6))
    const colon = decoded.indexOf(':')
    if (colon === -1) return null
    const formDecode = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '))
    return {
      clientId: formDecode(decoded.slice(0, colon)),
      clientSecret: formDecode(decoded.slice(colon + 1)),
    }
  } catch {
    return null
  }
}
