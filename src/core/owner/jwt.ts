/**
 * @module core/owner/jwt
 * The compact JWS (RFC 7515) handling the relay needs, on WebCrypto alone:
 * - HS256, signed and verified, for the owner's session cookie (credentials.ts: our own tokens);
 * - RS256 verification, for Cloudflare Access assertions (cloudflare-access.ts);
 * - reading the claims of Constant Contact's access token, which is never verified here: CC
 *   checks it, and the relay reads only its expiry and scopes (cc/client.ts).
 *
 * Why not a JWT library: jose (used by the sandbox and the tests) covers every algorithm and key
 * type, and in the deployed bundle it weighed 8 KB of the 64 KB gzipped budget
 * (docs/benchmarks.md) for these two algorithms. What is verified here is deliberately narrow:
 * one expected `alg` per caller (never taken from the token), no `crit` extensions, `exp`
 * required, and every malformed input is "not valid", never an exception.
 */

export type JwtClaims = Record<string, unknown>

/** A compact JWS split and decoded: what is signed, the signature, and the two JSON parts. */
export interface Jws {
  header: JwtClaims
  claims: JwtClaims
  signingInput: Bytes
  signature: Bytes
}

/** Bytes WebCrypto accepts on every runtime's types (a plain ArrayBuffer behind them). */
type Bytes = Uint8Array<ArrayBuffer>

const encoder = new TextEncoder()
const utf8 = (text: string): Bytes => new Uint8Array(encoder.encode(text))
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false })

/** Strict base64url (RFC 7515 §2): its alphabet and no padding; null otherwise. */
export function base64urlDecode(text: string): Bytes | null {
  if (!/^[A-Za-z0-9_-]*$/.test(text) || text.length % 4 === 1) return null
  const binary = atob(text.replace(/-/g, '+').replace(/_/g, '/'))
  return Uint8Array.from(binary, (c) => c.charCodeAt(0))
}

export function base64urlEncode(bytes: Uint8Array): string {
  let binary = ''
  for (const byte of bytes) binary += String.fromCharCode(byte)
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

function jsonObject(bytes: Uint8Array | null): JwtClaims | null {
  if (!bytes) return null
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes))
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as JwtClaims)
      : null
  } catch {
    return null
  }
}

/** Splits and decodes a compact JWS; null for anything that is not one. */
export function parseJws(token: string): Jws | null {
  if (typeof token !== 'string') return null
  const parts = token.split('.')
  if (parts.length !== 3) return null
  const [h, p, s] = parts as [string, string, string]
  const header = jsonObject(base64urlDecode(h))
  const claims = jsonObject(base64urlDecode(p))
  const signature = base64urlDecode(s)
  if (!header || !claims || !signature) return null
  return { header, claims, signingInput: utf8(`${h}.${p}`), signature }
}

/** The claims of a JWT, unverified: for a token someone else checks (CC's access token). */
export function readClaims(token: string): JwtClaims | null {
  return parseJws(token)?.claims ?? null
}

export interface ClaimRules {
  /** Milliseconds since the epoch. */
  now: number
  issuer?: string
  /** `aud` must be it, or an array containing it. */
  audience?: string
  subject?: string
}

/**
 * `exp` is required and must be in the future, `nbf` (when present) in the past, whole seconds as
 * RFC 7519 says; then `iss`, `aud` and `sub` as asked.
 */
export function claimsHold(claims: JwtClaims, rules: ClaimRules): boolean {
  const now = Math.floor(rules.now / 1000)
  const { exp, nbf, aud } = claims
  if (typeof exp !== 'number' || !Number.isFinite(exp) || exp <= now) return false
  if (nbf !== undefined && (typeof nbf !== 'number' || !Number.isFinite(nbf) || nbf > now))
    return false
  if (rules.issuer !== undefined && claims.iss !== rules.issuer) return false
  if (rules.subject !== undefined && claims.sub !== rules.subject) return false
  if (rules.audience !== undefined) {
    const audiences = Array.isArray(aud) ? aud : [aud]
    if (!audiences.includes(rules.audience)) return false
  }
  return true
}

/** Only the algorithm the caller expects, and no extensions it would have to understand. */
export function headerIs(jws: Jws, alg: 'HS256' | 'RS256'): boolean {
  return jws.header.alg === alg && jws.header.crit === undefined
}

const HMAC = { name: 'HMAC', hash: 'SHA-256' } as const

export function hs256Key(secret: Bytes): Promise<CryptoKey> {
  return crypto.subtle.importKey('raw', secret, HMAC, false, ['sign', 'verify'])
}

export async function signHs256(claims: JwtClaims, key: CryptoKey): Promise<string> {
  const head = base64urlEncode(utf8(JSON.stringify({ alg: 'HS256' })))
  const body = base64urlEncode(utf8(JSON.stringify(claims)))
  const mac = await crypto.subtle.sign(HMAC, key, utf8(`${head}.${body}`))
  return `${head}.${body}.${base64urlEncode(new Uint8Array(mac))}`
}

/** The claims of a genuine HS256 token that meets `rules`; null otherwise. Constant time. */
export async function verifyHs256(
  token: string,
  key: CryptoKey,
  rules: ClaimRules
): Promise<JwtClaims | null> {
  const jws = parseJws(token)
  if (!jws || !headerIs(jws, 'HS256')) return null
  // WebCrypto's HMAC verify compares in constant time.
  if (!(await crypto.subtle.verify(HMAC, key, jws.signature, jws.signingInput))) return null
  return claimsHold(jws.claims, rules) ? jws.claims : null
}

export const RS256 = { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' } as const

/** Whether `jws` is signed by RSA `key`; its header and claims are the caller's to check. */
export async function rs256Signed(jws: Jws, key: CryptoKey): Promise<boolean> {
  try {
    return await crypto.subtle.verify(RS256, key, jws.signature, jws.signingInput)
  } catch {
    return false
  }
}
