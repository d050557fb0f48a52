/**
 * Every HTML answer, from every area and every error path, carries a CSP with frame-ancestors,
 * `X-Content-Type-Options: nosniff` and a Referrer-Policy; everything carries nosniff; the owner's
 * paths (/admin…, /oauth/…, /__sandbox…), pages and JSON alike, carry `Cache-Control: no-store`.
 * One table of every route that answers HTML, including the error pages and the visitor's 4xx;
 * the sandbox's own pages, which need the sandbox's Durable Object, are in test/sandbox/.
 */
import { createExecutionContext, waitOnExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { beforeAll, describe, expect, it } from 'vitest'
import worker from '../../src/worker.ts'
import { cc, net } from '../support/edge.ts'
import {
  ADMIN_TOKEN,
  CONNECT_COOKIE,
  call,
  callback,
  connect,
  cookieFrom,
  ORIGIN,
  OWNER,
  startConnect,
} from '../support/helpers.ts'
import { expectPageHeaders } from '../support/page-headers.ts'
// The local entry (npm start's): its sandbox pages are owner pages too, checked here with the rest.
import '../../src/worker-sandbox.ts'

let session = ''

beforeAll(async () => {
  expect((await connect()).status).toBe(303)
  const login = await call('/admin/login', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: ADMIN_TOKEN }),
  })
  session = cookieFrom(login, '__Host-ctct_relay_session')
})

const HTML = { accept: 'text/html' }
const form = (body: string, headers: Record<string, string> = {}): RequestInit => ({
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded', ...HTML, ...headers },
  body,
})
const ownerPost = (body = '') => form(body, { origin: ORIGIN, cookie: session })
const visitorPost = (body: string, headers: Record<string, string> = {}) =>
  form(body, { origin: 'https://site.test', 'cf-connecting-ip': '203.0.113.5', ...headers })

/** The worker with another configuration (a sandbox, a broken key), as config-errors.test.ts. */
async function withEnv(url: string, overrides: Record<string, unknown>, init: RequestInit = {}) {
  const ctx = createExecutionContext()
  const request = new Request(url, { redirect: 'manual', ...init }) as Request<
    unknown,
    IncomingRequestCfProperties
  >
  const res = await worker.fetch(request, { ...env, ...overrides } as Env, ctx)
  await waitOnExecutionContext(ctx)
  return res
}
const SANDBOX = { CTCT_SANDBOX: '1' }
const LOCAL = 'http://localhost:8787'

/** Every route that answers HTML: [what, the request, the status it answers]. */
const PAGES: [string, () => Promise<Response>, number][] = [
  ['the sign-in page', () => call('/admin', { headers: HTML }), 200],
  ['the dashboard', () => call('/admin', { headers: { ...HTML, cookie: session } }), 200],
  ['a wrong token', () => call('/admin/login', ownerPost('token=wrong')), 401],
  [
    'a sign-in body over 16 KiB',
    () => call('/admin/login', ownerPost(`token=${'x'.repeat(17_000)}`)),
    413,
  ],
  [
    'a throttled sign-in',
    async () => {
      const from = { origin: ORIGIN, 'cf-connecting-ip': '192.0.2.99' }
      for (let i = 0; i < 10; i++) await call('/admin/login', form('token=wrong', from))
      return call('/admin/login', form(`token=${ADMIN_TOKEN}`, from))
    },
    429,
  ],
  [
    'a test sign-up',
    () => call('/admin/forms/newsletter/test', ownerPost('email=headers@example.com')),
    200,
  ],
  ['an owner action that fails', () => call('/admin/dead-letters/999/delete', ownerPost()), 404],
  ['/oauth/authorize signed out', () => call('/oauth/authorize', { headers: HTML }), 401],
  ['a callback without a state', () => call('/oauth/callback?code=x'), 400],
  ['a callback from another browser', () => call('/oauth/callback?code=x&state=y'), 400],
  [
    'a callback with CC’s error',
    async () => {
      const state = (await startConnect()).searchParams.get('state')
      return callback(`/oauth/callback?error=access_denied&state=${state}`)
    },
    400,
  ],
  [
    'a callback that connects without a refresh token',
    async () => {
      cc.omitRefreshToken = true
      const res = await callback(await net.consent(await startConnect()))
      cc.omitRefreshToken = false
      return res
    },
    200,
  ],
  ['the thank-you page', () => call('/subscribe/newsletter/thanks'), 200],
  [
    'a visitor’s invalid sign-up',
    () => call('/subscribe/newsletter', visitorPost('email=nope')),
    400,
  ],
  [
    'a visitor’s post from another origin',
    () =>
      call(
        '/subscribe/newsletter',
        visitorPost('email=a@example.com', { origin: 'https://evil.test' })
      ),
    403,
  ],
  [
    'a visitor’s body over 16 KiB',
    () => call('/subscribe/newsletter', visitorPost(`email=a@example.com&x=${'x'.repeat(17_000)}`)),
    413,
  ],
  [
    'a visitor’s unsupported body',
    () => call('/subscribe/newsletter', visitorPost('a', { 'content-type': 'text/plain' })),
    415,
  ],
  [
    'a visitor over the rate limit',
    async () => {
      const ip = { 'cf-connecting-ip': '203.0.113.77' }
      for (let i = 0; i < 10; i++) {
        await call('/subscribe/newsletter', visitorPost(`email=rate${i}@example.com`, ip))
      }
      return call('/subscribe/newsletter', visitorPost('email=rate10@example.com', ip))
    },
    429,
  ],
  [
    'a sign-up to an unknown form',
    () => call('/subscribe/nope', visitorPost('email=a@example.com')),
    404,
  ],
  [
    'a configuration error',
    () => withEnv(`${ORIGIN}/admin`, { FORMS: 'x' }, { headers: HTML }),
    500,
  ],
  [
    'the sandbox refused off loopback',
    () => withEnv(`${ORIGIN}/admin`, SANDBOX, { headers: HTML }),
    403,
  ],
  ['the sandbox’s consent page', () => withEnv(`${LOCAL}/__sandbox/authorize`, SANDBOX), 200],
  [
    'the sandbox’s pages when it is off',
    () => withEnv(`${LOCAL}/__sandbox/authorize`, {}, { headers: HTML }),
    404,
  ],
]

describe.each(PAGES)('%s', (_what, request, status) => {
  it(`answers ${status} HTML with a CSP (frame-ancestors), nosniff and a Referrer-Policy`, async () => {
    const res = await request()
    expect(res.status).toBe(status)
    expectPageHeaders(res)
  })
})

describe('the owner’s paths are never cached; everything is nosniff', () => {
  it.each<[string, () => Promise<Response>, boolean]>([
    ['/admin', () => call('/admin'), true],
    ['/admin/status (JSON)', () => call('/admin/status', { headers: OWNER }), true],
    ['/admin/status refused (JSON)', () => call('/admin/status'), true],
    [
      'POST /admin/login (303)',
      () => call('/admin/login', ownerPost(`token=${ADMIN_TOKEN}`)),
      true,
    ],
    ['/oauth/authorize (302)', () => call('/oauth/authorize', { headers: OWNER }), true],
    ['/oauth/callback', () => call('/oauth/callback'), true],
    ['/__sandbox', () => call('/__sandbox', { headers: OWNER }), true],
    [
      'a cross-site owner post (403, text)',
      () => call('/admin/logout', form('', { origin: 'https://evil.test' })),
      true,
    ],
    ['/embed.js', () => call('/embed.js'), false],
    ['/assets/app.css', () => call('/assets/app.css'), false],
    ['/healthz', () => call('/healthz'), false],
    [
      'a sign-up (JSON)',
      () =>
        call('/subscribe/newsletter', {
          ...visitorPost('email=json@example.com'),
          headers: { origin: 'https://site.test', 'content-type': 'application/json' },
          body: JSON.stringify({ email: 'json@example.com' }),
        }),
      false,
    ],
    ['an unknown path', () => call('/nope'), false],
  ])('%s', async (_what, request, owner) => {
    const res = await request()
    expect(res.headers.get('x-content-type-options')).toBe('nosniff')
    if (owner) expect(res.headers.get('cache-control')).toBe('no-store')
    else expect(res.headers.get('cache-control') ?? '').not.toBe('no-store')
  })

  it('the cookie a Connect sets is not cached either', async () => {
    const res = await call('/oauth/authorize', { headers: OWNER })
    expect(cookieFrom(res, CONNECT_COOKIE)).not.toBe('')
    expect(res.headers.get('cache-control')).toBe('no-store')
  })
})
