/**
 * The app's composition over a stand-in backend (no Durable Object, no Constant Contact): how
 * errors travel (Retry-After as a header, from either error handler, in every mode), and that the
 * owner's test sign-up is the visitor's acceptance minus the duplicate window, answered alike.
 */
import { describe, expect, it } from 'vitest'
import type { Submission, SubmitResult } from '../outbox/submit.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { createApp } from './app.ts'
import { parseConfig } from './config.ts'
import { AppError } from './errors.ts'

const RELAY = 'https://relay.test'
const SITE = 'https://site.test'
const ADMIN_TOKEN = 'unit-admin-token-0123456789'
const config = parseConfig({
  CC_CLIENT_ID: '0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10',
  ADMIN_TOKEN,
  FORMS: JSON.stringify({
    newsletter: { lists: ['9e2f7d10-1111-4c3b-8e42-000000000001'], origins: [SITE] },
    events: {
      lists: ['9e2f7d10-1111-4c3b-8e42-000000000003'],
      origins: ['https://events.test'],
      error_url: 'https://events.test/oops',
    },
  }),
})

/** The app over a backend whose `submit` answers `submit`, recording what it was asked. */
function appWith(submit: (s: Submission) => Promise<SubmitResult>) {
  const submissions: Submission[] = []
  const backend = {
    submit: (s: Submission) => {
      submissions.push(s)
      return submit(s)
    },
    // The owner's Bearer: right or wrong, never throttled here
    // (test/workers/owner-throttle.test.ts).
    ownerAttempt: async (_client: string, valid: boolean) => ({
      status: valid ? 'allowed' : 'refused',
    }),
  } as unknown as RelayBackend
  const app = createApp({
    config: () => config,
    backend: () => backend,
    now: Date.now,
    fetch: () => Promise.reject(new Error('no network in unit tests')),
  })
  return { app, submissions }
}

const visitorPost = (body: string, headers: Record<string, string>) =>
  new Request(`${RELAY}/subscribe/newsletter`, {
    method: 'POST',
    headers: { origin: SITE, ...headers },
    body,
  })
const visitorJson = () =>
  visitorPost('{"email":"a@example.com"}', { 'content-type': 'application/json' })
const visitorForm = () =>
  visitorPost('email=a%40example.com', { 'content-type': 'application/x-www-form-urlencoded' })
const ownerTest = (email = 'a@example.com') =>
  new Request(`${RELAY}/admin/forms/newsletter/test`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${ADMIN_TOKEN}`,
      origin: RELAY,
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ email }),
  })

/** Text as hono/jsx writes it into a page. */
const escaped = (text: string) =>
  text
    .replace(/&/g, '&amp;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')

describe('Retry-After travels as a header', () => {
  const rateLimited = () => appWith(async () => ({ status: 'rate_limited', retryAfterSeconds: 12 }))

  it('on a 429 to a script (JSON), with CORS, and not in the body', async () => {
    const res = await rateLimited().app.request(visitorJson())
    expect(res.status).toBe(429)
    expect(res.headers.get('retry-after')).toBe('12')
    expect(res.headers.get('access-control-allow-origin')).toBe(SITE)
    expect(await res.json()).toEqual({
      ok: false,
      error: 'rate_limited',
      message: 'Too many sign-ups from your network. Please wait a minute and try again.',
    })
  })

  it('on a 429 to a plain HTML form (the built-in page)', async () => {
    const res = await rateLimited().app.request(visitorForm())
    expect(res.status).toBe(429)
    expect(res.headers.get('content-type')).toContain('text/html')
    expect(res.headers.get('retry-after')).toBe('12')
    expect(res.headers.get('access-control-allow-origin')).toBe(SITE)
    expect(await res.text()).toContain('Too many sign-ups from your network.')
  })

  it('except on the 303 to a profile error_url, which names the code', async () => {
    const res = await rateLimited().app.request(`${RELAY}/subscribe/events`, {
      method: 'POST',
      headers: {
        origin: 'https://events.test',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'email=a%40example.com',
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('https://events.test/oops?error=rate_limited')
  })

  it("from the app's own onError too, as JSON and as a page", async () => {
    const { app } = appWith(async () => ({ status: 'delivered' }))
    app.get('/slow-down', () => {
      throw new AppError('rate_limited', 'Slow down', { headers: { 'retry-after': '5' } })
    })
    const json = await app.request(`${RELAY}/slow-down`)
    expect(json.status).toBe(429)
    expect(json.headers.get('retry-after')).toBe('5')
    expect(await json.json()).toEqual({ ok: false, error: 'rate_limited', message: 'Slow down' })
    const page = await app.request(`${RELAY}/slow-down`, { headers: { accept: 'text/html' } })
    expect(page.status).toBe(429)
    expect(page.headers.get('retry-after')).toBe('5')
    expect(await page.text()).toContain('<p class="message">Slow down</p>')
  })
})

describe("the owner's test sign-up", () => {
  it('alone skips the duplicate window: no env flag makes a visitor post skip it', async () => {
    const { app, submissions } = appWith(async () => ({ status: 'delivered' }))
    // The flag the test sign-up used to be dispatched with, in the env of a visitor's request.
    const visitor = await app.request(visitorJson(), undefined, { ctctRelayOwnerTest: true })
    expect(visitor.status).toBe(200)
    const test = await app.request(ownerTest())
    expect(test.status).toBe(200)
    expect(submissions.map((s) => s.skipDuplicateCheck === true)).toEqual([false, true])
    // Its own rate-limit bucket, apart from the visitors' (the same email, another client key).
    expect(submissions[0].emailHash).toBe(submissions[1].emailHash)
    expect(submissions[0].clientKey).not.toBe(submissions[1].clientKey)
  })

  it.each<[string, () => Promise<SubmitResult>, number]>([
    ['delivered', async () => ({ status: 'delivered' }), 200],
    ['queued', async () => ({ status: 'queued' }), 202],
    ['a duplicate of a queued one', async () => ({ status: 'duplicate', of: 'queued' }), 202],
    ['rate limited', async () => ({ status: 'rate_limited', retryAfterSeconds: 30 }), 429],
    ['rejected by CC', async () => ({ status: 'rejected', errorKey: 'x.y' }), 502],
    ['unavailable', () => Promise.reject(new Error('backend down')), 503],
  ])('shows the status and JSON a visitor gets: %s → %i', async (_, submit, status) => {
    const { app } = appWith(submit)
    const visitor = await app.request(visitorJson())
    expect(visitor.status).toBe(status)
    const test = await app.request(ownerTest())
    expect(test.status).toBe(status < 400 ? 200 : 400)
    const page = await test.text()
    expect(page).toContain(`data-test-status="${status}"`)
    expect(page).toContain(`<code>${escaped(await visitor.text())}</code>`)
  })

  it('shows invalid input as a visitor would get it, without calling the backend', async () => {
    const { app, submissions } = appWith(async () => ({ status: 'delivered' }))
    const res = await app.request(ownerTest('not-an-email'))
    expect(res.status).toBe(400)
    const page = await res.text()
    expect(page).toContain('data-test-status="400"')
    expect(page).toContain('&quot;error&quot;:&quot;invalid_input&quot;')
    expect(page).toContain('&quot;fields&quot;:{&quot;email&quot;:')
    expect(submissions).toHaveLength(0)
  })
})
