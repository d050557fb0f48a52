/**
 * Issue #15, "the owner sees what happened": sign-ups of every outcome go through the real entry
 * points, and GET /admin/api/metrics must show exactly those deltas, per form and in total;
 * latency lands in the hour of the delivery; the Activity page draws it, and lists and exports
 * one row per sign-up with its final status and reason; 90 days later it is gone. Time is
 * virtual.
 */
import { runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { DAY_MS, HOUR_MS, hourOf, type MetricsReport } from '../../src/core/metrics/metrics.ts'
import { cc, clock } from '../support/edge.ts'
import {
  EXPECTED_DELTAS,
  ORIGINS,
  signupsOfEveryOutcome,
  ZERO_DELIVERY,
  ZERO_INTAKE,
} from '../support/every-outcome.ts'
import {
  call,
  connectedWithSettledOutbox,
  cron,
  OWNER,
  relay,
  runOutbox,
  status,
} from '../support/helpers.ts'
import { LIST_3 } from '../support/network.ts'

let ip = 0

function post(
  form: string,
  body: Record<string, unknown>,
  options: { origin?: string; ip?: string } = {}
) {
  return call(`/subscribe/${form}`, {
    method: 'POST',
    headers: {
      origin: options.origin ?? ORIGINS[form],
      'content-type': 'application/json',
      'cf-connecting-ip': options.ip ?? `203.0.113.${++ip % 250}`,
    },
    body: JSON.stringify(body),
  })
}

async function metrics(query: string): Promise<MetricsReport> {
  const res = await call(`/admin/api/metrics?${query}`, { headers: OWNER })
  expect(res.status).toBe(200)
  return res.json()
}

type Totals = MetricsReport['totals']
/** Per form (and `*` for all), the totals of the report. */
async function totals(hours = 3): Promise<Record<string, Totals>> {
  const out: Record<string, Totals> = { '*': (await metrics(`hours=${hours}`)).totals }
  for (const form of Object.keys(ORIGINS)) {
    out[form] = (await metrics(`hours=${hours}&form=${form}`)).totals
  }
  return out
}

function delta(after: Totals, before: Totals) {
  const diff = (a: Record<string, number>, b: Record<string, number>) =>
    Object.fromEntries(Object.keys(a).map((k) => [k, a[k] - b[k]]))
  return {
    intake: diff(after.intake, before.intake),
    delivery: diff(after.delivery, before.delivery),
  }
}

connectedWithSettledOutbox()

describe('GET /admin/api/metrics', () => {
  it('counts every outcome exactly, per form and in total', async () => {
    const before = await totals()
    await signupsOfEveryOutcome(post, cc)
    await runOutbox()
    // What reached CC: the refused inputs left it untouched.
    expect(cc.signupCalls.map((c) => c.body.email_address).sort()).toEqual(
      [
        'first@example.com',
        'refused@example.com',
        'later@example.com',
        'later@example.com',
        ...Array.from({ length: 10 }, (_, i) => `e${i}@example.com`),
      ].sort()
    )
    const after = await totals()
    expect(delta(after.newsletter, before.newsletter)).toEqual(EXPECTED_DELTAS.newsletter)
    expect(delta(after.protected, before.protected)).toEqual(EXPECTED_DELTAS.protected)
    expect(delta(after.events, before.events)).toEqual(EXPECTED_DELTAS.events)
    expect(delta(after['*'], before['*'])).toEqual(EXPECTED_DELTAS.all)
  })

  it('has the documented shape: one entry per hour and form, every key present', async () => {
    const report = await metrics('hours=2')
    const now = clock.now()
    expect(report.from).toBe(new Date(hourOf(now) - HOUR_MS).toISOString())
    expect(report.to).toBe(new Date(now).toISOString())
    expect(report.hours.map((h) => [h.hour, h.form])).toEqual(
      [hourOf(now) - HOUR_MS, hourOf(now)].flatMap((start) =>
        ['events', 'newsletter', 'protected'].map((form) => [new Date(start).toISOString(), form])
      )
    )
    for (const entry of report.hours) {
      expect(Object.keys(entry)).toEqual(['hour', 'form', 'intake', 'delivery', 'latency_ms'])
      expect(Object.keys(entry.intake)).toEqual(Object.keys(ZERO_INTAKE))
      expect(Object.keys(entry.delivery)).toEqual(Object.keys(ZERO_DELIVERY))
      expect(Object.keys(entry.latency_ms)).toEqual(['p50', 'p95'])
    }
    expect(Object.keys(report.totals)).toEqual(['intake', 'delivery'])
    expect(report.totals.intake.outbox_full).toBe(0)
    // The default window is 24 hours; 2,160 (90 days) is the most.
    expect((await metrics('')).hours).toHaveLength(24 * 3)
    expect((await metrics('hours=2160&form=events')).hours).toHaveLength(2160)
  })

  it('puts latency in the hour of the delivery: p50 and p95 as bucket bounds', async () => {
    // Two hours on, both still empty.
    const boundary = hourOf(clock.now()) + 2 * HOUR_MS
    clock.set(boundary - 5000)
    cc.latency = { arrive: 0, answer: 40 }
    for (const email of ['l1@example.com', 'l2@example.com', 'l3@example.com']) {
      expect((await post('newsletter', { email })).status).toBe(200)
    }
    clock.set(boundary - 1000)
    cc.signupFaults = ['throttled'] // CC answers 429: paused 2 s, then delivered
    expect((await post('newsletter', { email: 'l4@example.com' })).status).toBe(202)
    cc.latency = { arrive: 0, answer: 0 }
    await runOutbox()
    expect(clock.now()).toBeGreaterThan(boundary)

    const [earlier, later] = (await metrics('hours=2&form=newsletter')).hours
    expect(earlier.hour).toBe(new Date(boundary - HOUR_MS).toISOString())
    expect(earlier.intake.accepted).toBe(4)
    expect(earlier.delivery).toEqual({ delivered: 3, dead_lettered: 0, retried: 1 })
    expect(earlier.latency_ms).toEqual({ p50: 40, p95: 40 })
    expect(later.intake.accepted).toBe(0)
    expect(later.delivery).toEqual({ delivered: 1, dead_lettered: 0, retried: 0 })
    // Stored when CC's 429 came back, delivered once the 2 s pause was over.
    expect(later.latency_ms).toEqual({ p50: 2000, p95: 2000 })
  })

  it('refuses a bad query with 400 invalid_input, and anyone but the owner', async () => {
    for (const query of ['hours=0', 'hours=2161', 'hours=abc', 'hours=1.5', 'hours=', 'form=a/b']) {
      const res = await call(`/admin/api/metrics?${query}`, {
        headers: { ...OWNER, accept: 'text/html' },
      })
      expect(res.status, query).toBe(400)
      expect(((await res.json()) as { error: string }).error).toBe('invalid_input')
    }
    expect((await call('/admin/api/metrics')).status).toBe(401)
  })
})

describe('the outcomes the app decides itself', () => {
  it('are all counted once the owner reads, however many arrive together', async () => {
    const before = (await metrics('hours=1&form=newsletter')).totals.intake
    const posts = Array.from({ length: 30 }, (_, i) =>
      post('newsletter', { email: `b${i}@example.com`, _gotcha: 'x' })
    )
    expect((await Promise.all(posts)).map((r) => r.status)).toEqual(Array(30).fill(200))
    const after = (await metrics('hours=1&form=newsletter')).totals.intake
    expect(after.honeypot - before.honeypot).toBe(30)
    expect(cc.signupCalls).toHaveLength(0)
  })
})

describe('/admin/activity: the pictures', () => {
  const page = async (query = '') => {
    const res = await call(`/admin/activity${query}`, { headers: OWNER })
    expect(res.status).toBe(200)
    return res.text()
  }
  /** The figure of one chart: its svg, legend and table. */
  const figure = (html: string, id: string) => {
    const start = html.lastIndexOf('<figure', html.indexOf(`id="${id}-t"`))
    return html.slice(start, html.indexOf('</figure>', start))
  }

  it('draws sign-ups per day and per hour stacked by outcome, for all forms or one', async () => {
    const html = await page()
    const days = figure(html, 'chart-days')
    expect(days).toContain('role="img" aria-labelledby="chart-days-t chart-days-d"')
    expect(days).toContain(
      '<title id="chart-days-t">Sign-ups per day by outcome, all forms</title>'
    )
    // The text equivalent says what the bars show: every sign-up of these tests so far.
    expect(days).toMatch(
      /<desc id="chart-days-d">\d+ in all: accepted 17, duplicate 1, invalid input 1, honeypot 31, rate limited 1, challenge failed 1, origin not allowed 1\./
    )
    expect(days.match(/<tbody>[\s\S]*<\/tbody>/)?.[0].match(/<tr>/g)).toHaveLength(30)
    expect(days).toMatch(
      /<rect class="o-accepted" x="[\d.]+" y="[\d.]+" width="[\d.]+" height="[\d.]+"/
    )
    expect(
      figure(html, 'chart-hours')
        .match(/<tbody>[\s\S]*<\/tbody>/)?.[0]
        .match(/<tr>/g)
    ).toHaveLength(48)

    const events = figure(await page('?form=events'), 'chart-days')
    expect(events).toContain('Sign-ups per day by outcome, form events')
    expect(events).toContain('<desc id="chart-days-d">11 in all: accepted 10, rate limited 1.')
    expect(await page('?form=events')).toContain(
      '<option value="events" selected="">events</option>'
    )
  })

  it('draws deliveries with their latency, the backlog and the quota', async () => {
    const html = await page('?form=newsletter')
    const deliveries = figure(html, 'chart-deliveries')
    expect(deliveries).toContain('delivered 6, dead lettered 1, retried 2.')
    expect(deliveries).toContain('latency p95 (ms, ≤)')
    const o = (await status()).outbox as { pending: number; quota_used_today: number }
    expect(html).toContain(`Backlog (sign-ups waiting): ${o.pending} of 5000 (`)
    expect(html).toContain(
      `Constant Contact requests today (daily quota): ${o.quota_used_today} of 10000 (`
    )
  })

  it('draws the connection: refreshes, failures, reconnects', async () => {
    // The token's margin, with CC's token endpoint failing: the cron's refresh degrades.
    const expiresAt = Date.parse(String((await status()).access_token_expires_at))
    clock.set(expiresAt - 30 * 60_000)
    cc.tokenFaults = ['error500', 'error500', 'error500']
    await cron()
    expect((await status()).state).toBe('degraded')
    clock.advance(10 * 60_000) // past the backoff
    await cron()
    expect((await status()).state).toBe('connected')

    const timeline = figure(await page(), 'chart-connection')
    expect(timeline).toContain(
      '<desc id="chart-connection-d">1 refreshes, 1 failed refreshes, 1 connects, 0 disconnects. Now connected.</desc>'
    )
    expect(timeline).toContain('<rect class="o-s-degraded"')
    expect(timeline).toContain('<circle class="o-e-refresh_failed"')
    expect(timeline).toContain('<line class="o-e-refreshed"')
    const rows = timeline.match(/<tbody>[\s\S]*<\/tbody>/)?.[0] ?? ''
    expect(
      [...rows.matchAll(/<td>([^<]*)<\/td><td>([^<]*)<\/td><td>([^<]*)<\/td>/g)].map((m) =>
        m.slice(1)
      )
    ).toEqual([
      ['refresh', 'connected', ''],
      ['refresh failed', 'degraded', 'token_endpoint_error'],
      ['connect', 'connected', ''],
    ])
  })

  it('has no script and no style attribute, under the owner CSP', async () => {
    const res = await call('/admin/activity', { headers: OWNER })
    const html = await res.text()
    expect(html).not.toMatch(/<script|style=/i)
    expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
  })
})

describe('recent activity: one row per sign-up', () => {
  /** The rows of the sign-ups table: outcome, email and status text. */
  const rowsOf = (html: string) =>
    [
      ...html.matchAll(
        /<tr data-outcome="(\w+)" data-status="(\w+)"><th scope="row">.*?<\/th><td>[^<]*<\/td><td>([^<]*)<\/td><td><span[^>]*><\/span>([^<]*)<\/td>/g
      ),
    ].map(([, outcome, status, email, text]) => ({ outcome, status, email, text }))
  const activity = async (query = '') => {
    const res = await call(`/admin/activity${query}`, { headers: OWNER })
    expect(res.status).toBe(200)
    return res.text()
  }

  it('shows each sign-up once, with its final status and the reason in words', async () => {
    const html = await activity('?form=newsletter')
    expect(html).toContain('<title>Activity · ctct-relay</title>')
    expect(html).toContain('<a href="/admin/activity" aria-current="page">Activity</a>')
    const rows = rowsOf(html)
    // Queued after a 503, retried, then delivered by the outbox: three lines, one row.
    const later = rows.filter((r) => r.email === 'l•••r@example.com')
    expect(later).toEqual([
      {
        outcome: 'delivered',
        status: 'sent',
        email: 'l•••r@example.com',
        text: 'Sent to Constant Contact',
      },
    ])
    // Delivered inline: accepted and delivered in one write, one row.
    expect(rows.filter((r) => r.email === 'f•••t@example.com').map((r) => r.text)).toEqual([
      'Repeat, not sent again: the same sign-up came in moments before',
      'Sent to Constant Contact',
    ])
    const text = (outcome: string) => rows.filter((r) => r.outcome === outcome).map((r) => r.text)
    expect(text('invalid_input')).toEqual(['Refused: email — not an email address'])
    expect(text('origin_not_allowed')).toEqual(['Refused: origin https://evil.test is not allowed'])
    expect(text('honeypot')).toContain('Refused: bot trap (honeypot)')
    expect(text('dead_lettered')).toEqual([
      expect.stringMatching(/^Failed: Constant Contact answered 400 /),
    ])
    expect(text('accepted')).toEqual([])
    expect(text('retried')).toEqual([])
    expect(html).not.toContain('refused@example.com')
    // Times in the account's zone, in <time datetime>.
    expect(html).toMatch(/<th scope="row"><time datetime="[^"]+Z">[^<]+\([\w/]+\)<\/time><\/th>/)

    const challenge = rowsOf(await activity('?form=protected'))
    expect(challenge.map((r) => r.text)).toEqual([
      expect.stringMatching(/^Refused: challenge failed/),
    ])
  })

  it('filters by form and by status', async () => {
    const failed = rowsOf(await activity('?form=newsletter&status=failed'))
    expect(failed.map((r) => [r.outcome, r.email])).toEqual([
      ['dead_lettered', 'r•••d@example.com'],
    ])
    const sent = rowsOf(await activity('?status=sent'))
    expect(sent.length).toBeGreaterThanOrEqual(12)
    expect(new Set(sent.map((r) => r.status))).toEqual(new Set(['sent']))
    // The last event's outcome, as before: scripts may filter by it.
    const dead = rowsOf(await activity('?form=newsletter&outcome=dead_lettered'))
    expect(dead.map((r) => r.outcome)).toEqual(['dead_lettered'])

    // Enough sign-ups for more than a page: one, then 160 repeats of it.
    expect((await post('newsletter', { email: 'again@example.com' })).status).toBe(200)
    const repeats = Array.from({ length: 160 }, () =>
      post('newsletter', { email: 'again@example.com' })
    )
    expect(new Set((await Promise.all(repeats)).map((r) => r.status))).toEqual(new Set([200]))
    const shown = rowsOf(await activity())
    expect(shown).toHaveLength(200)
    // Newest first: the repeats, then what came before them.
    expect(shown.slice(0, 160).map((r) => r.status)).toEqual(Array(160).fill('repeat'))
  })

  it('exports the sign-ups and the dead letters as CSV, formulas neutralised', async () => {
    expect((await post('newsletter', { email: '-cmd@example.com' })).status).toBe(200)
    const res = await call('/admin/activity.csv?outcome=delivered', { headers: OWNER })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toContain('ctct-relay-activity.csv')
    const lines = (await res.text()).split('\r\n')
    // The columns from before first, in their places; the new ones after them.
    expect(lines[0]).toBe(
      'time_utc,form,outcome,email_masked,latency_ms,status,status_text,reason,updated_utc'
    )
    const now = new Date(clock.now()).toISOString()
    expect(lines[1]).toBe(
      `${now},newsletter,delivered,'-•••d@example.com,0,sent,Sent to Constant Contact,,${now}`
    )
    const refused = await (
      await call('/admin/activity.csv?form=newsletter&status=refused', { headers: OWNER })
    ).text()
    expect(refused).toContain(
      ',newsletter,invalid_input,,,refused,Refused: email — not an email address,email:emailInvalid,'
    )

    const dead = await (await call('/admin/dead-letters.csv', { headers: OWNER })).text()
    const [header, letter] = dead.split('\r\n')
    expect(header).toBe('id,form,email_masked,created_at,dead_at,status,error_key,message,kind')
    expect(letter).toMatch(/^\d+,newsletter,r•••d@example\.com,[^,]+,[^,]+,400,.*,signup$/)
  })

  it('is the owner’s only, and a bad filter is 400 invalid_input', async () => {
    for (const path of ['/admin/activity', '/admin/activity.csv', '/admin/dead-letters.csv']) {
      expect((await call(path)).status, path).toBe(401)
    }
    for (const query of ['outcome=nope', 'status=nope']) {
      const res = await call(`/admin/activity?${query}`, { headers: OWNER })
      expect(res.status, query).toBe(400)
      expect(((await res.json()) as { error: string }).error).toBe('invalid_input')
    }
  })
})

describe('the form filter', () => {
  it('offers the forms made in the dashboard too, on the activity page', async () => {
    const made = await call('/admin/api/forms/made-here', {
      method: 'PUT',
      headers: { ...OWNER, 'content-type': 'application/json' },
      body: JSON.stringify({ lists: [LIST_3], origins: ['https://made.test'] }),
    })
    expect(made.status).toBe(201)
    const option = '<option value="made-here">made-here</option>'
    expect(await (await call('/admin/activity', { headers: OWNER })).text()).toContain(option)
  })
})

describe('retention', () => {
  it('keeps the counters 90 days, then the cron deletes them', async () => {
    const at = clock.now()
    expect((await post('protected', { email: 'old@example.com', _gotcha: 'x' })).status).toBe(200)
    const honeypots = async () =>
      (await metrics('hours=2160&form=protected')).hours.find(
        (h) => h.hour === new Date(hourOf(at)).toISOString()
      )?.intake.honeypot
    expect(await honeypots()).toBe(1)
    clock.set(at + 89 * DAY_MS)
    await cron()
    expect(await honeypots()).toBe(1)

    clock.set(at + 91 * DAY_MS)
    await cron()
    const left = await runInDurableObject(relay(), (_r, state) => ({
      oldest: state.storage.sql
        .exec<{ at: number | null }>('SELECT MIN(hour) AS at FROM metrics')
        .one().at,
      activity: state.storage.sql
        .exec<{ at: number | null }>('SELECT MIN(at) AS at FROM activity')
        .one().at,
    }))
    for (const oldest of [left.oldest, left.activity]) {
      if (oldest !== null) expect(oldest).toBeGreaterThanOrEqual(clock.now() - 90 * DAY_MS)
    }
    expect(await honeypots()).toBeUndefined()
  })
})
