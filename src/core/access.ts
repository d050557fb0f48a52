/**
 * @module access
 * Cloudflare Access as an optional way to be the owner. When the owner puts /admin and
 * /oauth/authorize behind an Access application, Access signs every request it lets through with
 * a `Cf-Access-Jwt-Assertion` header (RS256, keys at `https://<team>/cdn-cgi/access/certs`).
 * A valid assertion for this application's audience counts as the owner.
 *
 * Runtime-agnostic: web-standard APIs and jose only. The key set is fetched on first use and
 * cached per team (jose refetches it when its 10-minute cache ages out, and when a token names a
 * key id it does not know, at most every 30 s), so a rotation of Access's keys needs no restart.
 *
 * @example
 * const verify = createAccessVerifier({ teamDomain: 'myteam.cloudflareaccess.com', aud })
 * const isOwner = await verify(request.headers.get(ACCESS_JWT_HEADER) ?? '')
 */
import { createRemoteJWKSet, customFetch, type JWTVerifyGetKey, jwtVerify } from 'jose'

/** The header Access adds to every request it forwards to the origin. */
export const ACCESS_JWT_HEADER = 'cf-access-jwt-assertion'

/** Access signs with RS256 only; anything else (HS256, none, …) is refused before any key use. */
const ALGORITHMS = ['RS256']

/** Generous for an Access JWT (about 1 KB), small enough to refuse junk before parsing it. */
const MAX_JWT_LENGTH = 8192

export interface AccessVerifierOptions {
  /** `myteam.cloudflareaccess.com` or `https://myteam.cloudflareaccess.com` (a trailing / is ok). */
  teamDomain: string
  /** The Access application's Application Audience (AUD) tag. */
  aud: string
  /** For fetching the team's key set (tests, or a runtime's own fetch). Default: global fetch. */
  fetch?: typeof fetch
  /** Milliseconds since the epoch, for `exp`/`nbf` checks. Default: Date.now. */
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

/** Key sets by team origin, per fetch implementation: one per isolate, shared by every request. */
const defaultFetchSets = new Map<string, JWTVerifyGetKey>()
const customFetchSets = new WeakMap<typeof fetch, Map<string, JWTVerifyGetKey>>()

function keySetFor(origin: string, fetchImpl: typeof fetch | undefined): JWTVerifyGetKey {
  let sets = defaultFetchSets
  if (fetchImpl) {
    sets = customFetchSets.get(fetchImpl) ?? new Map()
    customFetchSets.set(fetchImpl, sets)
  }
  let keys = sets.get(origin)
  if (!keys) {
    const url = new URL('/cdn-cgi/access/certs', origin)
    keys = createRemoteJWKSet(url, fetchImpl ? { [customFetch]: fetchImpl } : {})
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
  const now = options.now
  return async function verifyAccessJwt(jwt: string): Promise<boolean> {
    if (typeof jwt !== 'string' || jwt.length === 0 || jwt.length > MAX_JWT_LENGTH) return false
    try {
      await jwtVerify(jwt, keys, {
        algorithms: ALGORITHMS,
        issuer,
        audience,
        requiredClaims: ['exp'],
        currentDate: now ? new Date(now()) : undefined,
      })
      return true
    } catch {
      return false
    }
  }
}
