/**
 * The bounded backlog (issue #13 item 1), with OUTBOX_MAX_PENDING = 10 (vitest.config.ts): at the
 * cap a new sign-up is refused with 503 outbox_full before anything reaches CC; the stored count
 * never passes the cap; nothing accepted is dropped; the backlog alarm fires at 50 % and 90 %.
 */
import { describe, expect, it } from 'vitest'
import { SLOT_REST_MS } from '../../../src/core/cc/pacer.ts'
import { ALERT_WINDOW_MS } from '../../../src/core/relay/store-rules.ts'
import { until } from '../../support/arrivals.ts'
import { replayKeepsToTheCap } from '../../support/dead-letter-replay.ts'
import { cc, clock, net } from '../../support/edge.ts'
import {
  call,
  connectedWithSettledOutbox,
  cron,
  deployment,
  OWNER,
  outbox,
  runOutbox,
  status,
} from '../../support/helpers.ts'

let ip = 0

function submit(email: string, extra: Record<string, unknown> = {}) {
  return call('/subscribe/newsletter', {
    method: 'POST',
    headers: {
      origin: 'https://site.test',
      'content-type': 'application/json',
      'cf-connecting-ip': `198.51.100.${++ip % 250}`,
    },
    body: JSON.stringify({ email, ...extra }),
  })
}

/** A plain HTML form's post (no JS): answered with a redirect or a page, not JSON. */
function submitHtml(form: string, origin: string, email: string) {
  return call(`/subscribe/${form}`, {
    method: 'POST',
    headers: {
      origin,
      'content-type': 'application/x-www-form-urlencoded',
      'cf-connecting-ip': `198.51.100.${++ip % 250}`,
    },
    body: new URLSearchParams({ email }),
  })
}

/** Fills the backlog to `n` with CC down: every one answered 202, none delivered. */
async function fillTo(n: number, tag: string) {
  cc.down = true
  const start = (await outbox()).pending
  for (let i = start; i < n; i++) expect((await submit(`${tag}${i}@example.com`)).status).toBe(202)
  expect((await outbox()).pending).toBe(n)
}

const backlogAlerts = () =>
  net.alerts.filter((a) => a.event === 'backlog').map((a) => (a.reason as { code: string }).code)

connectedWithSettledOutbox()

describe('at the cap', () => {
  it('refuses a new sign-up with 503 outbox_full and Retry-After; nothing of it reaches CC', async () => {
    await fillTo(10, 'full')
    const reached = cc.signupCalls.length
    const res = await submit('eleventh@example.com')
    expect(res.status).toBe(503)
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0)
    const body = (await res.json()) as Record<string, unknown>
    expect(body).toMatchObject({ ok: false, error: 'outbox_full' })
    expect(String(body.message).length).toBeGreaterThan(10)
    expect(cc.signupCalls).toHaveLength(reached)
    expect((await outbox()).pending).toBe(10)

    // HTML mode: 303 to the profile's error_url, or else the built-in page.
    const withErrorUrl = await submitHtml('events', 'https://events.test', 'html-full@example.com')
    expect(withErrorUrl.status).toBe(303)
    expect(withErrorUrl.headers.get('location')).toBe('https://events.test/oops?error=outbox_full')
    const page = await submitHtml('newsletter', 'https://site.test', 'html-full2@example.com')
    expect(page.status).toBe(503)
    expect(page.headers.get('content-type')).toContain('text/html')
    expect(Number(page.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(await page.text()).toContain('Too many sign-ups are waiting to be delivered')
    expect(cc.signupCalls).toHaveLength(reached)

    // A change to a queued sign-up takes no new place: merged (newer values), even at the cap.
    expect((await submit('full3@example.com', { first_name: 'Newer' })).status).toBe(202)
    expect((await outbox()).pending).toBe(10)

    // Nothing accepted is dropped: all ten arrive once CC is back, the merged one up to date.
    cc.down = false
    await runOutbox()
    expect([...cc.contacts.keys()].sort()).toEqual(
      Array.from({ length: 10 }, (_, i) => `full${i}@example.com`).sort()
    )
    expect(cc.contacts.get('full3@example.com')?.body.first_name).toBe('Newer')
    for (const refused of ['eleventh', 'html-full', 'html-full2'])
      expect(cc.signupCalls.some((c) => c.body.email_address === `${refused}@example.com`)).toBe(
        false
      )
  })

  it('refuses even a sign-up CC would take at once: at the cap nothing new is sent', async () => {
    await fillTo(10, 'waiting')
    cc.down = false // CC is healthy again, but the ten are still waiting for their retry
    clock.advance(SLOT_REST_MS + 100)
    const reached = cc.signupCalls.length
    const res = await submit('healthy@example.com')
    expect(res.status).toBe(503)
    expect(cc.signupCalls).toHaveLength(reached)
    await runOutbox()
    expect(cc.contacts.size).toBe(10)
  })

  it('an inline send holds its place: one that CC fails is stored, and the cap still holds', async () => {
    await fillTo(9, 'nine')
    cc.down = false
    clock.advance(SLOT_REST_MS + 100)
    cc.signupFaults = ['503'] // the next sign-up reaches CC, and CC fails it
    const held = net.hold()
    const inFlight = submit('tenth@example.com')
    await until(() => cc.signupCalls.some((c) => c.body.email_address === 'tenth@example.com'))
    // The tenth place is held by the send in flight: another sign-up has none, and is not sent.
    const other = await submit('other@example.com')
    expect(other.status).toBe(503)
    expect(cc.signupCalls.some((c) => c.body.email_address === 'other@example.com')).toBe(false)
    held.release()
    expect((await inFlight).status).toBe(202) // CC failed it: stored in the place it held
    expect((await outbox()).pending).toBe(10)
    await runOutbox()
    expect(cc.contacts.has('tenth@example.com')).toBe(true)
    expect(cc.contacts.size).toBe(10)
  })
})

describe('the backlog alarm', () => {
  it('alerts once when the backlog crosses 50 % and once at 90 %, and re-arms below 25 %', async () => {
    clock.advance(ALERT_WINDOW_MS) // no other backlog alert within its window
    await fillTo(4, 'alarm')
    expect(backlogAlerts()).toEqual([])
    await fillTo(5, 'alarm')
    expect(backlogAlerts()).toEqual(['backlog_50'])
    expect(String(net.alerts.at(-1)?.text)).toContain('OUTBOX_MAX_PENDING (10)')
    await fillTo(8, 'alarm')
    clock.advance(ALERT_WINDOW_MS)
    await fillTo(9, 'alarm')
    expect(backlogAlerts()).toEqual(['backlog_50', 'backlog_90'])
    await fillTo(10, 'alarm')
    expect(backlogAlerts()).toEqual(['backlog_50', 'backlog_90'])
    // Drained: below a quarter, the alarm re-arms, and the next crossing alerts again.
    cc.down = false
    await runOutbox()
    clock.advance(ALERT_WINDOW_MS)
    await fillTo(5, 'again')
    expect(backlogAlerts()).toEqual(['backlog_50', 'backlog_90', 'backlog_50'])
    cc.down = false
    await runOutbox()
  })

  it('a crossing within 15 minutes of the last backlog alert is held, then sent by the cron', async () => {
    clock.advance(ALERT_WINDOW_MS)
    await fillTo(5, 'soon')
    await fillTo(9, 'soon')
    expect(backlogAlerts()).toEqual(['backlog_50']) // 90 % came too soon after: held back
    const alerts = (await status()).alerts as { event: string; held: number }[]
    expect(alerts.find((a) => a.event === 'backlog')?.held).toBe(1)
    clock.advance(ALERT_WINDOW_MS)
    await cron()
    expect(backlogAlerts()).toEqual(['backlog_50', 'backlog_90'])
    cc.down = false
    await runOutbox()
  })
})

describe('/admin and /admin/status', () => {
  it('show the backlog against the cap', async () => {
    await fillTo(10, 'shown')
    const figures = await outbox()
    expect([figures.pending, (figures as unknown as { max_pending: number }).max_pending]).toEqual([
      10, 10,
    ])
    const page = await (await call('/admin', { headers: { ...OWNER, accept: 'text/html' } })).text()
    const backlog = page.slice(page.indexOf('data-figure="backlog"'))
    expect(backlog.slice(0, 200)).toMatch(/10 of 10 \(OUTBOX_MAX_PENDING\)\s*: full/)
    cc.down = false
    await runOutbox()
  })
})

describe('Retry all', () => {
  it('replays only what fits under the cap, and says how many dead letters are still waiting', () =>
    replayKeepsToTheCap(deployment))
})
