/**
 * Zero lost sign-ups: the outbox in the Durable Object, against the model of CC, which enforces
 * 4 requests a second and a daily quota, and can answer 503, 429, 400 or drop the connection.
 * Time is virtual: `runOutbox()` runs the object's alarm at each wake-up it asks for.
 */

import {
  abortAllDurableObjects,
  evictDurableObject,
  runDurableObjectAlarm,
  runInDurableObject,
} from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { nextUtcMidnight } from '../../src/core/lib/utc-day.ts'
import { ALERT_WINDOW_MS } from '../../src/core/relay/store-rules.ts'
import { maxPerSecond, until } from '../support/arrivals.ts'
import { cc, clock, net } from '../support/edge.ts'
import {
  call,
  connect,
  connectedWithSettledOutbox,
  cron,
  ORIGIN,
  OWNER,
  outbox,
  relay,
  runOutbox,
  status,
} from '../support/helpers.ts'
import { LIST_1, LIST_2 } from '../support/network.ts'

let n = 0

function submit(email: string, body: Record<string, unknown> = {}) {
  return call('/subscribe/newsletter', {
    method: 'POST',
    headers: {
      origin: 'https://site.test',
      'content-type': 'application/json',
      'cf-connecting-ip': `192.0.2.${++n % 250}`,
    },
    body: JSON.stringify({ email, ...body }),
  })
}

async function submitAll(emails: string[]) {
  const responses = await Promise.all(emails.map((email) => submit(email)))
  return responses.map((r) => r.status)
}

const arrivals = () => cc.signupCalls.map((c) => c.at)
const forgetRecentSubmissions = () =>
  runInDurableObject(relay(), (_i, state) => {
    state.storage.sql.exec('DELETE FROM recent_submissions')
  })

connectedWithSettledOutbox()

describe('durable acceptance and retries', () => {
  it('a 5xx storm: every accepted sign-up is delivered after recovery, one by one', async () => {
    cc.down = true
    const emails = Array.from({ length: 8 }, (_, i) => `storm${i}@example.com`)
    const statuses = await submitAll(emails)
    expect(statuses.every((s) => s === 202)).toBe(true) // stored, never "delivered"
    expect((await outbox()).pending).toBe(8)
    // A minute of the storm: retries back off, nothing is delivered, nothing is lost.
    await runOutbox({ until: clock.now() + 60_000 })
    expect(cc.contacts.size).toBe(0)
    expect((await outbox()).pending).toBe(8)
    cc.down = false
    await runOutbox()
    expect((await outbox()).pending).toBe(0)
    expect([...cc.contacts.keys()].sort()).toEqual([...emails].sort())
    expect(maxPerSecond(arrivals())).toBeLessThanOrEqual(4)
  })

  it('a burst of 200 distinct sign-ups: all delivered, never more than 4 CC requests a second', async () => {
    const emails = Array.from({ length: 200 }, (_, i) => `burst${i}@example.com`)
    const statuses = await submitAll(emails)
    // Every answer is a success that means delivered (200) or durably stored (202).
    expect(statuses.filter((s) => s !== 200 && s !== 202)).toEqual([])
    const stored = statuses.filter((s) => s === 202).length
    expect((await outbox()).pending).toBe(stored)
    await runOutbox()
    expect(cc.contacts.size).toBe(200)
    for (const email of emails) expect(cc.contacts.has(email)).toBe(true)
    expect(maxPerSecond(arrivals())).toBeLessThanOrEqual(4)
    expect(cc.signupCalls.filter((c) => c.answered === 429)).toEqual([])
    expect(cc.signupCalls).toHaveLength(200)
  })

  it('holds the pace when CC answers slowly and unevenly', async () => {
    // Answers take 0-900 ms: a slot rests a second after each answer, not after each send.
    let i = 0
    cc.latency = { arrive: () => (i++ * 37) % 300, answer: () => (i++ * 53) % 900 }
    const emails = Array.from({ length: 40 }, (_, k) => `slow${k}@example.com`)
    expect((await submitAll(emails)).every((s) => s === 200 || s === 202)).toBe(true)
    await runOutbox()
    expect(cc.contacts.size).toBe(40)
    expect(maxPerSecond(arrivals())).toBeLessThanOrEqual(4)
    expect(cc.signupCalls.filter((c) => c.answered === 429)).toEqual([])
  })

  it('a dropped connection is retried and delivered', async () => {
    cc.signupFaults = ['drop']
    expect((await submit('dropped@example.com')).status).toBe(202)
    await runOutbox()
    expect(cc.contacts.has('dropped@example.com')).toBe(true)
  })

  it('merges queued duplicates of one email: one delivery with both lists', async () => {
    cc.down = true
    await submit('merge@example.com', { list: [LIST_1], first_name: 'Old' })
    await forgetRecentSubmissions() // past the duplicate window
    await submit('merge@example.com', { list: [LIST_2], first_name: 'New' })
    expect((await outbox()).pending).toBe(1)
    cc.down = false
    await runOutbox()
    expect(cc.contacts.get('merge@example.com')?.body).toEqual({
      email_address: 'merge@example.com',
      first_name: 'New',
      list_memberships: [LIST_1, LIST_2],
    })
  })
})

describe('parking', () => {
  it('needs_reauth: parked with no attempts burned, replayed after reconnect', async () => {
    cc.signupFaults = ['401']
    cc.tokenFaults = ['invalid_grant']
    expect((await submit('parked1@example.com')).status).toBe(202)
    expect((await status()).state).toBe('needs_reauth')
    expect((await submit('parked2@example.com')).status).toBe(202)
    expect(cc.signupCalls).toHaveLength(1)
    await runOutbox()
    clock.advance(3600_000)
    await cron()
    expect(cc.signupCalls).toHaveLength(1) // an hour later: still parked, nothing sent
    const figures = await outbox()
    expect(figures.pending).toBe(2)
    expect(figures.parked).toBe(2)
    expect((await connect()).status).toBe(303)
    await runOutbox()
    expect([...cc.contacts.keys()].sort()).toEqual(['parked1@example.com', 'parked2@example.com'])
  })

  it('quota_exceeded: parked until 00:00 UTC, then delivered when the day rolls', async () => {
    cc.quotaLeft = 0
    expect((await submit('quota1@example.com')).status).toBe(202)
    expect((await submit('quota2@example.com')).status).toBe(202)
    expect(cc.signupCalls).toHaveLength(1) // the second never reached CC
    const midnight = nextUtcMidnight(clock.now())
    const figures = await outbox()
    expect(figures.parked_until).toBe(new Date(midnight).toISOString())
    expect(figures.parked).toBe(2)
    await runOutbox({ until: midnight - 1 })
    expect(cc.signupCalls).toHaveLength(1)
    cc.quotaLeft = Number.POSITIVE_INFINITY // CC's new day
    await runOutbox()
    expect(clock.now()).toBeGreaterThanOrEqual(midnight)
    expect(cc.contacts.size).toBe(2)
  })
})

describe('dead letters', () => {
  it('a 400: a dead letter and an alert, and Retry from /admin delivers it', async () => {
    cc.down = true
    expect((await submit('deadletter@example.com')).status).toBe(202)
    cc.down = false
    cc.signupFaults = ['400']
    await runOutbox()
    expect((await outbox()).dead).toBe(1)
    expect(net.alertEvents()).toEqual(['dead_letter'])
    expect(String(net.alerts[0].text)).toContain('contacts.api.validation.error')

    // The owner sees it, masked, on /admin and retries it with a CSRF-protected POST.
    const login = await call('/admin/login', {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'token=test-admin-token-0123456789',
    })
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]
    const page = await (await call('/admin', { headers: { cookie } })).text()
    expect(page).toContain('d•••r@example.com')
    expect(page).not.toContain('deadletter@example.com')
    const id = /data-dead-letter="(\d+)"/.exec(page)?.[1]
    expect(id).toBeDefined()
    // Delete asks first, apart from Retry: its button is inside a closed disclosure.
    const card = page.slice(page.indexOf(`data-dead-letter="${id}"`)).slice(0, 1200)
    expect(card).toMatch(
      new RegExp(
        `<details class="confirm"><summary>Delete…</summary>[\\s\\S]*action="/admin/dead-letters/${id}/delete"`
      )
    )

    const forged = await call(`/admin/dead-letters/${id}/retry`, {
      method: 'POST',
      headers: {
        cookie,
        origin: 'https://evil.test',
        'content-type': 'application/x-www-form-urlencoded',
      },
    })
    expect(forged.status).toBe(403)
    expect((await outbox()).dead).toBe(1)

    const retry = await call(`/admin/dead-letters/${id}/retry`, {
      method: 'POST',
      headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(retry.status).toBe(303)
    await runOutbox()
    expect(cc.contacts.has('deadletter@example.com')).toBe(true)
    expect((await outbox()).dead).toBe(0)
  })

  it('Delete removes a dead letter; only the owner can', async () => {
    cc.signupFaults = ['400']
    expect((await submit('delete-me@example.com')).status).toBe(502)
    const [letter] = await relay().deadLetters()
    expect(letter.email_masked).toBe('d•••e@example.com')
    const anonymous = await call(`/admin/dead-letters/${letter.id}/delete`, {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(anonymous.status).toBe(401)
    const res = await call(`/admin/dead-letters/${letter.id}/delete`, {
      method: 'POST',
      headers: { ...OWNER, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(res.status).toBe(303)
    expect((await outbox()).dead).toBe(0)
    expect(cc.signupCalls).toHaveLength(1)
  })
})

describe('what only a Durable Object does: gates, eviction, alarms', () => {
  it('a sign-up whose object died mid-send gets 503, and the retry is sent, not absorbed', async () => {
    const held = net.hold()
    const pending = submit('died@example.com')
    await until(() => cc.signupCalls.length === 1, 'the send to reach CC')
    await abortAllDurableObjects()
    const res = await pending
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: string }).error).toBe('unavailable')
    held.release()
    clock.advance(1100)
    const retry = await submit('died@example.com')
    expect(retry.status).toBe(200)
    expect(cc.signupCalls).toHaveLength(2)
  })

  it('a resubmission while the first is in flight is kept apart, and both are delivered', async () => {
    cc.down = true
    expect((await submit('inflight@example.com')).status).toBe(202)
    cc.down = false
    const held = net.hold()
    clock.advance(60_000) // past the retry's backoff
    const draining = runDurableObjectAlarm(relay())
    await until(() => cc.signupCalls.length === 2, 'the queued send to reach CC')
    held.stop() // the queued send stays in flight; later requests are answered
    await forgetRecentSubmissions()
    cc.down = true
    expect((await submit('inflight@example.com')).status).toBe(202)
    // Not merged into the in-flight item (its delivery deletes it): a second row.
    expect((await outbox()).pending).toBe(2)
    held.release()
    await draining
    cc.down = false
    await runOutbox()
    expect((await outbox()).pending).toBe(0)
    expect(cc.contacts.has('inflight@example.com')).toBe(true)
  })

  it('an abort mid-drain loses nothing: the cron drains what the alarm left', async () => {
    cc.down = true
    const emails = Array.from({ length: 6 }, (_, i) => `evict${i}@example.com`)
    expect((await submitAll(emails)).every((s) => s === 202)).toBe(true)
    cc.down = false
    const held = net.hold()
    clock.advance(60_000)
    void runDurableObjectAlarm(relay()).catch(() => {})
    await until(() => cc.signupCalls.length > 6, 'queued sends to be in flight')
    await abortAllDurableObjects()
    held.release()
    await cron()
    await runOutbox()
    for (const email of emails) expect(cc.contacts.has(email)).toBe(true)
    expect(cc.contacts.size).toBe(6)
    expect((await outbox()).pending).toBe(0)
  })

  it('an alarm delivers backdated rows: due items written straight into storage go out', async () => {
    const due = clock.now() - 60_000
    await runInDurableObject(relay(), (_i, state) => {
      for (const email of ['backdated1@example.com', 'backdated2@example.com']) {
        state.storage.sql.exec(
          `INSERT INTO outbox (form_id, email_hash, payload, status, attempts, created_at, next_attempt_at)
           VALUES ('newsletter', ?, ?, 'pending', 3, ?, ?)`,
          `hash-${email}`,
          JSON.stringify({ email_address: email, list_memberships: [LIST_1] }),
          due,
          due
        )
      }
    })
    expect(await runDurableObjectAlarm(relay())).toBe(false) // no alarm was set for them…
    await cron() // …so the watchdog drains them
    expect([...cc.contacts.keys()].sort()).toEqual([
      'backdated1@example.com',
      'backdated2@example.com',
    ])
    expect((await outbox()).pending).toBe(0)
  })
})

// CC's account-wide failures (issue #13 item 5). A 403 from sign_up_form (a missing scope, a
// missing privilege, a deactivated app) is not about the sign-up: it parks the outbox as a needed
// reconnect does, with one alert and no dead letters, and everything goes out after a reconnect.
// A grant without contact_data is caught at connect time.

const lastError = async () => (await status()).last_error as { code: string; message: string }

/**
 * Lets the alerts held back by the cases before go out (the cron), and their window pass, so a
 * case counts its own alerts.
 */
async function releaseHeldAlerts() {
  clock.advance(ALERT_WINDOW_MS)
  await cron()
  clock.advance(ALERT_WINDOW_MS)
  net.reset()
}

describe('a 403 from sign_up_form', () => {
  it('inline: answered 202 queued, the connection needs a reconnect, one alert, no dead letter', async () => {
    await releaseHeldAlerts()
    cc.signupFaults = ['403']
    const first = await submit('forbidden1@example.com')
    expect(first.status).toBe(202)
    expect(await first.json()).toMatchObject({ ok: true, status: 'queued' })
    const s = await status()
    expect([s.state, s.connected]).toEqual(['needs_reauth', false])
    expect((await lastError()).code).toBe('cc_forbidden')
    expect((await lastError()).message).toContain('answered 403')
    // Every later sign-up is kept without reaching CC.
    for (const email of ['forbidden2@example.com', 'forbidden3@example.com'])
      expect((await submit(email)).status).toBe(202)
    expect(cc.signupCalls).toHaveLength(1)
    expect(await outbox()).toMatchObject({ pending: 3, parked: 3, dead: 0 })
    // Hours of wake-ups and cron runs: nothing is sent, nothing dies, no second alert.
    await runOutbox()
    for (let i = 0; i < 4; i++) {
      clock.advance(15 * 60_000)
      await cron()
    }
    expect(cc.signupCalls).toHaveLength(1)
    expect((await outbox()).dead).toBe(0)
    expect(net.alertEvents()).toEqual(['needs_reauth'])
    expect((net.alerts[0].reason as { code: string }).code).toBe('cc_forbidden')
    // The owner reconnects: everything is delivered.
    expect((await connect()).status).toBe(303)
    await runOutbox()
    expect([...cc.contacts.keys()].sort()).toEqual([
      'forbidden1@example.com',
      'forbidden2@example.com',
      'forbidden3@example.com',
    ])
    expect(net.alertEvents()).toEqual(['needs_reauth', 'recovered'])
  })

  it('from the outbox: parked without burning the item’s attempt, then delivered', async () => {
    await releaseHeldAlerts()
    cc.down = true
    expect((await submit('queued403@example.com')).status).toBe(202)
    const attempts = () =>
      runInDurableObject(relay(), (_i, state) =>
        state.storage.sql.exec<{ attempts: number }>('SELECT attempts FROM outbox').toArray()
      )
    expect(await attempts()).toEqual([{ attempts: 1 }]) // CC's 503
    cc.down = false
    cc.signupFaults = ['403']
    await runOutbox()
    expect((await status()).state).toBe('needs_reauth')
    expect((await lastError()).code).toBe('cc_forbidden')
    expect(await attempts()).toEqual([{ attempts: 1 }]) // the 403 burned none
    expect((await outbox()).dead).toBe(0)
    expect(net.alertEvents()).toEqual(['needs_reauth'])
    expect((await connect()).status).toBe(303)
    await runOutbox()
    expect(cc.contacts.has('queued403@example.com')).toBe(true)
  })

  it('a refused account: the dashboard explains its 403 read; the first sign-up parks', async () => {
    cc.accountForbidden = true
    const page = async (path: string) =>
      (await call(path, { headers: { ...OWNER, accept: 'text/html' } })).text()
    const forms = await page('/admin/forms')
    const catalog = forms.slice(forms.indexOf('id="catalog"'))
    expect(catalog.slice(0, 600)).toContain('Constant Contact answered 403')
    const overview = await page('/admin')
    const problem = overview.slice(overview.indexOf('data-problem="catalog"'))
    expect(problem.slice(0, 600)).toContain('Constant Contact answered 403')
    // A read refused is not a sign-up refused: the outbox keeps going until one is.
    expect((await status()).state).toBe('connected')
    expect((await submit('account403@example.com')).status).toBe(202)
    expect((await status()).state).toBe('needs_reauth')
    // Parked: the dashboard no longer reads CC at all.
    const reads = cc.apiCalls.length
    await call('/admin', { headers: { ...OWNER, accept: 'text/html' } })
    expect(cc.apiCalls).toHaveLength(reads)
    cc.accountForbidden = false
    expect((await connect()).status).toBe(303)
    await runOutbox()
    expect(cc.contacts.has('account403@example.com')).toBe(true)
  })
})

describe('a grant without contact_data', () => {
  it('says so on the callback page; the status is needs_reauth missing_scope', async () => {
    await releaseHeldAlerts()
    cc.grantScope = 'account_read offline_access'
    const callback = await connect()
    expect(callback.status).toBe(200)
    const page = await callback.text()
    expect(page).toContain('without access to contacts')
    expect(page).toContain('contact_data')
    const s = await status()
    expect([s.state, s.connected]).toEqual(['needs_reauth', false])
    expect((await lastError()).code).toBe('missing_scope')
    expect(net.alertEvents()).toEqual(['needs_reauth']) // a working connection was replaced
    // Sign-ups are kept, not sent with a token that cannot send them.
    expect((await submit('scope@example.com')).status).toBe(202)
    expect(cc.signupCalls).toHaveLength(0)
    cc.grantScope = null
    expect((await connect()).status).toBe(303)
    await runOutbox()
    expect(cc.contacts.has('scope@example.com')).toBe(true)
  })
})

// Coalesced alerts (issue #13 item 6): at most one alert of a kind per 15 minutes, what the alert
// webhook actually received counted. The next alert of the kind carries the count held back; the
// cron sends the last held one once its window is over; /admin shows the counts; a restart of the
// Durable Object forgets none of it.

let refused = 0

/** A sign-up CC refuses for good: a dead letter, and a dead_letter alert (or a held one). */
async function deadLetter() {
  cc.signupFaults = ['400']
  clock.advance(1100) // a free pacing slot: sent inline
  expect((await submit(`refused${++refused}@example.com`)).status).toBe(502)
}

const held = async (event: string) =>
  ((await status()).alerts as { event: string; held: number; held_total: number }[]).find(
    (a) => a.event === event
  )

describe('one alert of a kind per 15 minutes', () => {
  it('holds back the rest, and the next one sent carries their count, across a restart', async () => {
    await releaseHeldAlerts()
    const before = (await held('dead_letter'))?.held_total ?? 0
    for (let i = 0; i < 3; i++) await deadLetter()
    expect(net.alertEvents()).toEqual(['dead_letter'])
    expect(await held('dead_letter')).toMatchObject({ held: 2, held_total: before + 2 })
    const page = await (
      await call('/admin/connection', { headers: { ...OWNER, accept: 'text/html' } })
    ).text()
    const card = page.slice(page.indexOf('id="alerts"'))
    expect(card).toMatch(
      new RegExp(`data-alert="dead_letter" data-held="2" data-held-total="${before + 2}"`)
    )

    // The object restarts: what it held back is stored, and the window still holds.
    await evictDurableObject(relay())
    await deadLetter()
    expect(net.alertEvents()).toEqual(['dead_letter'])
    expect((await held('dead_letter'))?.held).toBe(3)

    clock.advance(ALERT_WINDOW_MS)
    await deadLetter()
    expect(net.alertEvents()).toEqual(['dead_letter', 'dead_letter'])
    const last = net.alerts[1]
    expect(last.suppressed).toBe(3)
    expect(String(last.text)).toContain('(3 more held back since the last)')
    expect(await held('dead_letter')).toMatchObject({ held: 0, held_total: before + 3 })
  })

  it('a burst that stops is still reported: the cron sends the last one held, with the count', async () => {
    await releaseHeldAlerts()
    for (let i = 0; i < 4; i++) await deadLetter()
    expect(net.alertEvents()).toEqual(['dead_letter'])
    await cron() // the window is not over: nothing yet
    expect(net.alertEvents()).toEqual(['dead_letter'])
    clock.advance(ALERT_WINDOW_MS)
    await cron()
    expect(net.alertEvents()).toEqual(['dead_letter', 'dead_letter'])
    expect(net.alerts[1].suppressed).toBe(2) // the fourth is sent; the second and third are counted
    expect((net.alerts[1].reason as { message: string }).message).toContain('newsletter')
    await cron()
    expect(net.alerts).toHaveLength(2) // sent once
  })

  it('kinds are apart: a dead letter does not hold back a needs_reauth alert', async () => {
    await releaseHeldAlerts()
    await deadLetter()
    cc.signupFaults = ['403']
    clock.advance(1100)
    await call('/subscribe/newsletter', {
      method: 'POST',
      headers: { origin: 'https://site.test', 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'kinds@example.com' }),
    })
    expect(net.alertEvents()).toEqual(['dead_letter', 'needs_reauth'])
  })
})
