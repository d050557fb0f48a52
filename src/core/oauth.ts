/**
 * @module oauth
 * Constant Contact's OAuth2 Authorization Code flow (with or without PKCE), split the
 * oauth4webapi way: functions that build requests, and pure `process…` functions that validate
 * responses. No I/O happens here, so every policy is unit-testable without a network.
 */
import { decodeJwt } from 'jose'
import * as v from 'valibot'
import type { Config } from './config.ts'

const encoder = new TextEncoder()

export function base64url(bytes: Uint8Array): string {
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

/** A random, URL-safe string with `bytes` bytes of entropy (43 characters for 32 bytes). */
export function randomToken(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)))
}

/** RFC 7636 S256: the challenge is base64url(SHA-256(verifier)). */
export async function pkceChallenge(verifier: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(verifier))))
}

export interface AuthorizeParams {
  authorizeUrl: string
  clientId: string
  redirectUri: string
  scopes: string
  state: string
  codeChallenge?: string
}

export function buildAuthorizeUrl(p: AuthorizeParams): string {
  const url = new URL(p.authorizeUrl)
  url.searchParams.set('client_id', p.clientId)
  url.searchParams.set('redirect_uri', p.redirectUri)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('state', p.state)
  if (p.codeChallenge) {
    url.searchParams.set('code_challenge', p.codeChallenge)
    url.searchParams.set('code_challenge_method', 'S256')
  }
  // CC wants spaces between scopes; URLSearchParams writes them as '+', never as a literal
  // '%2B' (which CC rejects, see the reference §10.6), so set scope last as-is.
  url.searchParams.set('scope', p.scopes)
  return url.toString()
}

export type TokenGrant =
  | { grant_type: 'authorization_code'; code: string; redirect_uri: string; code_verifier?: string }
  | { grant_type: 'refresh_token'; refresh_token: string }

type TokenClient = Pick<Config, 'CC_CLIENT_ID' | 'CC_CLIENT_SECRET' | 'CC_TOKEN_URL'>

/**
 * A confidential app (with a secret) authenticates with HTTP Basic; a public PKCE app sends its
 * client_id in the body instead. The body is always form-encoded.
 */
export function buildTokenRequest(config: TokenClient, grant: TokenGrant): Request {
  const body = new URLSearchParams()
  for (const [k, val] of Object.entries(grant)) if (val !== undefined) body.set(k, val)
  const headers = new Headers({
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  })
  if (config.CC_CLIENT_SECRET) {
    const basic = `${encodeURIComponent(config.CC_CLIENT_ID)}:${encodeURIComponent(config.CC_CLIENT_SECRET)}`
    headers.set('authorization', `Basic ${btoa(basic)}`)
  } else {
    body.set('client_id', config.CC_CLIENT_ID)
  }
  return new Request(config.CC_TOKEN_URL, { method: 'POST', headers, body })
}

const TokenResponseSchema = v.object({
  access_token: v.pipe(v.string(), v.nonEmpty()),
  token_type: v.pipe(
    v.string(),
    v.check((t) => t.toLowerCase() === 'bearer', 'token_type must be Bearer')
  ),
  expires_in: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1))),
  refresh_token: v.optional(v.pipe(v.string(), v.nonEmpty())),
  scope: v.optional(v.string()),
})

/** RFC 6749 §5.2 errors that mean the client itself is refused: fixing config is the only way. */
const CLIENT_REFUSED = new Set(['invalid_client', 'unauthorized_client', 'unsupported_grant_type'])

const OAuthErrorSchema = v.object({
  error: v.string(),
  error_description: v.optional(v.string()),
})

/** What we keep of a token response. Times are epoch milliseconds. */
export interface TokenSet {
  accessToken: string
  /** Absent when CC returned none (the app lacks `offline_access`). */
  refreshToken?: string
  expiresAt: number
  scope: string
  sub?: string
}

export type TokenEndpointFailure =
  /** The grant (code or refresh token) is dead: reconnecting is the only way forward. */
  | { kind: 'invalid_grant'; status: number; error: string; description?: string }
  /** Worth retrying later: 5xx, 429, or a body we could not read. */
  | { kind: 'transient'; status: number; error: string; description?: string }
  /** A configuration problem (invalid_client and other 4xx): retrying will not help. */
  | { kind: 'rejected'; status: number; error: string; description?: string }

export type TokenEndpointResult =
  | { ok: true; tokens: TokenSet }
  | ({ ok: false } & TokenEndpointFailure)

/**
 * Validates a token endpoint response. `exp` and `sub` come from the access token itself (a JWT
 * at CC); we decode without verifying the signature because the token came straight from the
 * token endpoint over TLS, and we only use the claims to schedule our own refresh.
 */
export async function processTokenResponse(
  response: Response,
  now: number,
  previousRefreshToken?: string
): Promise<TokenEndpointResult> {
  let body: unknown
  try {
    body = await response.json()
  } catch {
    body = undefined
  }
  if (!response.ok) {
    const parsed = v.safeParse(OAuthErrorSchema, body)
    const error = parsed.success ? parsed.output.error : `http_${response.status}`
    const description = parsed.success ? parsed.output.error_description : undefined
    const status = response.status
    if (error === 'invalid_grant')
      return { ok: false, kind: 'invalid_grant', status, error, description }
    // Only an OAuth error that says the app itself is refused is final. Anything else (5xx,
    // 429, or a 4xx page from a proxy or WAF with no OAuth error) may pass: retry with backoff.
    if (CLIENT_REFUSED.has(error))
      return { ok: false, kind: 'rejected', status, error, description }
    return { ok: false, kind: 'transient', status, error, description }
  }
  const parsed = v.safeParse(TokenResponseSchema, body)
  if (!parsed.success) {
    return {
      ok: false,
      kind: 'transient',
      status: response.status,
      error: 'invalid_token_response',
      description: `The token endpoint answered ${response.status} with a body that is not a token response`,
    }
  }
  const t = parsed.output
  let expiresAt = t.expires_in ? now + t.expires_in * 1000 : undefined
  let sub: string | undefined
  try {
    const claims = decodeJwt(t.access_token)
    if (typeof claims.exp === 'number') expiresAt = claims.exp * 1000
    if (typeof claims.sub === 'string') sub = claims.sub
  } catch {
    // Not a JWT: fall back to expires_in below.
  }
  return {
    ok: true,
    tokens: {
      accessToken: t.access_token,
      // Long-lived refresh tokens may be omitted from a refresh response: keep the one we used.
      refreshToken: t.refresh_token ?? previousRefreshToken,
      // CC documents 24 h; without exp or expires_in assume that rather than "never".
      expiresAt: expiresAt ?? now + 86_400_000,
      scope: t.scope ?? '',
      sub,
    },
  }
}

/**
 * How long before expiry we refresh: the lesser of one hour and a quarter of the token's
 * lifetime, so 24 h CC tokens refresh an hour early and 8 s test tokens 2 s early.
 */
export function refreshMargin(lifetimeMs: number): number {
  return Math.max(0, Math.min(3_600_000, Math.floor(lifetimeMs / 4)))
}
