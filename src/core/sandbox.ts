/**
 * @module sandbox
 * A stand-in for Constant Contact, so a newcomer can click through connect → callback →
 * connected → sign-up with no CC app and no network. It is enabled only by CTCT_SANDBOX=1 AND a
 * loopback request host (see app.ts): a deployed worker is never served on a loopback host, so it
 * can never enter sandbox mode. Its traffic goes to SANDBOX_ORIGIN (`.invalid`, never resolvable)
 * and is answered in-process by `Sandbox.fetch`.
 *
 * Behaviour mirrors CC where it matters to us: 5-minute single-use codes, PKCE or Basic client
 * auth, JWT access tokens, rotating single-use refresh tokens (reuse revokes the family), and
 * sign_up_form as an upsert keyed on the email address. State is in memory: a restart forgets
 * contacts, and an unknown token family is adopted rather than refused.
 */
import { decodeJwt, jwtVerify, SignJWT } from 'jose'
import { SANDBOX_ORIGIN } from './config.ts'
import { pkceChallenge, randomToken } from './oauth.ts'

// Not a secret: the sandbox only runs on loopback, and these tokens grant nothing real.
const KEY = new TextEncoder().encode('ctct-relay sandbox key (public, loopback only)')
const ISSUER = `${SANDBOX_ORIGIN}/oauth2`

export const SANDBOX_LISTS = [
  { list_id: '3a1b2c4d-0000-4000-8000-000000000001', name: 'Sandbox newsletter' },
  { list_id: '3a1b2c4d-0000-4000-8000-000000000002', name: 'Sandbox product updates' },
] as const
export const SANDBOX_CUSTOM_FIELDS = [
  {
    custom_field_id: '7c0de000-0000-4000-8000-000000000001',
    name: 'source',
    label: 'Source',
    type: 'string',
  },
] as const

export interface SandboxContact {
  contact_id: string
  email_address: string
  body: Record<string, unknown>
  updated_at: string
}

/** Signs the single-use code the sandbox authorize page hands back to the callback. */
export async function issueSandboxCode(params: {
  clientId: string
  redirectUri: string
  codeChallenge: string | null
  now: number
}): Promise<string> {
  const iat = Math.floor(params.now / 1000)
  return new SignJWT({
    typ: 'code',
    cid: params.clientId,
    redirect_uri: params.redirectUri,
    code_challenge: params.codeChallenge,
  })
    .setProtectedHeader({ alg: 'HS256' })
    .setJti(randomToken(12))
    .setIssuedAt(iat)
    .setExpirationTime(iat + 300)
    .sign(KEY)
}

const json = (body: unknown, status = 200) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } })
const oauthError = (error: string, description: string, status = 400) =>
  json({ error, error_description: description }, status)

export interface SandboxView {
  lists: { list_id: string; name: string; deleted: boolean }[]
  contacts: { email_address: string; list_memberships: string[]; updated_at: string }[]
}

export class Sandbox {
  readonly contacts = new Map<string, SandboxContact>()
  /** Lists the owner "deleted in CC" from /__sandbox, to try config drift and dead letters. */
  readonly deletedLists = new Set<string>()
  readonly #usedCodes = new Set<string>()
  /** family → the only refresh-token generation still valid (-1: revoked after reuse). */
  readonly #families = new Map<string, number>()
  readonly #now: () => number
  readonly #tokenTtlSeconds: number

  constructor(options: { now: () => number; tokenTtlSeconds?: number }) {
    this.#now = options.now
    this.#tokenTtlSeconds = options.tokenTtlSeconds ?? 86_400
  }

  /** A `fetch` that answers SANDBOX_ORIGIN in-process and passes everything else through. */
  wrap(outer: typeof fetch): typeof fetch {
    return (input, init) => {
      const request = new Request(input, init)
      return request.url.startsWith(`${SANDBOX_ORIGIN}/`) ? this.handle(request) : outer(request)
    }
  }

  async handle(request: Request): Promise<Response> {
    const url = new URL(request.url)
    if (request.method === 'POST' && url.pathname === '/oauth2/token') return this.#token(request)
    const auth = await this.#bearer(request)
    if (!auth) return json({ error_key: 'unauthorized', error_message: 'Unauthorized' }, 401)
    if (request.method === 'POST' && url.pathname === '/v3/contacts/sign_up_form')
      return this.#signUp(request)
    if (request.method === 'GET' && url.pathname === '/v3/account/summary')
      return json({ organization_name: 'Sandbox Bakery', contact_email: 'owner@sandbox.invalid' })
    if (request.method === 'GET' && url.pathname === '/v3/contact_lists') {
      const lists = SANDBOX_LISTS.filter((l) => !this.deletedLists.has(l.list_id))
      return json({ lists, lists_count: lists.length })
    }
    if (request.method === 'GET' && url.pathname === '/v3/contact_custom_fields')
      return json({ custom_fields: SANDBOX_CUSTOM_FIELDS })
    return json([{ error_key: 'not_found', error_message: 'Not found' }], 404)
  }

  view(): SandboxView {
    return {
      lists: SANDBOX_LISTS.map((l) => ({ ...l, deleted: this.deletedLists.has(l.list_id) })),
      contacts: [...this.contacts.values()].map((c) => ({
        email_address: c.email_address,
        list_memberships: (c.body.list_memberships as string[]) ?? [],
        updated_at: c.updated_at,
      })),
    }
  }

  async #token(request: Request): Promise<Response> {
    const form = new URLSearchParams(await request.text())
    const grant = form.get('grant_type')
    if (grant === 'authorization_code') {
      let claims: Record<string, unknown>
      try {
        ;({ payload: claims } = await jwtVerify(form.get('code') ?? '', KEY, {
          currentDate: new Date(this.#now()),
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
      if (claims.code_challenge) {
        const verifier = form.get('code_verifier') ?? ''
        if ((await pkceChallenge(verifier)) !== claims.code_challenge)
          return oauthError('invalid_grant', 'PKCE verification failed.')
      } else if (!request.headers.get('authorization')?.startsWith('Basic ')) {
        return oauthError('invalid_client', 'Client authentication failed.', 401)
      }
      return json(await this.#tokens(randomToken(12), 0))
    }
    if (grant === 'refresh_token') {
      let fam: string
      let gen: number
      try {
        const claims = decodeJwt(form.get('refresh_token') ?? '')
        await jwtVerify(form.get('refresh_token') ?? '', KEY)
        fam = String(claims.fam)
        gen = Number(claims.gen)
      } catch {
        return oauthError('invalid_grant', 'The refresh token is invalid or expired.')
      }
      const current = this.#families.get(fam) ?? gen
      if (gen !== current) {
        this.#families.set(fam, -1) // reuse of a rotated token revokes the whole family
        return oauthError('invalid_grant', 'The refresh token is invalid or expired.')
      }
      return json(await this.#tokens(fam, gen + 1))
    }
    return oauthError('unsupported_grant_type', 'grant_type is not supported.')
  }

  async #tokens(fam: string, gen: number) {
    this.#families.set(fam, gen)
    const iat = Math.floor(this.#now() / 1000)
    const access = await new SignJWT({ scp: ['account_read', 'contact_data', 'offline_access'] })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISSUER)
      .setSubject('sandbox-owner')
      .setAudience(`${SANDBOX_ORIGIN}/v3`)
      .setIssuedAt(iat)
      .setExpirationTime(iat + this.#tokenTtlSeconds)
      .setJti(randomToken(8))
      .sign(KEY)
    const refresh = await new SignJWT({ fam, gen }).setProtectedHeader({ alg: 'HS256' }).sign(KEY)
    return {
      access_token: access,
      token_type: 'Bearer',
      expires_in: this.#tokenTtlSeconds,
      refresh_token: refresh,
      scope: 'account_read contact_data offline_access',
    }
  }

  async #bearer(request: Request): Promise<boolean> {
    const token = request.headers.get('authorization')?.replace(/^Bearer /, '') ?? ''
    try {
      await jwtVerify(token, KEY, { issuer: ISSUER, currentDate: new Date(this.#now()) })
      return true
    } catch {
      return false
    }
  }

  async #signUp(request: Request): Promise<Response> {
    let body: Record<string, unknown>
    try {
      body = (await request.json()) as Record<string, unknown>
    } catch {
      return json([{ error_key: 'malformed_json', error_message: 'Malformed JSON' }], 400)
    }
    const email = typeof body.email_address === 'string' ? body.email_address.toLowerCase() : ''
    const lists = Array.isArray(body.list_memberships) ? body.list_memberships : []
    const known = new Set<string>(
      SANDBOX_LISTS.map((l) => l.list_id).filter((id) => !this.deletedLists.has(id))
    )
    if (!email || lists.length === 0 || lists.some((l) => !known.has(String(l)))) {
      return json(
        [
          {
            error_key: 'contacts.api.validation.error',
            error_message: 'email_address and known list_memberships are required',
          },
        ],
        400
      )
    }
    const existing = this.contacts.get(email)
    const contact: SandboxContact = {
      contact_id: existing?.contact_id ?? crypto.randomUUID(),
      email_address: email,
      body,
      updated_at: new Date(this.#now()).toISOString(),
    }
    this.contacts.set(email, contact)
    return json(
      { contact_id: contact.contact_id, action: existing ? 'updated' : 'created' },
      existing ? 200 : 201
    )
  }
}
