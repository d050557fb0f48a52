/**
 * @module owner
 * Who counts as the owner: a signed session cookie set by POST /admin/login, or
 * `Authorization: Bearer <ADMIN_TOKEN>` for scripts. The session key is derived from ADMIN_TOKEN,
 * so rotating the token signs every session out.
 */
import { timingSafeEqual } from 'hono/utils/buffer'
import { jwtVerify, SignJWT } from 'jose'

export const SESSION_COOKIE = 'ctct_relay_session'
export const SESSION_TTL_SECONDS = 8 * 3600

const encoder = new TextEncoder()

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

export async function issueSession(adminToken: string, now: number): Promise<string> {
  const iat = Math.floor(now / 1000)
  return new SignJWT({})
    .setProtectedHeader({ alg: 'HS256' })
    .setSubject('owner')
    .setIssuedAt(iat)
    .setExpirationTime(iat + SESSION_TTL_SECONDS)
    .sign(await sessionKey(adminToken))
}

export async function verifySession(
  token: string,
  adminToken: string,
  now: number
): Promise<boolean> {
  try {
    await jwtVerify(token, await sessionKey(adminToken), {
      algorithms: ['HS256'],
      subject: 'owner',
      currentDate: new Date(now),
    })
    return true
  } catch {
    return false
  }
}
