/** The owner's dashboard: lists and custom fields from CC, drift checks, snippets, test sign-up. */
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

const dashboard = async () => {
  const res = await call('/admin', { headers: { cookie } })
  expect(res.status).toBe(200)
  return { res, page: await res.text() }
}

describe('/admin', () => {
  it('lists CC lists, custom fields and tags with their ids, reading 500 lists a request', async () => {
    const { page } = await dashboard()
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
    await dashboard()
    expect(cc.apiCalls).toHaveLength(before)
  })

  it('spends the same daily quota as sign-ups', async () => {
    const outbox = (await status()).outbox as { quota_used_today: number }
    expect(outbox.quota_used_today).toBeGreaterThanOrEqual(3)
  })

  it('flags a profile whose list id the account does not have', async () => {
    const { page } = await dashboard()
    const events = page.slice(page.indexOf('data-form="events"'))
    expect(events.slice(0, 600)).toContain('data-check="drift"')
    expect(events.slice(0, 600)).toContain('9e2f7d10-1111-4c3b-8e42-000000000003')
    const newsletter = page.slice(page.indexOf('data-form="newsletter"'))
    expect(newsletter.slice(0, 300)).toContain('data-check="ok"')
  })

  it('warns on every form without Turnstile, and only on those', async () => {
    const { page } = await dashboard()
    const card = (form: string) => {
      const start = page.indexOf(`data-form="${form}"`)
      return page.slice(start, page.indexOf('</article>', start))
    }
    for (const form of ['newsletter', 'events']) {
      expect(card(form)).toContain('data-warning="no-turnstile"')
      expect(card(form)).toContain('Consent and abuse')
    }
    expect(card('protected')).not.toContain('data-warning')
  })

  it('gives a copy-paste snippet pre-filled with lists and custom-field aliases', async () => {
    const { page } = await dashboard()
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

  it('has no script and no inline style, under a strict CSP', async () => {
    const { res, page } = await dashboard()
    expect(page).not.toMatch(/<script/i)
    expect(page).not.toMatch(/style=/i)
    // default-src 'none' with no script-src: no script can run on admin pages at all.
    const csp = res.headers.get('content-security-policy') ?? ''
    expect(csp).toContain("default-src 'none'")
    expect(csp).not.toContain('script-src')
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
    expect(page).toContain('delivered')
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
    const { page } = await dashboard()
    expect(page).toMatch(
      /<details class="confirm"><summary>Disconnect…<\/summary>[\s\S]*?<form method="post" action="\/admin\/disconnect">/
    )
  })
})
