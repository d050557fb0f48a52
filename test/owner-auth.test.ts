import { describe, expect, it } from 'vitest'
import { ADMIN_TOKEN, call, ORIGIN } from './helpers.ts'

function login(token: string, headers: Record<string, string> = { origin: ORIGIN }) {
  return call('/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ token }),
  })
}

function sessionCookie(res: Response): string {
  const header = res.headers.get('set-cookie') ?? ''
  return header.split(';')[0]
}

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

  it('signs the owner in with a short-lived, HttpOnly, Secure, SameSite session cookie', async () => {
    const res = await login(ADMIN_TOKEN)
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/admin')
    const setCookie = res.headers.get('set-cookie') ?? ''
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
      const res = await call('/admin/status', { headers: { authorization: `Bearer ${wrong}` } })
      expect(res.status).toBe(401)
    }
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
    ['a forged session cookie', { cookie: 'ctct_relay_session=garbage' }],
  ])('401 unauthorized with %s, before the route runs', async (_, headers) => {
    const res = await ownerRequest(method, path, headers)
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
