/**
 * @module core/owner/credentials
 * Owner credentials: a session cookie from POST /admin/login, or `Authorization: Bearer
 * <ADMIN_TOKEN>` for scripts. The cookie is a JWT signed with a key derived from ADMIN_TOKEN
 * (rotating the token signs every session out) and names a session kept in storage (sign-out
 * deletes it, so a copied cookie stops working).
 */
import type { Context } from 'hono'
import { setCookie } from 'hono/cookie'
import { timingSafeEqual } from 'hono/utils/buffer'
import type { CookieOptions } from 'hono/utils/cookie'
import { signHs256, verifyHs256 } from '../lib/jwt.ts'

/**
 * Sent as `__Host-…` (`prefix: 'host'`): Secure, Path=/ and no Domain, so no sibling subdomain can
 * set or shadow it. Browsers accept Secure cookies on http://localhost (a secure context).
 */
export const SESSION_COOKIE = 'ctct_relay_session'
export const SESSION_TTL_SECONDS = 8 * 3600

const encoder = new TextEncoder()

/**
 * The HS256 secret, derived from ADMIN_TOKEN. Any other derivation would sign every owner out
 * of every deployment that updates.
 */
async function sessionKey(adminToken: string): Promise<Uint8Array> {
  const digest = await crypto.subtle.digest(
    'SHA-256',
    encoder.encode(`ctct-relay session v1\0${adminToken}`)
  )
  return new Uint8Array(digest)
}

/** Constant time: both sides are hashed before comparing, so length leaks nothing either. */
export function adminTokenMatches(given: string, adminToken: string): Promise<boolean> {
  return timingSafeEqual(given, adminToken)
}

/** The cookie for session `id` (an HS256 JWT's `jti`); `id` must also be live in the object. */
export async function issueSession(adminToken: string, now: number, id: string): Promise<string> {
  const iat = Math.floor(now / 1000)
  const claims = { sub: 'owner', jti: id, iat, exp: iat + SESSION_TTL_SECONDS }
  return signHs256(claims, await sessionKey(adminToken))
}

/** The session id of a genuine, unexpired cookie, else null (then no storage is read). */
export async function verifySession(
  token: string,
  adminToken: string,
  now: number
): Promise<string | null> {
  const claims = await verifyHs256(token, await sessionKey(adminToken), { now, subject: 'owner' })
  return typeof claims?.jti === 'string' ? claims.jti : null
}

/**
 * Sets a `__Host-` cookie for the owner's browser: HttpOnly, Secure, Path=/. Lax, not Strict:
 * the owner arrives back from CC's consent page by a cross-site redirect, and both the session
 * and the Connect's binding cookie must come along. A null value deletes the cookie.
 */
export function setOwnerCookie(c: Context, name: string, value: string | null, maxAge = 0): void {
  const options: CookieOptions = { prefix: 'host', httpOnly: true, sameSite: 'Lax', maxAge }
  setCookie(c, name, value ?? '', options)
}
