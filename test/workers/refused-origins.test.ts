/**
 * Issue #20, "refused origins are visible": a site not among a form's origins, through the real
 * entry points (OPTIONS and POST /subscribe/:formId), is counted by form and origin and in
 * `origin_not_allowed`, shown to the owner, and let in with one POST for a dashboard form; a
 * FORMS form is told what to change. Time is virtual.
 */
import { describe, expect, it } from 'vitest'
import type { MetricsReport } from '../../src/core/metrics/metrics.ts'
import { NO_ORIGIN, ORIGINS_PER_FORM_DAY, OTHER_ORIGINS } from '../../src/core/origins/refusals.ts'
import type { RefusalLine } from '../../src/core/origins/refused-origins.tsx'
import { call, connectedWithSettledOutbox, ORIGIN, OWNER, relay } from '../support/helpers.ts'
import { LIST_2 } from '../support/network.ts'

let ip = 0

const preflight = (form: string, origin: string) =>
  call(`/subscribe/${form}`, {
    method: 'OPTIONS',
    headers: { origin, 'access-control-request-method': 'POST' },
  })

/** A visitor's JSON sign-up with these headers (Origin, Referer, or neither). */
const signup = (form: string, headers: Record<string, string>, email = 'a@example.com') =>
  call(`/subscribe/${form}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'cf-connecting-ip': `198.51.100.${++ip % 250}`,
      ...headers,
    },
    body: JSON.stringify({ email }),
  })

/** What the owner reads: the refusals still to act on. */
async function refusedOrigins(): Promise<RefusalLine[]> {
  const res = await call('/admin/api/refused-origins', { headers: OWNER })
  expect(res.status).toBe(200)
  return ((await res.json()) as { refused_origins: RefusalLine[] }).refused_origins
}
const of = (lines: RefusalLine[], form: string) =>
  Object.fromEntries(lines.filter((l) => l.form_id === form).map((l) => [l.origin, l.today]))

async function originNotAllowed(form: string): Promise<number> {
  const res = await call(`/admin/api/metrics?hours=24&form=${form}`, { headers: OWNER })
  return ((await res.json()) as MetricsReport).totals.intake.origin_not_allowed
}

/** The dashboard's Add, as its button posts it (same-origin, form-encoded). */
const addOrigin = (form: string, origin: string, headers: Record<string, string> = OWNER) =>
  call(`/admin/forms/${form}/origins`, {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body: new URLSearchParams({ origin }),
  })

const errorOf = async (res: Response) => (await res.json()) as { error: string; message: string }

connectedWithSettledOutbox()

describe('counting', () => {
  it('a refused preflight and a refused post count once each, by form and origin', async () => {
    const before = await originNotAllowed('newsletter')
    expect((await preflight('newsletter', 'https://www.example.com')).status).toBe(403)
    expect((await signup('newsletter', { origin: 'https://www.example.com' })).status).toBe(403)
    // No origin at all, and `Origin: null` with a Referer (its origin is what the post names).
    expect((await signup('newsletter', {})).status).toBe(403)
    const referred = { origin: 'null', referer: 'https://ref.test/page?x=1' }
    expect((await signup('newsletter', referred)).status).toBe(403)
    // Not refusals of a form's origin: an unknown form, and an allowed origin.
    expect((await preflight('nope', 'https://www.example.com')).status).toBe(403)
    expect((await preflight('newsletter', 'https://site.test')).status).toBe(204)

    const lines = await refusedOrigins()
    expect(of(lines, 'newsletter')).toEqual({
      'https://www.example.com': 2,
      [NO_ORIGIN]: 1,
      'https://ref.test': 1,
    })
    expect(lines.filter((l) => l.form_id === 'nope')).toEqual([])
    expect(lines.find((l) => l.origin === 'https://www.example.com')).toMatchObject({
      source: 'config',
      form_origins: ['https://site.test'],
      yesterday: 0,
    })
    // The same refusals feed the counter: the preflight included.
    expect((await originNotAllowed('newsletter')) - before).toBe(4)
  })

  it('a flood of made-up origins is kept bounded per form and day', async () => {
    for (let i = 0; i < ORIGINS_PER_FORM_DAY + 10; i++) {
      expect((await preflight('events', `https://flood${i}.test`)).status).toBe(403)
    }
    const events = of(await refusedOrigins(), 'events')
    expect(Object.keys(events)).toHaveLength(ORIGINS_PER_FORM_DAY + 1)
    expect(events[OTHER_ORIGINS]).toBe(10)
  })

  it('is for the owner only', async () => {
    expect((await call('/admin/api/refused-origins')).status).toBe(401)
  })
})

describe('POST /admin/forms/:formId/origins', () => {
  const BLOG = 'https://blog.test'

  it('refused → counted → shown → added → the next sign-up from it is accepted', async () => {
    const put = await call('/admin/api/forms/spring', {
      method: 'PUT',
      headers: { ...OWNER, 'content-type': 'application/json' },
      body: JSON.stringify({ lists: [LIST_2], origins: ['https://promo.test'] }),
    })
    expect(put.status).toBe(201)
    expect((await signup('spring', { origin: BLOG }, 'blog@example.com')).status).toBe(403)
    expect((await preflight('spring', BLOG)).status).toBe(403)
    expect(of(await refusedOrigins(), 'spring')).toEqual({ [BLOG]: 2 })
    const { revision } = (await relay().form('spring')) ?? { revision: -1 }

    const added = await addOrigin('spring', BLOG)
    expect(added.status).toBe(303)
    expect(added.headers.get('location')).toBe('/admin/forms/spring?notice=origin_added')
    const form = await relay().form('spring')
    expect(form?.profile.origins).toEqual(['https://promo.test', BLOG])
    expect(form?.revision).toBeGreaterThan(revision)
    // The editor's save path: a line in the form's Changes.
    const { audit } = await relay().forms()
    expect(audit[0]).toMatchObject({ formId: 'spring', action: 'updated' })
    expect(JSON.stringify(audit[0])).toContain(`origins: +${BLOG}`)

    // Let in, by the preflight and the post; resolved, so no longer shown.
    const allowed = await preflight('spring', BLOG)
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe(BLOG)
    expect([200, 202]).toContain(
      (await signup('spring', { origin: BLOG }, 'blog@example.com')).status
    )
    expect(of(await refusedOrigins(), 'spring')).toEqual({})

    // Again: nothing to change, no new revision, the same redirect.
    const again = await addOrigin('spring', `${BLOG}/`)
    expect(again.status).toBe(303)
    expect((await relay().form('spring'))?.revision).toBe(form?.revision)
  })

  it('refuses a FORMS form, saying what to change there', async () => {
    const res = await addOrigin('newsletter', 'https://www.example.com')
    expect(res.status).toBe(409)
    const body = await errorOf(res)
    expect(body.error).toBe('form_managed_by_config')
    expect(body.message).toContain('FORMS')
    expect(body.message).toContain('redeploy')
    expect(of(await refusedOrigins(), 'newsletter')['https://www.example.com']).toBeGreaterThan(0)
  })

  it('refuses what is not an origin, with what to type', async () => {
    for (const bad of ['https://blog.test/page', 'null', '', 'blog.test']) {
      const res = await addOrigin('spring', bad)
      expect(res.status).toBe(400)
      const body = await errorOf(res)
      expect(body.error).toBe('invalid_input')
      expect(body.message).toContain('must be an origin such as https://www.example.com')
    }
    // With a guess where one can be made, in one sentence.
    const guessed = await errorOf(await addOrigin('spring', 'https://blog.test/page'))
    expect(guessed.message).toMatch(/did you mean https:\/\/blog\.test\.$/)
    expect((await relay().form('spring'))?.profile.origins).toEqual([
      'https://promo.test',
      'https://blog.test',
    ])
  })

  it('404 for an unknown form; 401 for anyone but the owner; 403 from another site', async () => {
    expect((await addOrigin('nope', 'https://a.test')).status).toBe(404)
    expect((await addOrigin('spring', 'https://a.test', {})).status).toBe(401)
    const crossSite = await addOrigin('spring', 'https://a.test', {
      ...OWNER,
      origin: 'https://evil.test',
    })
    expect(crossSite.status).toBe(403)
    expect((await relay().form('spring'))?.profile.origins).not.toContain('https://a.test')
  })
})
