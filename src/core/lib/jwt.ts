/**
 * @module core/lib/jwt
 * JWT helpers on jose: HS256 for the owner's session cookie, RS256 for Cloudflare Access
 * assertions, and unverified reading of Constant Contact's access token (only its expiry and
 * subject; CC verifies it). Each caller pins one algorithm, `exp` is required, and every refusal
 * is null, never an exception.
 */
import { decodeJwt, type JWTPayload, type JWTVerifyGetKey, jwtVerify, SignJWT } from 'jose'

export type JwtClaims = JWTPayload

export interface ClaimRules {
  /** Milliseconds since the epoch. */
  now: number
  issuer?: string
  /** `aud` must be it, or an array containing it. */
  audience?: string
  subject?: string
}

const options = (alg: 'HS256' | 'RS256', { now, issuer, audience, subject }: ClaimRules) => ({
  algorithms: [alg],
  requiredClaims: ['exp'],
  currentDate: new Date(now),
  issuer,
  audience,
  subject,
})

/**
 * `claims` are signed as given, in their order, under the header `{"alg":"HS256"}`: the bytes
 * the relay's cookies have always had.
 */
export function signHs256(claims: JwtClaims, secret: Uint8Array): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256' }).sign(secret)
}

/** The claims of a genuine HS256 token that meets `rules`; null otherwise. */
export async function verifyHs256(
  token: string,
  secret: Uint8Array,
  rules: ClaimRules
): Promise<JwtClaims | null> {
  try {
    return (await jwtVerify(token, secret, options('HS256', rules))).payload
  } catch {
    return null
  }
}

/** The claims of a genuine RS256 token, its key found by `keys`, that meets `rules`; else null. */
export async function verifyRs256(
  token: string,
  keys: JWTVerifyGetKey,
  rules: ClaimRules
): Promise<JwtClaims | null> {
  try {
    return (await jwtVerify(token, keys, options('RS256', rules))).payload
  } catch {
    return null
  }
}

/** The claims of a JWT, unverified: for a token someone else checks (CC's access token). */
export function readClaims(token: string): JwtClaims | null {
  try {
    return decodeJwt(token)
  } catch {
    return null
  }
}
