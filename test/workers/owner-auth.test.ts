import { decodeJwt, type JWTPayload, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { MAX_SESSIONS } from '../../src/core/owner/sign-in-rules.ts'
import { clock } from '../support/edge.ts'
import { ADMIN_TOKEN, call, cookieFrom, ORIGIN, relay } from '../support/helpers.ts'
import { OLD_SESSION } from '../support/old-session-cookie.ts'
// The local entry (npm start's): its sandbox pages are owner pages too, checked here with the rest.
import '../../src/worker-sandbox.ts'

const SESSION = '__Host-ctct_relay_session'

/** Each case from its own network, so wrong tokens here never add up to the sign-in throttle. */
let network = 0
const fromNewNetwork = () => ({ 'cf-connecting-ip': `198.51.100.${++network}` })

function login(token: string, headers: Record<string, string> = { origin: ORIGIN }) {
  return call('/admin/login', {
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      ...fromNewNetwork(),
      ...headers,
    },
    body: new URLSearchParams({ token }),
  })
}

function sessionCookie(res: Response): string {
  return cookieFrom(res, SESSION)
}

const logout = (cookie: string) =>
  call('/admin/logout', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', cookie },
  })

describe('owner authentication', () => {
  it('shows the sign-in form to a visitor without a session', async () => {
    const res = await call('/admin', { headers: { accept: 'text/html' } })
    expect(res.status).toBe(200)
    const body = await res.text()
    expect(body).toContain('action="/admin/login"')
    expect(body).not.toContain('/oauth/authorize')
  })

  it('answers 401 to a wrong token and sets no cookie', async () => {
    const res = await login('not-the-admin-token')
    expect(res.status).toBe(401)
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it('signs the owner in with a short-lived __Host- session cookie: HttpOnly, Secure, SameSite', async () => {
    const res = await login(ADMIN_TOKEN)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/admin')
    const setCookie = res.headers.get('set-cookie') ?? ''
    expect(setCookie).toMatch(/^__Host-ctct_relay_session=/)
    expect(setCookie).toMatch(/; Path=\/(;|$)/)
    expect(setCookie).not.toMatch(/Domain=/i)
    expect(setCookie).toMatch(/HttpOnly/i)
    expect(setCookie).toMatch(/Secure/i)
    expect(setCookie).toMatch(/SameSite=Lax/i)
    expect(setCookie).toMatch(/Max-Age=28800/)
    const cookie = sessionCookie(res)
    const page = await call('/admin', { headers: { cookie } })
    expect(await page.text()).toContain('/oauth/authorize')
    expect((await call('/admin/status', { headers: { cookie } })).status).toBe(200)
  })

  it('rejects a tampered session cookie', async () => {
    const cookie = sessionCookie(await login(ADMIN_TOKEN))
    const [name, jwt] = cookie.split('=')
    const [h, p, sig] = jwt.split('.')
    const flipped = `${sig.slice(0, -2)}${sig.endsWith('AA') ? 'BB' : 'AA'}`
    const forgedPayload = btoa(JSON.stringify({ sub: 'owner', exp: 9999999999 })).replace(/=+$/, '')
    for (const bad of [`${h}.${p}.${flipped}`, `${h}.${forgedPayload}.${sig}`, 'garbage']) {
      const res = await call('/admin/status', { headers: { cookie: `${name}=${bad}` } })
      expect(res.status).toBe(401)
      const authorize = await call('/oauth/authorize', { headers: { cookie: `${name}=${bad}` } })
      expect(authorize.status).toBe(401)
      expect(authorize.headers.get('location')).toBeNull()
    }
  })

  it('accepts Authorization: Bearer <ADMIN_TOKEN> for scripts, and nothing close to it', async () => {
    expect(
      (await call('/admin/status', { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } })).status
    ).toBe(200)
    for (const wrong of [`${ADMIN_TOKEN}x`, ADMIN_TOKEN.slice(0, -1), '']) {
      const res = await call('/admin/status', {
        headers: { authorization: `Bearer ${wrong}`, ...fromNewNetwork() },
      })
      expect(res.status).toBe(401)
    }
  })

  it('ignores a session cookie under the old name (no __Host- prefix)', async () => {
    const cookie = sessionCookie(await login(ADMIN_TOKEN)).replace(SESSION, 'ctct_relay_session')
    expect((await call('/admin/status', { headers: { cookie } })).status).toBe(401)
  })

  it('refuses a cross-site login post (CSRF)', async () => {
    const res = await login(ADMIN_TOKEN, { origin: 'https://evil.test' })
    expect(res.status).toBe(403)
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it('serves admin pages with a strict Content-Security-Policy', async () => {
    const res = await call('/admin')
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).toContain("frame-ancestors 'none'")
    expect(csp).not.toContain('unsafe-inline')
  })
})

describe('sign-out ends the session where it is kept', () => {
  it('a copied cookie is refused after sign-out; other sessions go on', async () => {
    const copied = sessionCookie(await login(ADMIN_TOKEN))
    const other = sessionCookie(await login(ADMIN_TOKEN)) // another device
    expect((await call('/admin/status', { headers: { cookie: copied } })).status).toBe(200)
    const out = await logout(copied)
    expect(out.status).toBe(303)
    expect(out.headers.get('set-cookie')).toMatch(/^__Host-ctct_relay_session=;.*Max-Age=0/)
    // The signature still verifies, but the session is gone: 401 everywhere, sign-in form on
    // /admin.
    expect((await call('/admin/status', { headers: { cookie: copied } })).status).toBe(401)
    expect((await call('/oauth/authorize', { headers: { cookie: copied } })).status).toBe(401)
    const page = await (await call('/admin', { headers: { cookie: copied } })).text()
    expect(page).toContain('action="/admin/login"')
    expect((await call('/admin/status', { headers: { cookie: other } })).status).toBe(200)
  })

  it('signing out without a session just clears the cookie', async () => {
    const res = await logout(`${SESSION}=garbage`)
    expect(res.status).toBe(303)
    expect(res.headers.get('set-cookie')).toMatch(/Max-Age=0/)
  })

  it('a session ends at its expiry, with its cookie', async () => {
    const cookie = sessionCookie(await login(ADMIN_TOKEN))
    clock.advance(8 * 3600_000)
    expect((await call('/admin/status', { headers: { cookie } })).status).toBe(401)
  })

  it(`at most ${MAX_SESSIONS} sessions live: a new sign-in ends the oldest`, async () => {
    const cookies: string[] = []
    for (let i = 0; i <= MAX_SESSIONS; i++) {
      cookies.push(sessionCookie(await login(ADMIN_TOKEN)))
      clock.advance(1000)
    }
    const statuses = await Promise.all(
      cookies.map(async (cookie) => (await call('/admin/status', { headers: { cookie } })).status)
    )
    expect(statuses[0]).toBe(401)
    expect(statuses.slice(1).every((s) => s === 200)).toBe(true)
  })
})

/** Every owner-only route (the ownerOnly middleware), each with a request the owner could send. */
const OWNER_ROUTES: [method: string, path: string][] = [
  ['GET', '/admin/status'],
  ['POST', '/admin/forms/newsletter/test'],
  ['POST', '/admin/dead-letters/all/retry'],
  ['POST', '/admin/dead-letters/1/retry'],
  ['POST', '/admin/dead-letters/1/delete'],
  ['POST', '/admin/disconnect'],
  ['GET', '/oauth/authorize'],
  ['GET', '/__sandbox'],
  ['POST', '/__sandbox/lists/9e2f7d10-1111-4c3b-8e42-000000000001/delete'],
]

function ownerRequest(method: string, path: string, headers: Record<string, string>) {
  if (method === 'GET') return call(path, { headers })
  return call(path, {
    method,
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: 'email=owner.route@example.com',
  })
}

describe.each(OWNER_ROUTES)('%s %s is owner only', (method, path) => {
  it.each<[string, Record<string, string>]>([
    ['no credentials', {}],
    ['a wrong bearer token', { authorization: `Bearer ${ADMIN_TOKEN}x` }],
    ['a forged session cookie', { cookie: `${SESSION}=garbage` }],
  ])('401 unauthorized with %s, before the route runs', async (_, headers) => {
    const res = await ownerRequest(method, path, { ...headers, ...fromNewNetwork() })
    expect(res.status).toBe(401)
    expect(res.headers.get('location')).toBeNull()
    // JSON, but a page under /oauth/, where the owner is a person following redirects.
    const body = await res.text()
    if (path.startsWith('/oauth/')) expect(body).toContain('Sign-in required')
    else expect(JSON.parse(body).error).toBe('unauthorized')
  })

  it('lets the owner through to the route', async () => {
    const res = await ownerRequest(method, path, { authorization: `Bearer ${ADMIN_TOKEN}` })
    expect(res.status).not.toBe(401)
  })
})

/** The session key as owner/credentials.ts derives it, written out here so a change to it fails a test. */
async function sessionSecret(): Promise<Uint8Array> {
  const label = new TextEncoder().encode(`ctct-relay session v1\0${ADMIN_TOKEN}`)
  return new Uint8Array(await crypto.subtle.digest('SHA-256', label))
}

describe('the session cookie, checked by jose', () => {
  it('a cookie with the right key and a live session, but an iat that is not a number, is 401', async () => {
    const genuine = sessionCookie(await login(ADMIN_TOKEN))
    const { jti } = decodeJwt(genuine.slice(`${SESSION}=`.length))
    const at = Math.floor(clock.now() / 1000)
    const cookieWith = async (iat: unknown) =>
      `${SESSION}=${await new SignJWT({ sub: 'owner', jti, iat, exp: at + 3600 } as JWTPayload)
        .setProtectedHeader({ alg: 'HS256' })
        .sign(await sessionSecret())}`
    // The same cookie with a numeric iat is the owner's: only iat differs.
    expect(
      (await call('/admin/status', { headers: { cookie: await cookieWith(at) } })).status
    ).toBe(200)
    for (const iat of [String(at), 'now']) {
      const cookie = await cookieWith(iat)
      expect((await call('/admin/status', { headers: { cookie } })).status, iat).toBe(401)
      expect((await call('/oauth/authorize', { headers: { cookie } })).status, iat).toBe(401)
    }
  })

  it('a cookie minted by the WebCrypto code before jose still signs its owner in', async () => {
    const { MINTED_AT, ID, COOKIE } = OLD_SESSION
    clock.set(MINTED_AT + 60_000)
    await relay().openSession(ID, MINTED_AT + 8 * 3600_000)
    const cookie = `${SESSION}=${COOKIE}`
    expect((await call('/admin/status', { headers: { cookie } })).status).toBe(200)
    expect(await (await call('/admin', { headers: { cookie } })).text()).toContain(
      '/oauth/authorize'
    )
  })
})
