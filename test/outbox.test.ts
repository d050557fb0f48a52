/**
 * Zero lost sign-ups: the outbox in the Durable Object, against a fake CC that enforces 4/s and
 * a daily quota, and can answer 503, 429, 400 or drop the connection.
 */

import { abortAllDurableObjects, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { cc } from './fake-cc.ts'
import {
  call,
  connect,
  connectedWithSettledOutbox,
  eventually,
  ORIGIN,
  OWNER,
  outbox,
  sleep,
  status,
} from './helpers.ts'

const relay = () => env.RELAY.getByName('main')
let n = 0

function submit(email: string) {
  return call('/subscribe/newsletter', {
    method: 'POST',
    headers: {
      origin: 'https://site.test',
      'content-type': 'application/json',
      'cf-connecting-ip': `192.0.2.${++n % 250}`,
    },
    body: JSON.stringify({ email }),
  })
}

async function submitAll(emails: string[]) {
  const responses = await Promise.all(emails.map(submit))
  return responses.map((r) => r.status)
}

/** The largest number of CC requests that arrived within any 1-second window. */
function maxPerSecond(times: number[]): number {
  let max = 0
  for (let i = 0; i < times.length; i++) {
    max = Math.max(max, times.filter((t) => t >= times[i] && t < times[i] + 1000).length)
  }
  return max
}

connectedWithSettledOutbox()

describe('durable acceptance and retries', () => {
  it('a 5xx storm: every accepted sign-up is delivered after recovery, one by one', async () => {
    cc.down = true
    const emails = Array.from({ length: 8 }, (_, i) => `storm${i}@example.com`)
    const statuses = await submitAll(emails)
    expect(statuses.every((s) => s === 202)).toBe(true) // stored, never "delivered"
    expect((await outbox()).pending).toBe(8)
    await sleep(3000)
    expect(cc.contacts.size).toBe(0)
    cc.down = false
    await eventually(async () => expect((await outbox()).pending).toBe(0), 60_000)
    for (const email of emails) expect(cc.contacts.has(email)).toBe(true)
    expect(cc.contacts.size).toBe(8)
    expect(maxPerSecond(cc.signupCalls.map((c) => c.at))).toBeLessThanOrEqual(4)
  })

  it('a burst of 200 distinct sign-ups: all delivered, never more than 4 CC requests a second', async () => {
    const emails = Array.from({ length: 200 }, (_, i) => `burst${i}@example.com`)
    const statuses = await submitAll(emails)
    // Every answer is a success that means delivered (200) or durably stored (202).
    expect(statuses.filter((s) => s !== 200 && s !== 202)).toEqual([])
    const stored = statuses.filter((s) => s === 202).length
    expect((await outbox()).pending).toBe(stored)
    await eventually(async () => expect(cc.contacts.size).toBe(200), 90_000)
    for (const email of emails) expect(cc.contacts.has(email)).toBe(true)
    expect(maxPerSecond(cc.signupCalls.map((c) => c.at))).toBeLessThanOrEqual(4)
    expect(cc.signupCalls.filter((c) => c.answered === 429)).toEqual([])
    expect(cc.signupCalls).toHaveLength(200)
  }, 120_000)

  it('a dropped connection is retried and delivered', async () => {
    cc.signupScript = ['drop']
    expect((await submit('dropped@example.com')).status).toBe(202)
    await eventually(async () => expect(cc.contacts.has('dropped@example.com')).toBe(true))
  })

  it('merges queued duplicates of one email: one delivery with both lists', async () => {
    cc.down = true
    const base = { origin: 'https://site.test', 'content-type': 'application/json' }
    const list1 = '9e2f7d10-1111-4c3b-8e42-000000000001'
    const list2 = '9e2f7d10-1111-4c3b-8e42-000000000002'
    // Different forms' duplicate windows are separate, so use the alias field to resubmit.
    await call('/subscribe/newsletter', {
      method: 'POST',
      headers: { ...base, 'cf-connecting-ip': '192.0.2.251' },
      body: JSON.stringify({ email: 'merge@example.com', list: [list1], first_name: 'Old' }),
    })
    await runInDurableObject(relay(), (_i, ctx) => {
      ctx.storage.sql.exec('DELETE FROM recent_submissions')
    })
    await call('/subscribe/newsletter', {
      method: 'POST',
      headers: { ...base, 'cf-connecting-ip': '192.0.2.252' },
      body: JSON.stringify({ email: 'merge@example.com', list: [list2], first_name: 'New' }),
    })
    expect((await outbox()).pending).toBe(1)
    cc.down = false
    await eventually(async () => expect(cc.contacts.has('merge@example.com')).toBe(true), 60_000)
    expect(cc.contacts.get('merge@example.com')).toEqual({
      email_address: 'merge@example.com',
      first_name: 'New',
      list_memberships: [list1, list2],
    })
  })
})

describe('parking', () => {
  it('needs_reauth: parked with no attempts burned, replayed after reconnect', async () => {
    cc.signupScript = ['401']
    cc.script = ['invalid_grant']
    expect((await submit('parked1@example.com')).status).toBe(202)
    expect((await status()).state).toBe('needs_reauth')
    expect((await submit('parked2@example.com')).status).toBe(202)
    const callsWhileParked = cc.signupCalls.length
    expect(callsWhileParked).toBe(1)
    await sleep(2500)
    expect(cc.signupCalls).toHaveLength(callsWhileParked)
    const figures = await outbox()
    expect(figures.pending).toBe(2)
    expect(figures.parked).toBe(2)
    expect((await connect()).status).toBe(303)
    await eventually(async () => expect(cc.contacts.size).toBe(2))
    expect([...cc.contacts.keys()].sort()).toEqual(['parked1@example.com', 'parked2@example.com'])
  })

  it('quota_exceeded: parked until 00:00 UTC, then delivered when the day rolls', async () => {
    cc.quotaLeft = 0
    expect((await submit('quota1@example.com')).status).toBe(202)
    expect((await submit('quota2@example.com')).status).toBe(202)
    expect(cc.signupCalls).toHaveLength(1) // the second never reached CC
    const figures = await outbox()
    const d = new Date()
    const midnight = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
    expect(figures.parked_until).toBe(new Date(midnight).toISOString())
    expect(figures.parked).toBe(2)
    // Fake the clock rolling past midnight: move the park and the items' due time to now.
    cc.quotaLeft = Number.POSITIVE_INFINITY
    await runInDurableObject(relay(), async (instance, ctx) => {
      ctx.storage.sql.exec('UPDATE delivery_blocks SET parked_until = ?', Date.now())
      ctx.storage.sql.exec(
        `UPDATE outbox SET next_attempt_at = ? WHERE status = 'pending'`,
        Date.now()
      )
      await (instance as unknown as { alarm(): Promise<void> }).alarm()
    })
    await eventually(async () => expect(cc.contacts.size).toBe(2))
  })
})

describe('dead letters', () => {
  it('a 400: a dead letter and an alert, and Retry from /admin delivers it', async () => {
    cc.down = true
    expect((await submit('deadletter@example.com')).status).toBe(202)
    cc.down = false
    cc.signupScript = ['400']
    await eventually(async () => expect((await outbox()).dead).toBe(1), 30_000)
    expect(cc.alerts.map((a) => a.event)).toEqual(['dead_letter'])
    expect(String(cc.alerts[0].text)).toContain('contacts.api.validation.error')

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
    await eventually(async () => expect(cc.contacts.has('deadletter@example.com')).toBe(true))
    expect((await outbox()).dead).toBe(0)
  })

  it('Delete removes a dead letter; only the owner can', async () => {
    cc.signupScript = ['400']
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

describe('crash safety', () => {
  it('a sign-up whose object died mid-send gets 503, and the retry is sent, not absorbed', async () => {
    cc.signupDelayMs = 1500
    const pending = submit('died@example.com')
    await eventually(async () => expect(cc.signupCalls).toHaveLength(1))
    await abortAllDurableObjects()
    const res = await pending
    expect(res.status).toBe(503)
    expect(((await res.json()) as { error: string }).error).toBe('unavailable')
    cc.signupDelayMs = 0
    await sleep(1200)
    const retry = await submit('died@example.com')
    expect(retry.status).toBe(200)
    expect(cc.signupCalls).toHaveLength(2)
  })

  it('a resubmission while the first is in flight is kept apart, and both are delivered', async () => {
    cc.down = true
    expect((await submit('inflight@example.com')).status).toBe(202)
    cc.down = false
    cc.signupDelayMs = 3000 // the queued send is in flight for 3 s
    await eventually(async () => expect(cc.signupCalls.length).toBe(2), 30_000)
    await runInDurableObject(relay(), (_i, ctx) => {
      ctx.storage.sql.exec('DELETE FROM recent_submissions')
    })
    cc.down = true
    cc.signupDelayMs = 0
    expect((await submit('inflight@example.com')).status).toBe(202)
    // Not merged into the in-flight item (its delivery deletes it): a second row.
    expect((await outbox()).pending).toBe(2)
    cc.down = false
    cc.signupDelayMs = 0
    await eventually(async () => expect((await outbox()).pending).toBe(0), 60_000)
    expect(cc.contacts.has('inflight@example.com')).toBe(true)
  }, 90_000)

  it('an eviction mid-drain loses nothing and duplicates nothing beyond upsert', async () => {
    cc.down = true
    const emails = Array.from({ length: 6 }, (_, i) => `evict${i}@example.com`)
    expect((await submitAll(emails)).every((s) => s === 202)).toBe(true)
    cc.down = false
    cc.signupDelayMs = 800 // sends are in flight when the object dies
    await eventually(async () => expect(cc.signupCalls.length).toBeGreaterThan(6), 30_000)
    await abortAllDurableObjects()
    cc.signupDelayMs = 0
    await eventually(async () => expect((await outbox()).pending).toBe(0), 60_000)
    for (const email of emails) expect(cc.contacts.has(email)).toBe(true)
    expect(cc.contacts.size).toBe(6)
  }, 90_000)
})
