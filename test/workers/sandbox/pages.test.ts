/**
 * The sandbox's pages carry every page's headers (test/workers/security-headers.test.ts has the
 * rest): a CSP with frame-ancestors, nosniff, a Referrer-Policy, and no-store on /__sandbox….
 */
import { exports } from 'cloudflare:workers'
import { expect, it } from 'vitest'
import { expectPageHeaders } from '../../support/page-headers.ts'

const ORIGIN = 'http://localhost:8787'
const OWNER = { authorization: 'Bearer test-admin-token-0123456789' }
const fetchLocal = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(new URL(path, ORIGIN), { redirect: 'manual', ...init }))

it.each<[string, () => Promise<Response>, number]>([
  ['the consent page', () => fetchLocal('/__sandbox/authorize?state=s'), 200],
  ['the lists', () => fetchLocal('/__sandbox', { headers: OWNER }), 200],
  [
    'the lists, signed out',
    () => fetchLocal('/__sandbox', { headers: { accept: 'text/html' } }),
    401,
  ],
  [
    'a consent that would leave loopback',
    () =>
      fetchLocal('/__sandbox/authorize', {
        method: 'POST',
        headers: {
          origin: ORIGIN,
          accept: 'text/html',
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'redirect_uri=https://evil.test/cb&decision=allow',
      }),
    403,
  ],
])('%s', async (_what, request, status) => {
  const res = await request()
  expect(res.status).toBe(status)
  expectPageHeaders(res)
  expect(res.headers.get('cache-control')).toBe('no-store')
})

// Sign-ups would go to the in-memory stand-in instead of Constant Contact: off a loopback host
// the sandbox refuses every request, the owner's and the visitors' alike.
it.each([
  ['the health check', new Request('https://relay.example.com/healthz')],
  [
    'a sign-up',
    new Request('https://relay.example.com/subscribe/newsletter', {
      method: 'POST',
      headers: {
        origin: 'http://localhost:8788',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'email=a@example.com',
    }),
  ],
])('refuses %s on a non-local host', async (_what, request) => {
  const res = await exports.default.fetch(request)
  expect(res.status).toBe(403)
  const body = (await res.json()) as { error: string; message: string }
  expect(body.error).toBe('sandbox_forbidden')
  expect(body.message).toContain('only runs on a local host')
})
