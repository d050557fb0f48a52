/**
 * The owner's pages: the navigation; lists and custom fields from CC, drift checks (/admin/forms);
 * a form's snippet and test sign-up (/admin/forms/:formId); the connection (/admin/connection).
 */
import { beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { cc, clock } from '../support/edge.ts'
import { ADMIN_TOKEN, call, connect, ORIGIN, runOutbox, status } from '../support/helpers.ts'
import { LIST_3 } from '../support/network.ts'

let cookie = ''

beforeAll(async () => {
  // More lists than CC's default page of 50: read in one page of 500.
  for (let i = 0; i < 60; i++) {
    cc.lists.push({
      list_id: `0000ffff-0000-4000-8000-${String(i).padStart(12, '0')}`,
      name: `List ${i}`,
    })
  }
  expect((await connect()).status).toBe(303)
  const login = await call('/admin/login', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: ADMIN_TOKEN }),
  })
  cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]
})

// The events form's list was deleted in CC: the dashboard must flag the drift.
beforeEach(() => {
  cc.deletedLists.add(LIST_3)
})

const dashboard = async (path = '/admin') => {
  const res = await call(path, { headers: { cookie } })
  expect(res.status).toBe(200)
  return { res, page: await res.text() }
}

const OWNER_PAGES = [
  '/admin',
  '/admin/forms',
  '/admin/forms/newsletter',
  '/admin/forms/newsletter/signups',
  '/admin/forms/newsletter/settings',
  '/admin/forms/newsletter/changes',
  '/admin/activity',
  '/admin/connection',
  '/admin/webhooks',
]

describe('/admin/forms', () => {
  it('lists CC lists, custom fields and tags with their ids, reading 500 lists a request', async () => {
    const { page } = await dashboard('/admin/forms')
    expect(page).toContain('Newsletter <code>9e2f7d10-1111-4c3b-8e42-000000000001</code>')
    expect(page).toContain('Product updates <code>9e2f7d10-1111-4c3b-8e42-000000000002</code>')
    expect(page).toContain('List 59 <code>0000ffff-0000-4000-8000-000000000059</code>')
    expect(page).toContain('Where did you hear of us?')
    expect(page).toContain('Bread lover <code>c6915956-fde3-4081-977e-000000000002</code>')
    expect(cc.apiCalls.map((c) => c.path).filter((p) => p !== '/v3/account/summary')).toEqual([
      '/v3/contact_lists?limit=500&status=active',
      '/v3/contact_custom_fields?limit=100',
      '/v3/contact_tags?limit=500',
    ])
    // The catalog is cached: a second view spends no more of CC's quota.
    const before = cc.apiCalls.length
    await dashboard('/admin/forms')
    expect(cc.apiCalls).toHaveLength(before)
  })

  it('spends the same daily quota as sign-ups', async () => {
    const outbox = (await status()).outbox as { quota_used_today: number }
    expect(outbox.quota_used_today).toBeGreaterThanOrEqual(3)
  })

  it('flags a profile whose list id the account does not have, there and on the Overview', async () => {
    const { page } = await dashboard('/admin/forms')
    const events = page.slice(page.indexOf('data-form="events"'))
    expect(events.slice(0, 800)).toContain('data-check="drift"')
    expect(events.slice(0, 800)).toContain('9e2f7d10-1111-4c3b-8e42-000000000003')
    const newsletter = page.slice(page.indexOf('data-form="newsletter"'))
    expect(newsletter.slice(0, 600)).toContain('data-check="ok"')
    const overview = (await dashboard()).page
    const needs = overview.slice(overview.indexOf('id="needs-you"'))
    expect(needs.slice(0, 1500)).toMatch(
      /data-problem="form"><a href="\/admin\/forms\/events">events<\/a> uses a list/
    )
    expect(needs.slice(0, 1500)).not.toContain('href="/admin/forms/newsletter"')
  })

  it('warns on every form without Turnstile, and only on those', async () => {
    const { page } = await dashboard('/admin/forms')
    const card = (form: string) => {
      const start = page.indexOf(`data-form="${form}"`)
      return page.slice(start, page.indexOf('</li>', start))
    }
    for (const form of ['newsletter', 'events']) {
      expect(card(form)).toContain('data-warning="no-turnstile"')
      expect(card(form)).toContain('Consent and abuse')
    }
    expect(card('protected')).not.toContain('data-warning')
  })

  it('gives a copy-paste snippet pre-filled with lists and custom-field aliases', async () => {
    const { page } = await dashboard('/admin/forms/newsletter')
    const start = page.indexOf(
      '&lt;form action=&quot;https://relay.test/subscribe/newsletter&quot;'
    )
    expect(start).toBeGreaterThan(0)
    const snippet = page.slice(start, page.indexOf('&lt;/script&gt;', start))
    expect(snippet).toContain('data-ctct-relay')
    expect(snippet).toContain(
      'value=&quot;9e2f7d10-1111-4c3b-8e42-000000000002&quot; checked&gt; Product updates'
    )
    expect(snippet).toContain('name=&quot;custom.source&quot;')
    expect(snippet).toContain('name=&quot;_gotcha&quot; hidden')
    expect(snippet).toContain('https://relay.test/embed.js')
  })

  it.each(OWNER_PAGES)('%s has no inline script or style, under a strict CSP', async (path) => {
    const { res, page } = await dashboard(path)
    // The one script is /assets/owner.js (the snippet's Copy); nothing runs inline.
    for (const tag of page.match(/<script[^>]*>/gi) ?? [])
      expect(tag).toBe('<script src="/assets/owner.js" defer="">')
    expect(page).not.toMatch(/<script[^>]*>[^<]/i)
    expect(page).not.toMatch(/style=/i)
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'; script-src 'self'; style-src 'self'")
  })

  it('offers the snippet in a read-only text area, with a Copy button that owner.js shows', async () => {
    const { page } = await dashboard('/admin/forms/newsletter')
    expect(page).toMatch(
      /<textarea id="snippet-newsletter" class="snippet" readonly="" rows="\d+" spellcheck="false" data-copy-source="true">&lt;form action=&quot;https:\/\/relay.test\/subscribe\/newsletter&quot;/
    )
    expect(page).toContain('<button type="button" data-copy="snippet-newsletter" hidden="">')
    const script = await call('/assets/owner.js')
    expect(script.headers.get('content-type')).toContain('javascript')
    const source = await script.text()
    expect(source).toContain("querySelectorAll('button[data-copy]')")
    expect(source).toContain('navigator.clipboard.writeText(area.value)')
  })

  it('sends a test sign-up through the real relay path and shows the answer', async () => {
    clock.advance(1100) // the catalog reads' pacing slots have rested
    cc.signupCalls = []
    const res = await call('/admin/forms/newsletter/test', {
      method: 'POST',
      headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=owner.test@example.com',
    })
    expect(res.status).toBe(200)
    const page = await res.text()
    expect(page).toContain('data-test-status="200"')
    // In words first; the JSON a script would get is folded below.
    expect(page).toContain('<title>Test sign-up: Sent to Constant Contact · ctct-relay</title>')
    expect(page).toContain('Constant Contact took the contact now.')
    expect(page).toContain('&quot;status&quot;:&quot;delivered&quot;')
    expect(cc.signupCalls.map((c) => c.body)).toEqual([
      {
        email_address: 'owner.test@example.com',
        list_memberships: [
          '9e2f7d10-1111-4c3b-8e42-000000000001',
          '9e2f7d10-1111-4c3b-8e42-000000000002',
        ],
      },
    ])
  })

  it('a second test with the same address reaches CC again (no duplicate replay)', async () => {
    cc.signupCalls = []
    const res = await call('/admin/forms/newsletter/test', {
      method: 'POST',
      headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=owner.test@example.com',
    })
    // 200 (sent now) or 202 (queued: the dashboard's own CC reads used this second's pace).
    expect(await res.text()).toMatch(/data-test-status="20[02]"/)
    await runOutbox()
    expect(cc.signupCalls).toHaveLength(1)
  })

  it('refuses the test action to anyone but the owner', async () => {
    const res = await call('/admin/forms/newsletter/test', {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=x@example.com',
    })
    expect(res.status).toBe(401)
  })
})

describe('GET /embed.js', () => {
  it('is cacheable JavaScript, small, with no dependencies', async () => {
    const res = await call('/embed.js')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toContain('javascript')
    expect(res.headers.get('cache-control')).toContain('max-age')
    const source = await res.text()
    expect(source).toContain('form[data-ctct-relay]')
    expect(source).not.toMatch(/import |require\(|\.style\b|style=/)
    const gzipped = await new Response(
      new Blob([source]).stream().pipeThrough(new CompressionStream('gzip'))
    ).arrayBuffer()
    expect(gzipped.byteLength).toBeLessThanOrEqual(2048)
  })
})

describe('/admin: asking first', () => {
  it('asks before it disconnects: the button is inside a closed disclosure', async () => {
    const { page } = await dashboard('/admin/connection')
    expect(page).toMatch(
      /<details class="confirm"><summary>Disconnect…<\/summary>[\s\S]*?<form method="post" action="\/admin\/disconnect">/
    )
  })
})

describe('the navigation', () => {
  it.each(OWNER_PAGES)('%s carries every section and Sign out, its own marked', async (path) => {
    const { page } = await dashboard(path)
    const nav = page.slice(page.indexOf('<nav aria-label="Dashboard">'), page.indexOf('</nav>'))
    for (const [href, label] of [
      ['/admin', 'Overview'],
      ['/admin/forms', 'Forms'],
      ['/admin/activity', 'Activity'],
      ['/admin/connection', 'Connection'],
      ['/admin/webhooks', 'Webhooks'],
    ]) {
      expect(nav).toMatch(new RegExp(`<a href="${href}"( aria-current="page")?>${label}</a>`))
    }
    expect(nav).toContain('<form method="post" action="/admin/logout">')
    const current = /<a href="([^"]+)" aria-current="page">/g
    const marked = [...nav.matchAll(current)].map((m) => m[1])
    expect(marked).toEqual([path.startsWith('/admin/forms') ? '/admin/forms' : path])
  })

  it('a form of FORMS has its Settings read-only; an unknown form is 404', async () => {
    const { page } = await dashboard('/admin/forms/newsletter/settings')
    expect(page).toContain('data-source="config"')
    expect(page).toContain('&quot;origins&quot;')
    expect((await call('/admin/forms/nope', { headers: { cookie } })).status).toBe(404)
    // Signed out: the owner pages are refused.
    expect((await call('/admin/forms/newsletter')).status).toBe(401)
  })
})
