/**
 * @module core/owner/cloudflare-access
 * Cloudflare Access as an optional way to be the owner. When the owner puts /admin and
 * /oauth/authorize behind an Access application, Access signs every request it lets through with
 * a `Cf-Access-Jwt-Assertion` header (RS256, keys at `https://<team>/cdn-cgi/access/certs`).
 * A valid assertion for this application's audience counts as the owner.
 *
 * Runtime-agnostic: web-standard APIs only (the JWS checks are jwt.ts). The key set is fetched
 * on first use and cached per team: refetched when it is 10 minutes old, and when a token names
 * a key id it does not know, at most every 30 s, so a rotation of Access's keys needs no restart
 * and a flood of made-up key ids costs one fetch per 30 s.
 *
 * @example
 * const verify = createAccessVerifier({ teamDomain: 'myteam.cloudflareaccess.com', aud })
 * const isOwner = await verify(request.headers.get(ACCESS_JWT_HEADER) ?? '')
 */

import { fetchWithin } from '../lib/timeout.ts'
import { claimsHold, headerIs, parseJws, RS256, rs256Signed } from './jwt.ts'

/** The header Access adds to every request it forwards to the origin. */
export const ACCESS_JWT_HEADER = 'cf-access-jwt-assertion'

/** Generous for an Access JWT (about 1 KB), small enough to refuse junk before parsing it. */
const MAX_JWT_LENGTH = 8192

export interface AccessVerifierOptions {
  /** `myteam.cloudflareaccess.com` or `https://myteam.cloudflareaccess.com` (a trailing / is ok). */
  teamDomain: string
  /** The Access application's Application Audience (AUD) tag. */
  aud: string
  /** For fetching the team's key set (tests, or a runtime's own fetch). Default: global fetch. */
  fetch?: typeof fetch
  /** Milliseconds since the epoch, for `exp`/`nbf` and the key set's age. Default: Date.now. */
  now?: () => number
}

/**
 * `https://<team domain>`: the issuer Access puts in `iss`, and the origin of its key set.
 * Throws a plain Error on a value that is not a host name (programmer misuse: config.ts has
 * already validated ACCESS_TEAM_DOMAIN).
 */
export function accessTeamOrigin(teamDomain: string): string {
  const host = teamDomain
    .trim()
    .replace(/^https:\/\//i, '')
    .replace(/\/+$/, '')
    .toLowerCase()
  if (!/^([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z0-9]([a-z0-9-]*[a-z0-9])?$/.test(host)) {
    throw new Error(`Not an Access team domain: ${JSON.stringify(teamDomain)}`)
  }
  return `https://${host}`
}

/** A key set older than this is fetched again. */
const KEYS_MAX_AGE_MS = 10 * 60_000
/** The least time between two fetches of a key set, whatever tokens arrive. */
const KEYS_COOLDOWN_MS = 30_000
const KEYS_TIMEOUT_MS = 5_000

/** One team's signing keys, by key id, as its certs endpoint last published them. */
class AccessKeySet {
  readonly #url: string
  readonly #fetch: typeof fetch
  #keys = new Map<string, CryptoKey>()
  #fetchedAt = Number.NEGATIVE_INFINITY
  #fetching: Promise<void> | null = null

  constructor(url: string, fetchImpl: typeof fetch) {
    this.#url = url
    this.#fetch = fetchImpl
  }

  async key(kid: string, now: number): Promise<CryptoKey | undefined> {
    const age = now - this.#fetchedAt
    const due = age >= KEYS_MAX_AGE_MS || (!this.#keys.has(kid) && age >= KEYS_COOLDOWN_MS)
    if (due && !this.#fetching) {
      // Its time counts even when it fails: that is the cooldown.
      this.#fetching = this.#refresh(now).finally(() => {
        this.#fetching = null
      })
    }
    // A request that arrives during a fetch waits for it, as the one that started it does.
    if (this.#fetching) await this.#fetching
    return this.#keys.get(kid)
  }

  async #refresh(now: number): Promise<void> {
    this.#fetchedAt = now
    try {
      const res = await fetchWithin(KEYS_TIMEOUT_MS, (signal) => this.#fetch(this.#url, { signal }))
      if (!res.ok) return
      const body = (await res.json()) as { keys?: unknown }
      const keys = new Map<string, CryptoKey>()
      for (const jwk of Array.isArray(body.keys) ? body.keys : []) {
        const key = await rsaVerifyKey(jwk)
        if (key) keys.set(key.kid, key.key)
      }
      // An answer without a usable key leaves the ones we had: Access never publishes none.
      if (keys.size > 0) this.#keys = keys
    } catch {
      // Unreachable or not JSON: keep what we had, try again after the cooldown.
    }
  }
}

/** An RSA signing key of the set (kid, `alg` RS256 or unset, `use` sig or unset), imported. */
async function rsaVerifyKey(jwk: unknown): Promise<{ kid: string; key: CryptoKey } | null> {
  if (jwk === null || typeof jwk !== 'object') return null
  const { kty, kid, alg, use, n, e } = jwk as Record<string, unknown>
  if (kty !== 'RSA' || typeof kid !== 'string' || typeof n !== 'string' || typeof e !== 'string')
    return null
  if ((alg !== undefined && alg !== 'RS256') || (use !== undefined && use !== 'sig')) return null
  try {
    const key = await crypto.subtle.importKey('jwk', { kty, n, e }, RS256, false, ['verify'])
    return { kid, key }
  } catch {
    return null
  }
}

/** Key sets by team origin, per fetch implementation: one per isolate, shared by every request. */
const defaultFetchSets = new Map<string, AccessKeySet>()
const customFetchSets = new WeakMap<typeof fetch, Map<string, AccessKeySet>>()

function keySetFor(origin: string, fetchImpl: typeof fetch | undefined): AccessKeySet {
  let sets = defaultFetchSets
  if (fetchImpl) {
    sets = customFetchSets.get(fetchImpl) ?? new Map()
    customFetchSets.set(fetchImpl, sets)
  }
  let keys = sets.get(origin)
  if (!keys) {
    // The global fetch is read at each call, not captured here (a test may replace it).
    keys = new AccessKeySet(`${origin}/cdn-cgi/access/certs`, fetchImpl ?? ((i, o) => fetch(i, o)))
    sets.set(origin, keys)
  }
  return keys
}

/**
 * Returns `verify(jwt)`: true only for a JWT signed with RS256 by one of the team's current keys,
 * with `iss` = `https://<team domain>`, `aud` containing `aud`, and an `exp` in the future (and
 * `nbf`, when present, in the past). Every failure (bad signature, unknown key id, wrong claim,
 * expired, malformed, key set unreachable) is `false`, never an exception: Access is an extra way
 * in, so the caller falls back to its other checks.
 */
export function createAccessVerifier(
  options: AccessVerifierOptions
): (jwt: string) => Promise<boolean> {
  const issuer = accessTeamOrigin(options.teamDomain)
  const audience = options.aud.trim()
  if (!audience) throw new Error('Access audience (ACCESS_AUD) is empty')
  const keys = keySetFor(issuer, options.fetch)
  const now = options.now ?? Date.now
  return async function verifyAccessJwt(jwt: string): Promise<boolean> {
    if (typeof jwt !== 'string' || jwt.length === 0 || jwt.length > MAX_JWT_LENGTH) return false
    const jws = parseJws(jwt)
    // RS256 only: anything else (HS256, none, …) is refused before any key is looked up.
    if (!jws || !headerIs(jws, 'RS256') || typeof jws.header.kid !== 'string') return false
    const at = now()
    if (!claimsHold(jws.claims, { now: at, issuer, audience })) return false
    const key = await keys.key(jws.header.kid, at)
    return key !== undefined && (await rs256Signed(jws, key))
  }
}
