/**
 * The Cloudflare Access verifier (src/core/owner/cloudflare-access.ts), directly: JWTs signed with
 * a local RSA key, the team's key set served by MSW at https://test-team.cloudflareaccess.com/cdn-cgi/access/certs.
 */
import { exportJWK, exportSPKI, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose'
import { HttpResponse, http } from 'msw'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { parseConfig } from '../../src/core/app/config.ts'
import {
  ACCESS_JWT_HEADER,
  accessTeamOrigin,
  createAccessVerifier,
} from '../../src/core/owner/cloudflare-access.ts'
import { server } from '../support/edge.ts'
import { signRs256, weakRsaKey } from '../support/forged-jwt.ts'

const TEAM = 'test-team.cloudflareaccess.com'
const ISSUER = `https://${TEAM}`
const CERTS = `${ISSUER}/cdn-cgi/access/certs`
const AUD = '4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2'
const KID = 'access-key-1'
const WEAK_KID = 'access-key-1024'

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>
let signing: KeyPair
/** A second pair whose public half is never published. */
let stranger: KeyPair
/** A 1024-bit key, published in the team's set beside the real one. */
let weak: Awaited<ReturnType<typeof weakRsaKey>>
let jwks: { keys: JWK[] }
let certsCalls = 0

beforeAll(async () => {
  signing = await generateKeyPair('RS256', { extractable: true })
  stranger = await generateKeyPair('RS256', { extractable: true })
  weak = await weakRsaKey(WEAK_KID)
  const jwk = await exportJWK(signing.publicKey)
  jwks = { keys: [{ ...jwk, kid: KID, alg: 'RS256', use: 'sig' }, weak.jwk] }
})

beforeEach(() => {
  certsCalls = 0
  // Reset after every test by test/support/setup.ts, so registered per test.
  server.use(
    http.get(CERTS, () => {
      certsCalls++
      return HttpResponse.json(jwks)
    })
  )
})

const nowSeconds = () => Math.floor(Date.now() / 1000)

/** An Access-shaped token: Access puts `aud` as an array, plus email, type and identity_nonce. */
function token(
  overrides: { claims?: JWTPayload; kid?: string; key?: CryptoKey; exp?: number; nbf?: number } = {}
) {
  const iat = nowSeconds()
  return new SignJWT({
    email: 'owner@example.com',
    type: 'app',
    identity_nonce: 'n0nce',
    country: 'US',
    ...overrides.claims,
  })
    .setProtectedHeader({ alg: 'RS256', kid: overrides.kid ?? KID })
    .setIssuer(ISSUER)
    .setAudience([AUD])
    .setSubject('7335d417-61da-459d-899c-0a01c76a2f94')
    .setIssuedAt(iat)
    .setNotBefore(overrides.nbf ?? iat)
    .setExpirationTime(overrides.exp ?? iat + 3600)
    .sign(overrides.key ?? signing.privateKey)
}

function b64url(value: unknown): string {
  const bytes = new TextEncoder().encode(JSON.stringify(value))
  let bin = ''
  for (const b of bytes) bin += String.fromCharCode(b)
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
}

const verifier = (aud = AUD, teamDomain = TEAM) => createAccessVerifier({ teamDomain, aud })

describe('createAccessVerifier', () => {
  it('accepts a valid assertion from the team, for this application', async () => {
    expect(await verifier()(await token())).toBe(true)
  })

  it('accepts the team domain as a full https URL too', async () => {
    expect(await verifier(AUD, `${ISSUER}/`)(await token())).toBe(true)
  })

  it('accepts a token whose aud is a plain string', async () => {
    const jwt = await new SignJWT({ email: 'owner@example.com' })
      .setProtectedHeader({ alg: 'RS256', kid: KID })
      .setIssuer(ISSUER)
      .setAudience(AUD)
      .setExpirationTime('5m')
      .sign(signing.privateKey)
    expect(await verifier()(jwt)).toBe(true)
  })

  it('refuses a token for another Access application (wrong audience)', async () => {
    const other = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: KID })
      .setIssuer(ISSUER)
      .setAudience(['another-application-aud'])
      .setExpirationTime('5m')
      .sign(signing.privateKey)
    expect(await verifier()(other)).toBe(false)
    // And the same valid token is refused by a verifier configured for another audience.
    expect(await verifier('another-application-aud')(await token())).toBe(false)
  })

  it('refuses a token from another issuer', async () => {
    for (const iss of ['https://evil-team.cloudflareaccess.com', TEAM, `${ISSUER}/`]) {
      const jwt = await new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid: KID })
        .setIssuer(iss)
        .setAudience([AUD])
        .setExpirationTime('5m')
        .sign(signing.privateKey)
      expect(await verifier()(jwt), iss).toBe(false)
    }
  })

  it('refuses an expired token, and one without exp', async () => {
    expect(await verifier()(await token({ exp: nowSeconds() - 5 }))).toBe(false)
    const noExp = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: KID })
      .setIssuer(ISSUER)
      .setAudience([AUD])
      .sign(signing.privateKey)
    expect(await verifier()(noExp)).toBe(false)
  })

  it('refuses a token that is not valid yet (nbf in the future)', async () => {
    expect(await verifier()(await token({ nbf: nowSeconds() + 600 }))).toBe(false)
  })

  it('checks exp against the injected clock', async () => {
    const jwt = await token({ exp: nowSeconds() + 60 })
    const later = createAccessVerifier({
      teamDomain: TEAM,
      aud: AUD,
      now: () => Date.now() + 120_000,
    })
    expect(await later(jwt)).toBe(false)
  })

  it('refuses a token signed with a key the team never published (unknown kid)', async () => {
    const jwt = await token({ kid: 'not-a-team-key', key: stranger.privateKey })
    expect(await verifier()(jwt)).toBe(false)
  })

  it('refuses a token with a known kid but signed by another key', async () => {
    expect(await verifier()(await token({ key: stranger.privateKey }))).toBe(false)
  })

  it('refuses HS256, including one keyed with the public key (algorithm confusion)', async () => {
    const claims = () =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'HS256', kid: KID })
        .setIssuer(ISSUER)
        .setAudience([AUD])
        .setExpirationTime('5m')
    const pem = await exportSPKI(signing.publicKey)
    for (const secret of [
      new TextEncoder().encode('shared-secret'),
      new TextEncoder().encode(pem),
    ]) {
      expect(await verifier()(await claims().sign(secret))).toBe(false)
    }
  })

  it('refuses a token signed with an RSA key under 2048 bits, even one the team publishes', async () => {
    const at = nowSeconds()
    const claims = { iss: ISSUER, aud: [AUD], iat: at, nbf: at, exp: at + 600 }
    expect(
      await verifier()(await signRs256({ alg: 'RS256', kid: WEAK_KID }, claims, weak.privateKey))
    ).toBe(false)
  })

  it('refuses a token whose iat is not a number', async () => {
    for (const iat of [String(nowSeconds()), 'now', null]) {
      const jwt = await new SignJWT({ iat } as unknown as JWTPayload)
        .setProtectedHeader({ alg: 'RS256', kid: KID })
        .setIssuer(ISSUER)
        .setAudience([AUD])
        .setExpirationTime('5m')
        .sign(signing.privateKey)
      expect(await verifier()(jwt), String(iat)).toBe(false)
    }
  })

  it('refuses alg "none" (an unsigned token)', async () => {
    const payload = { iss: ISSUER, aud: [AUD], exp: nowSeconds() + 600, email: 'x@example.com' }
    const unsigned = `${b64url({ alg: 'none', kid: KID })}.${b64url(payload)}.`
    expect(await verifier()(unsigned)).toBe(false)
  })

  it('refuses garbage without throwing', async () => {
    const verify = verifier()
    for (const junk of [
      '',
      'garbage',
      'a.b.c',
      '...',
      `${'x'.repeat(9000)}`,
      'eyJhbGciOiJSUzI1NiJ9.e30.',
    ]) {
      expect(await verify(junk), junk.slice(0, 20)).toBe(false)
    }
    expect(await verify(undefined as unknown as string)).toBe(false)
  })

  it('refuses everything when the key set cannot be fetched', async () => {
    const failing = createAccessVerifier({
      teamDomain: 'down-team.cloudflareaccess.com',
      aud: AUD,
      fetch: async () => new Response('upstream error', { status: 502 }),
    })
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: 'RS256', kid: KID })
      .setIssuer('https://down-team.cloudflareaccess.com')
      .setAudience([AUD])
      .setExpirationTime('5m')
      .sign(signing.privateKey)
    expect(await failing(jwt)).toBe(false)
  })

  it('fetches the key set once per team and reuses it across verifiers', async () => {
    // A fetch of our own, so the count starts from an empty cache.
    let fetched = 0
    const countingFetch = (async (input: RequestInfo | URL, init?: RequestInit) => {
      fetched++
      return fetch(input, init)
    }) as typeof fetch
    const make = () => createAccessVerifier({ teamDomain: TEAM, aud: AUD, fetch: countingFetch })
    const jwt = await token()
    expect(await make()(jwt)).toBe(true)
    expect(await make()(jwt)).toBe(true)
    expect(await make()(await token())).toBe(true)
    expect(fetched).toBe(1)
  })

  describe('the key set over time (injected clock)', () => {
    let at = 0
    let published: { keys: JWK[] }
    let fetched = 0
    let answering = true
    let verify: (jwt: string) => Promise<boolean>
    let rotated: KeyPair

    beforeAll(async () => {
      rotated = await generateKeyPair('RS256', { extractable: true })
    })

    beforeEach(() => {
      at = Date.now()
      published = jwks
      fetched = 0
      answering = true
      // A fetch of its own per test: a cache of its own, counted from empty.
      const certs = (async () => {
        fetched++
        return answering
          ? Response.json(published)
          : new Response('upstream error', { status: 502 })
      }) as unknown as typeof fetch
      verify = createAccessVerifier({ teamDomain: TEAM, aud: AUD, fetch: certs, now: () => at })
    })

    const signedBy = (key: CryptoKey, kid: string) =>
      new SignJWT({})
        .setProtectedHeader({ alg: 'RS256', kid })
        .setIssuer(ISSUER)
        .setAudience([AUD])
        .setExpirationTime(Math.floor(at / 1000) + 3600)
        .sign(key)

    it('follows a rotation: an unknown key id fetches again, at most every 30 s', async () => {
      expect(await verify(await signedBy(signing.privateKey, KID))).toBe(true)
      expect(fetched).toBe(1)
      const jwk = await exportJWK(rotated.publicKey)
      published = { keys: [{ ...jwk, kid: 'access-key-2', alg: 'RS256', use: 'sig' }] }

      at += 10_000 // within the cooldown: the new key id is not looked up yet
      expect(await verify(await signedBy(rotated.privateKey, 'access-key-2'))).toBe(false)
      expect(fetched).toBe(1)
      at += 21_000
      expect(await verify(await signedBy(rotated.privateKey, 'access-key-2'))).toBe(true)
      expect(fetched).toBe(2)
      // The retired key is gone with the old set.
      expect(await verify(await signedBy(signing.privateKey, KID))).toBe(false)

      // A flood of made-up key ids over 40 s: one fetch, when the cooldown is over.
      for (let i = 0; i < 20; i++) {
        at += 2000
        expect(await verify(await signedBy(stranger.privateKey, `made-up-${i}`))).toBe(false)
      }
      expect(fetched).toBe(3)
    })

    it('fetches a set older than 10 minutes again, and keeps it when that fails', async () => {
      const jwt = await signedBy(signing.privateKey, KID)
      expect(await verify(jwt)).toBe(true)
      at += 9 * 60_000
      expect(await verify(jwt)).toBe(true)
      expect(fetched).toBe(1)
      at += 60_000
      answering = false
      expect(await verify(jwt)).toBe(true) // the keys it had still verify
      expect(fetched).toBe(2)
      expect(await verify(jwt)).toBe(true) // and the failure is not retried at once
      expect(fetched).toBe(2)
    })

    it('keeps its keys when a refetch publishes only keys that do not import', async () => {
      const jwt = await signedBy(signing.privateKey, KID)
      expect(await verify(jwt)).toBe(true)
      // RSA entries with key ids but no usable modulus: nothing to verify with.
      published = {
        keys: [
          { kty: 'RSA', kid: 'broken-1', n: 'not base64url!', e: 'AQAB' },
          { kty: 'RSA', kid: 'broken-2', e: 'AQAB' },
        ],
      }
      at += 10 * 60_000
      expect(await verify(jwt)).toBe(true)
      expect(fetched).toBe(2)
    })

    it('shares one fetch between requests that arrive together', async () => {
      const jwt = await signedBy(signing.privateKey, KID)
      const all = await Promise.all(Array.from({ length: 10 }, () => verify(jwt)))
      expect(all).toEqual(Array(10).fill(true))
      expect(fetched).toBe(1)
    })

    it('refuses a token whose payload was changed after signing', async () => {
      const [h, , sig] = (await signedBy(signing.privateKey, KID)).split('.')
      const forged = b64url({ iss: ISSUER, aud: [AUD], exp: Math.floor(at / 1000) + 60 })
      expect(await verify(`${h}.${forged}.${sig}`)).toBe(false)
    })
  })

  it('uses the default fetch through the module-level cache', async () => {
    await verifier()(await token())
    const before = certsCalls
    for (let i = 0; i < 3; i++) expect(await verifier()(await token())).toBe(true)
    expect(certsCalls).toBe(before)
  })

  it('refuses to be built with an unusable team domain or an empty audience', () => {
    expect(() => createAccessVerifier({ teamDomain: 'not a domain', aud: AUD })).toThrow()
    expect(() => createAccessVerifier({ teamDomain: TEAM, aud: '  ' })).toThrow()
  })
})

describe('accessTeamOrigin', () => {
  it.each([
    ['myteam.cloudflareaccess.com', 'https://myteam.cloudflareaccess.com'],
    ['https://myteam.cloudflareaccess.com', 'https://myteam.cloudflareaccess.com'],
    ['https://MyTeam.cloudflareaccess.com/', 'https://myteam.cloudflareaccess.com'],
    [' access.example.com ', 'https://access.example.com'],
  ])('%s → %s', (input, origin) => {
    expect(accessTeamOrigin(input)).toBe(origin)
  })

  it('names the header Access sets', () => {
    expect(ACCESS_JWT_HEADER).toBe('cf-access-jwt-assertion')
  })
})

describe('config: ACCESS_TEAM_DOMAIN and ACCESS_AUD', () => {
  const base = {
    CC_CLIENT_ID: 'client',
    ADMIN_TOKEN: 'an-admin-token-of-some-length',
    FORMS: '{}',
  }

  it('are optional', () => {
    const config = parseConfig(base)
    expect(config.ACCESS_TEAM_DOMAIN).toBeUndefined()
    expect(config.ACCESS_AUD).toBeUndefined()
    expect(
      parseConfig({ ...base, ACCESS_TEAM_DOMAIN: '', ACCESS_AUD: '' }).ACCESS_AUD
    ).toBeUndefined()
  })

  it('keep the team domain as a bare host name', () => {
    const config = parseConfig({ ...base, ACCESS_TEAM_DOMAIN: `${ISSUER}/`, ACCESS_AUD: AUD })
    expect(config.ACCESS_TEAM_DOMAIN).toBe(TEAM)
    expect(config.ACCESS_AUD).toBe(AUD)
  })

  it.each([
    [{ ACCESS_TEAM_DOMAIN: TEAM }, 'ACCESS_AUD'],
    [{ ACCESS_AUD: AUD }, 'ACCESS_TEAM_DOMAIN'],
    [{ ACCESS_TEAM_DOMAIN: 'not a domain', ACCESS_AUD: AUD }, 'ACCESS_TEAM_DOMAIN'],
    [
      { ACCESS_TEAM_DOMAIN: 'https://team.example.com/path', ACCESS_AUD: AUD },
      'ACCESS_TEAM_DOMAIN',
    ],
    [{ ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: 'has spaces in it' }, 'ACCESS_AUD'],
  ])('%o → config_invalid naming %s', (overrides, key) => {
    let error: unknown
    try {
      parseConfig({ ...base, ...overrides })
    } catch (err) {
      error = err
    }
    const e = error as { code: string; message: string; details: { keys: string[] } }
    expect(e.code).toBe('config_invalid')
    expect(e.details.keys).toEqual([key])
    expect(e.message).toContain(key)
    expect(e.message).not.toContain(AUD)
  })
})
