/**
 * Cloudflare Access at the HTTP level: with ACCESS_TEAM_DOMAIN and ACCESS_AUD set, a valid
 * `Cf-Access-Jwt-Assertion` makes the request the owner's on /admin and /oauth/authorize, and an
 * invalid one changes nothing. The vitest bindings have no ACCESS_* keys, so each request goes
 * through the worker's default export with an env override (as in config-errors.test.ts).
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from 'jose'
import { HttpResponse, http } from 'msw'
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import worker from '../../src/worker.ts'
import { clock, server } from '../support/edge.ts'
import { signRs256, weakRsaKey } from '../support/forged-jwt.ts'
import { ORIGIN } from '../support/helpers.ts'

const TEAM = 'test-team.cloudflareaccess.com'
const ISSUER = `https://${TEAM}`
const AUD = '9f0a8e6c1b2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f'
const KID = 'http-access-key'
const WEAK_KID = 'http-access-key-1024'

type KeyPair = Awaited<ReturnType<typeof generateKeyPair>>
let signing: KeyPair
/** A 1024-bit key the team's set publishes beside the real one. */
let weak: Awaited<ReturnType<typeof weakRsaKey>>
let jwks: { keys: JWK[] }

beforeAll(async () => {
  signing = await generateKeyPair('RS256', { extractable: true })
  weak = await weakRsaKey(WEAK_KID)
  jwks = {
    keys: [
      { ...(await exportJWK(signing.publicKey)), kid: KID, alg: 'RS256', use: 'sig' },
      weak.jwk,
    ],
  }
})

beforeEach(() => {
  server.use(http.get(`${ISSUER}/cdn-cgi/access/certs`, () => HttpResponse.json(jwks)))
})

/** One env object for the whole file: the worker caches its app (and config) per env object. */
const accessEnv = { ...env, ACCESS_TEAM_DOMAIN: TEAM, ACCESS_AUD: AUD } as Env

async function call(path: string, headers: Record<string, string> = {}, target: Env = accessEnv) {
  const ctx = createExecutionContext()
  const request = new Request(`${ORIGIN}${path}`, { headers, redirect: 'manual' })
  const res = await worker.fetch(
    request as Request<unknown, IncomingRequestCfProperties>,
    target,
    ctx
  )
  await waitOnExecutionContext(ctx)
  return res
}

function assertion(overrides: { aud?: string; exp?: number } = {}) {
  return new SignJWT({ email: 'owner@example.com', type: 'app' })
    .setProtectedHeader({ alg: 'RS256', kid: KID })
    .setIssuer(ISSUER)
    .setAudience([overrides.aud ?? AUD])
    .setIssuedAt(Math.floor(clock.now() / 1000))
    .setExpirationTime(overrides.exp ?? Math.floor(clock.now() / 1000) + 600)
    .sign(signing.privateKey)
}

const viaAccess = async (jwt?: string) => ({
  'cf-access-jwt-assertion': jwt ?? (await assertion()),
})

describe('Cloudflare Access as the owner', () => {
  it('a valid assertion reads /admin/status', async () => {
    const res = await call('/admin/status', await viaAccess())
    expect(res.status).toBe(200)
    expect(((await res.json()) as { state: string }).state).toBeTypeOf('string')
  })

  it('a valid assertion shows the dashboard, not the sign-in form', async () => {
    const res = await call('/admin', { accept: 'text/html', ...(await viaAccess()) })
    expect(res.status).toBe(200)
    expect(await res.text()).toContain('/oauth/authorize')
  })

  it('a valid assertion starts a Connect: 302 to Constant Contact', async () => {
    const res = await call('/oauth/authorize', await viaAccess())
    expect(res.status).toBe(302)
    const location = new URL(res.headers.get('location') ?? '')
    expect(location.origin).toBe('https://authz.cc.test')
    expect(location.searchParams.get('state')).toMatch(/^[\w-]{43}$/)
  })

  it('an invalid assertion is 401 on /admin/status and /oauth/authorize', async () => {
    const bad = [
      await assertion({ aud: 'another-application' }),
      await assertion({ exp: Math.floor(clock.now() / 1000) - 10 }),
      'garbage',
    ]
    for (const jwt of bad) {
      const status = await call('/admin/status', await viaAccess(jwt))
      expect(status.status).toBe(401)
      const authorize = await call('/oauth/authorize', await viaAccess(jwt))
      expect(authorize.status).toBe(401)
      expect(authorize.headers.get('location')).toBeNull()
    }
  })

  it('an assertion signed with a 1024-bit RSA key of the set is 401', async () => {
    const at = Math.floor(clock.now() / 1000)
    const claims = { email: 'owner@example.com', iss: ISSUER, aud: [AUD], iat: at, exp: at + 600 }
    const jwt = await signRs256({ alg: 'RS256', kid: WEAK_KID }, claims, weak.privateKey)
    for (const path of ['/admin/status', '/oauth/authorize']) {
      const res = await call(path, await viaAccess(jwt))
      expect(res.status, path).toBe(401)
      expect(res.headers.get('location')).toBeNull()
    }
  })

  it('an assertion whose iat is not a number is 401', async () => {
    const at = Math.floor(clock.now() / 1000)
    for (const iat of [String(at), 'now']) {
      const jwt = await new SignJWT({ email: 'owner@example.com', iat } as unknown as JWTPayload)
        .setProtectedHeader({ alg: 'RS256', kid: KID })
        .setIssuer(ISSUER)
        .setAudience([AUD])
        .setExpirationTime(at + 600)
        .sign(signing.privateKey)
      expect((await call('/admin/status', await viaAccess(jwt))).status, iat).toBe(401)
      expect((await call('/oauth/authorize', await viaAccess(jwt))).status, iat).toBe(401)
    }
  })

  it('no assertion: the other owner checks still apply (401 without, 200 with the token)', async () => {
    expect((await call('/admin/status')).status).toBe(401)
    const bearer = { authorization: `Bearer ${env.ADMIN_TOKEN}` }
    expect((await call('/admin/status', bearer)).status).toBe(200)
  })

  it('without ACCESS_* configured, even a valid assertion is ignored', async () => {
    const plain = { ...env } as Env
    const res = await call('/admin/status', await viaAccess(), plain)
    expect(res.status).toBe(401)
  })
})
