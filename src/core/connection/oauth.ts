/**
 * @module core/connection/oauth
 * The browser side of CC's OAuth2 authorization code flow, always with PKCE (S256, as RFC 9700
 * §2.1.1 recommends even for confidential clients): states bound to the starting browser,
 * verifiers, the authorize URL. Token requests are in cc/client.ts.
 */

import { base64url } from 'jose'
import type { Config } from '../app/config.ts'

/** How long a Connect may take, from the authorize redirect to the callback. */
export const STATE_TTL_MS = 10 * 60_000

const encoder = new TextEncoder()

/** A random, URL-safe string with `bytes` bytes of entropy (43 characters for 32 bytes). */
export function randomToken(bytes = 32): string {
  return base64url.encode(crypto.getRandomValues(new Uint8Array(bytes)))
}

/** RFC 7636 S256: the challenge is base64url(SHA-256(verifier)). */
export async function pkceChallenge(verifier: string): Promise<string> {
  return base64url.encode(
    new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(verifier)))
  )
}

/**
 * A state bound to the browser that starts a Connect. The browser keeps `binding` in a cookie;
 * the state CC carries is its SHA-256 (the same transform as PKCE's S256), so a state seen in a
 * URL, a log or a history entry does not reveal the cookie, and the callback can check the pair
 * without storage: `stateMatches`.
 */
export async function boundState(): Promise<{ state: string; binding: string }> {
  const binding = randomToken(32)
  return { state: await pkceChallenge(binding), binding }
}

export async function stateMatches(state: string, binding: string | undefined): Promise<boolean> {
  return binding !== undefined && (await pkceChallenge(binding)) === state
}

/**
 * The issuer a callback's `iss` must equal (RFC 9207 §2.4: compared as strings): CC_ISSUER, or
 * else the origin of CC_AUTHORIZE_URL.
 */
export function expectedIssuer(config: Pick<Config, 'CC_ISSUER' | 'CC_AUTHORIZE_URL'>): string {
  return config.CC_ISSUER ?? new URL(config.CC_AUTHORIZE_URL).origin
}

/** An error CC sent to the callback, for a page (which escapes it): its description kept short. */
export function ccError(error: string, description: string | undefined): string {
  return description ? `${error} ("${description.slice(0, 300)}")` : error
}

export interface AuthorizeParams {
  authorizeUrl: string
  clientId: string
  redirectUri: string
  scopes: string
  state: string
  codeChallenge: string
  /** CC_PROMPT, when set. */
  prompt?: string
}

export function buildAuthorizeUrl(p: AuthorizeParams): string {
  const url = new URL(p.authorizeUrl)
  url.searchParams.set('client_id', p.clientId)
  url.searchParams.set('redirect_uri', p.redirectUri)
  url.searchParams.set('response_type', 'code')
  url.searchParams.set('state', p.state)
  url.searchParams.set('code_challenge', p.codeChallenge)
  url.searchParams.set('code_challenge_method', 'S256')
  if (p.prompt) url.searchParams.set('prompt', p.prompt)
  // CC wants spaces between scopes; URLSearchParams writes them as '+', never as a literal
  // '%2B' (which CC rejects, docs/constant-contact.md §1), so set scope last as-is.
  url.searchParams.set('scope', p.scopes)
  return url.toString()
}

/**
 * What the owner is told when a Connect brought no refresh token. With offline_access among the
 * scopes asked for, it is not the scopes: the server chose not to issue one (some do so only
 * after an explicit consent, or when the app may not have offline access).
 */
export function noRefreshTokenAdvice(requestedScopes: string): string {
  if (!requestedScopes.split(/\s+/).includes('offline_access'))
    return 'Add offline_access to CC_SCOPES (and make sure your Constant Contact app allows it), then Reconnect from /admin.'
  return 'offline_access was requested (CC_SCOPES), but the server issued no refresh token. Check that your app is allowed offline access; if the server issues refresh tokens only after an explicit consent, set CC_PROMPT to consent. Then Reconnect from /admin.'
}
