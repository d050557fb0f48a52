/**
 * Zero lost sign-ups: the outbox in the Durable Object, against the model of CC, which enforces
 * 4 requests a second and a daily quota, and can answer 503, 429, 400 or drop the connection.
 * Time is virtual: `runOutbox()` runs the object's alarm at each wake-up it asks for.
 */

import { abortAllDurableObjects, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { nextUtcMidnight } from '../src/core/outbox.ts'
import { cc, clock, net } from './edge.ts'
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
} from './helpers.ts'
import { maxPerSecond, until } from './support/arrivals.ts'
import { LIST_1, LIST_2 } from './support/network.ts'

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

const arrivals = () => cc.signUpCalls.map((c) => c.at)
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
    expect(cc.signUpCalls.filter((c) => c.answered === 429)).toEqual([])
    expect(cc.signUpCalls).toHaveLength(200)
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
    expect(cc.signUpCalls.filter((c) => c.answered === 429)).toEqual([])
  })

  it('a dropped connection is retried and delivered', async () => {
    cc.signUpFaults = ['drop']
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
    cc.signUpFaults = ['401']
    cc.tokenFaults = ['invalid_grant']
    expect((await submit('parked1@example.com')).status).toBe(202)
    expect((await status()).state).toBe('needs_reauth')
    expect((await submit('parked2@example.com')).status).toBe(202)
    expect(cc.signUpCalls).toHaveLength(1)
    await runOutbox()
    clock.advance(3600_000)
    await cron()
    expect(cc.signUpCalls).toHaveLength(1) // an hour later: still parked, nothing sent
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
    expect(cc.signUpCalls).toHaveLength(1) // the second never reached CC
    const midnight = nextUtcMidnight(clock.now())
    const figures = await outbox()
    expect(figures.parked_until).toBe(new Date(midnight).toISOString())
    expect(figures.parked).toBe(2)
    await runOutbox({ until: midnight - 1 })
    expect(cc.signUpCalls).toHaveLength(1)
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
    cc.signUpFaults = ['400']
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
    cc.signUpFaults = ['400']
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
    expect(cc.signUpCalls).toHaveLength(1)
  })
})

describe('what only a Durable Object does: gates, eviction, alarms', () => {
  it('a sign-up whose object died mid-send gets 503, and the retry is sent, not absorbed', async () => {
    const held = net.hold()
    const pending = submit('died@example.com')
    await until(() => cc.signUpCalls.length === 1, 'the send to reach CC')
    await abortAllDurableObjects()
    const res = await pending
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: string }).error).toBe('unavailable')
    held.release()
    clock.advance(1100)
    const retry = await submit('died@example.com')
    expect(retry.status).toBe(200)
    expect(cc.signUpCalls).toHaveLength(2)
  })

  it('a resubmission while the first is in flight is kept apart, and both are delivered', async () => {
    cc.down = true
    expect((await submit('inflight@example.com')).status).toBe(202)
    cc.down = false
    const held = net.hold()
    clock.advance(60_000) // past the retry's backoff
    const draining = runDurableObjectAlarm(relay())
    await until(() => cc.signUpCalls.length === 2, 'the queued send to reach CC')
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
    await until(() => cc.signUpCalls.length > 6, 'queued sends to be in flight')
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
