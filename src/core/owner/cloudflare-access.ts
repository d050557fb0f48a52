/**
 * @module core/owner/cloudflare-access
 * Cloudflare Access as an optional way to be the owner: a valid `Cf-Access-Jwt-Assertion` (RS256)
 * for this application's audience counts as the owner. The team's key set is cached: refetched
 * when 10 minutes old, and for an unknown key id at most every 30 s, so a key rotation needs no
 * restart and a flood of made-up key ids costs one fetch per 30 s.
 *
 * @example
 * const verify = createAccessVerifier({ teamDomain: 'myteam.cloudflareaccess.com', aud })
 * const isOwner = await verify(request.headers.get(ACCESS_JWT_HEADER) ?? '')
 */
import { createLocalJWKSet, importJWK, type JWK, type JWTVerifyGetKey } from 'jose'
import { verifyRs256 } from '../lib/jwt.ts'
import { fetchWithin } from '../lib/timeout.ts'

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

/**
 * One team's signing keys, as its certs endpoint last published them. Not jose's
 * createRemoteJWKSet: its cache runs on Date.now() (the injected clock could not drive it), a
 * failed refetch of a stale set refuses every token instead of keeping the keys it had, a failure
 * starts no cooldown, and on Workers it starts one fetch per request instead of sharing one.
 */
class AccessKeySet {
  readonly #url: string
  readonly #fetch: typeof fetch
  #kids = new Set<string>()
  #keys: JWTVerifyGetKey | null = null
  #fetchedAt = Number.NEGATIVE_INFINITY
  #fetching: Promise<void> | null = null

  constructor(url: string, fetchImpl: typeof fetch) {
    this.#url = url
    this.#fetch = fetchImpl
  }

  /** The keys to verify a token naming `kid` with, fetched first when due. */
  async keys(kid: string, now: number): Promise<JWTVerifyGetKey | null> {
    const age = now - this.#fetchedAt
    const due = age >= KEYS_MAX_AGE_MS || (!this.#kids.has(kid) && age >= KEYS_COOLDOWN_MS)
    if (due && !this.#fetching) {
      // Its time counts even when it fails: that is the cooldown.
      this.#fetching = this.#refresh(now).finally(() => {
        this.#fetching = null
      })
    }
    // A request that arrives during a fetch waits for it, as the one that started it does.
    if (this.#fetching) await this.#fetching
    return this.#keys
  }

  async #refresh(now: number): Promise<void> {
    this.#fetchedAt = now
    try {
      const res = await fetchWithin(KEYS_TIMEOUT_MS, (signal) => this.#fetch(this.#url, { signal }))
      if (!res.ok) return
      const body = (await res.json()) as { keys?: unknown }
      const candidates = (Array.isArray(body.keys) ? body.keys : []).filter(isRsaKeyWithId)
      // Only keys that import count, so a malformed entry never displaces a working set.
      const keys = (await Promise.all(candidates.map(importsAsRs256))).filter(
        (key): key is JWK & { kid: string } => key !== null
      )
      // An answer without a usable key leaves the ones we had: Access never publishes none.
      if (keys.length === 0) return
      // jose picks the key by kid, `alg` and `use`, and imports it on first use.
      this.#keys = createLocalJWKSet({ keys })
      this.#kids = new Set(keys.map((key) => key.kid))
    } catch {
      // Unreachable or not JSON: keep what we had, try again after the cooldown.
    }
  }
}

/** Tokens name their key by kid, so a key without one could never be used. */
function isRsaKeyWithId(jwk: unknown): jwk is JWK & { kid: string } {
  if (jwk === null || typeof jwk !== 'object') return false
  const { kty, kid } = jwk as Record<string, unknown>
  return kty === 'RSA' && typeof kid === 'string'
}

async function importsAsRs256(jwk: JWK & { kid: string }): Promise<(JWK & { kid: string }) | null> {
  try {
    await importJWK(jwk, 'RS256')
    return jwk
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
    const at = now()
    // Called by jose once the header says RS256; the key it returns must be 2048 bits or more.
    const key: JWTVerifyGetKey = async (header, token) => {
      if (typeof header.kid !== 'string') throw new Error('no kid')
      const set = await keys.keys(header.kid, at)
      if (!set) throw new Error('no key set')
      return set(header, token)
    }
    return (await verifyRs256(jwt, key, { now: at, issuer, audience })) !== null
  }
}
