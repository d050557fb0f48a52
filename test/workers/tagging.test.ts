/**
 * Tags in Constant Contact: a delivered sign-up of a tagged form leaves a tagging, which the
 * drain sends through the same pacer and quota as sign-ups, batched by tag set, retried like a
 * sign-up, and refused into a dead letter of kind "tagging". Time is virtual; the model of CC
 * counts every call.
 */
import { abortAllDurableObjects, evictDurableObject, runDurableObjectAlarm } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
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
  relay,
  runOutbox,
  status,
} from '../support/helpers.ts'
import { LIST_2, TAG_1, TAG_2, TAG_3, TAGS } from '../support/network.ts'

const UNKNOWN_TAG = 'c6915956-fde3-4081-977e-0000000000ff'

import { apiArrivals, taggedSubmission, taggingCalls, tagsOf } from '../support/tagging.ts'

connectedWithSettledOutbox()

async function submitTagged(email: string, tags = [TAG_1, TAG_2], formId?: string) {
  return (await relay().submit(await taggedSubmission(email, tags, formId))).status
}

type Figures = { pending: number; dead: number; tagging_pending: number; tagging_dead: number }
const figures = async () => (await status()).outbox as Figures

/** Lets earlier cases' alerts out and their window pass, so a case counts its own. */
async function releaseHeldAlerts() {
  clock.advance(ALERT_WINDOW_MS)
  await cron()
  clock.advance(ALERT_WINDOW_MS)
  net.reset()
}

/** Deletes a tag in CC for the time of `body`. */
async function withoutTag(tagId: string, body: () => Promise<void>) {
  cc.tags = cc.tags.filter((t) => t.tag_id !== tagId)
  try {
    await body()
  } finally {
    cc.tags = [...TAGS]
  }
}

describe('batching', () => {
  it('6 sign-ups within a second: all delivered and tagged, in at most 3 tagging calls', async () => {
    const emails = Array.from({ length: 6 }, (_, i) => `six${i}@example.com`)
    const statuses: string[] = []
    for (const email of emails) {
      statuses.push(await submitTagged(email))
      clock.advance(150)
    }
    expect(statuses.every((s) => s === 'delivered' || s === 'queued')).toBe(true)
    // Taggings are not sign-ups: they wait apart from the backlog.
    expect((await figures()).pending).toBe(statuses.filter((s) => s === 'queued').length)
    await runOutbox()
    for (const email of emails) expect(tagsOf(cc, email)).toEqual([TAG_1, TAG_2])
    expect(taggingCalls(cc).length).toBeGreaterThan(0)
    expect(taggingCalls(cc).length).toBeLessThanOrEqual(3)
    expect(await figures()).toMatchObject({ pending: 0, tagging_pending: 0, tagging_dead: 0 })
  })

  it('a tagged burst of 60 on two tag sets: never more than 4 CC requests in any second', async () => {
    const emails = Array.from({ length: 60 }, (_, i) => `burst${i}@example.com`)
    const statuses = await Promise.all(
      emails.map((email, i) => submitTagged(email, i % 2 ? [TAG_1] : [TAG_2, TAG_3]))
    )
    expect(statuses.filter((s) => s !== 'delivered' && s !== 'queued')).toEqual([])
    await runOutbox()
    for (const [i, email] of emails.entries())
      expect(tagsOf(cc, email)).toEqual(i % 2 ? [TAG_1] : [TAG_2, TAG_3])
    expect(maxPerSecond(apiArrivals(cc))).toBeLessThanOrEqual(4)
    expect(cc.signupCalls.filter((c) => c.answered === 429)).toEqual([])
    expect(cc.apiCalls.filter((c) => c.status === 429)).toEqual([])
    // One call carries a whole tag set's gathered contacts: far fewer calls than sign-ups.
    expect(taggingCalls(cc).length).toBeLessThan(15)
  })

  it('a queued sign-up keeps its tags until the drain delivers it', async () => {
    cc.down = true
    expect(await submitTagged('queued@example.com', [TAG_3])).toBe('queued')
    cc.down = false
    await runOutbox()
    expect(tagsOf(cc, 'queued@example.com')).toEqual([TAG_3])
  })

  it('a form without tags costs no tagging call', async () => {
    expect(await submitTagged('untagged@example.com', [])).toBe('delivered')
    await runOutbox()
    expect(taggingCalls(cc)).toEqual([])
    expect(tagsOf(cc, 'untagged@example.com')).toEqual([])
  })
})

describe('failures', () => {
  it('a 500 on the tagging is retried, and the tags are applied', async () => {
    cc.taggingFaults = ['500']
    expect(await submitTagged('retry@example.com')).toBe('delivered')
    await runOutbox()
    expect(taggingCalls(cc).map((c) => c.status)).toEqual([500, 201])
    expect(tagsOf(cc, 'retry@example.com')).toEqual([TAG_1, TAG_2])
  })

  it('a 401 goes through the refresh, then the tagging is sent again', async () => {
    cc.taggingFaults = ['401']
    expect(await submitTagged('refresh@example.com')).toBe('delivered')
    await runOutbox()
    expect(net.refreshCalls()).toHaveLength(1)
    expect(taggingCalls(cc).map((c) => c.status)).toEqual([401, 201])
    expect(tagsOf(cc, 'refresh@example.com')).toEqual([TAG_1, TAG_2])
  })

  it('a 403 parks taggings with sign-ups until a reconnect, then applies them', async () => {
    await releaseHeldAlerts()
    cc.taggingFaults = ['403']
    expect(await submitTagged('parked@example.com')).toBe('delivered')
    await runOutbox()
    expect((await status()).state).toBe('needs_reauth')
    expect(net.alertEvents()).toEqual(['needs_reauth'])
    expect(await figures()).toMatchObject({ tagging_pending: 1, tagging_dead: 0 })
    expect((await connect()).status).toBe(303)
    await runOutbox()
    expect(tagsOf(cc, 'parked@example.com')).toEqual([TAG_1, TAG_2])
  })

  it('a 400 (a tag deleted in CC): dead letters of kind tagging and one alert; sign-ups go on', async () => {
    await releaseHeldAlerts()
    await withoutTag(TAG_2, async () => {
      for (const email of ['refused1@example.com', 'refused2@example.com'])
        expect(await submitTagged(email)).toBe('delivered')
      await runOutbox()
      expect(net.alertEvents()).toEqual(['tagging_dead_letter'])
      expect(String(net.alerts[0].text)).toContain('contacts.api.validation.error')
      expect(await figures()).toMatchObject({ dead: 0, tagging_pending: 0, tagging_dead: 2 })
      const letters = await relay().deadLetters()
      expect(letters.map((d) => [d.kind, d.email_masked, d.tag_ids])).toEqual([
        ['tagging', 'r•••2@example.com', [TAG_1, TAG_2]],
        ['tagging', 'r•••1@example.com', [TAG_1, TAG_2]],
      ])
      expect(letters[0].error).toMatchObject({ status: 400 })
      // A tagging refused never holds a sign-up back: the next one is delivered inline.
      expect(await submitTagged('after@example.com', [TAG_1])).toBe('delivered')
      await runOutbox()
      expect(tagsOf(cc, 'after@example.com')).toEqual([TAG_1])
      expect(cc.contacts.has('refused1@example.com')).toBe(true)
      // The dashboard lists them with the sign-ups' dead letters, as taggings.
      const page = await (await call('/admin', { headers: OWNER })).text()
      expect(page).toContain('data-kind="tagging"')
      expect(page).toContain(`/admin/dead-letters/tagging/${letters[0].id}/retry`)
    })

    // The tag is back: the owner retries one, deletes the other.
    const [second, first] = await relay().deadLetters()
    const post = (path: string) =>
      call(path, {
        method: 'POST',
        headers: { ...OWNER, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      })
    expect((await post(`/admin/dead-letters/tagging/${first.id}/retry`)).status).toBe(303)
    expect((await post(`/admin/dead-letters/tagging/${second.id}/delete`)).status).toBe(303)
    // A sign-up's dead letter is another kind: the same id there is not a tagging's.
    expect((await post(`/admin/dead-letters/${second.id}/delete`)).status).toBe(404)
    await runOutbox()
    expect(tagsOf(cc, 'refused1@example.com')).toEqual([TAG_1, TAG_2])
    expect(tagsOf(cc, 'refused2@example.com')).toEqual([])
    expect(await relay().deadLetters()).toEqual([])
    expect(await figures()).toMatchObject({ tagging_pending: 0, tagging_dead: 0 })
  })
})

describe('durability', () => {
  it('pending taggings survive a restart of the object and are applied', async () => {
    expect(await submitTagged('restart@example.com')).toBe('delivered')
    expect((await figures()).tagging_pending).toBe(1)
    await evictDurableObject(relay())
    await runOutbox()
    expect(tagsOf(cc, 'restart@example.com')).toEqual([TAG_1, TAG_2])
  })

  it('a tagging whose object died mid-call is sent again by the next instance', async () => {
    expect(await submitTagged('midcall@example.com')).toBe('delivered')
    const held = net.hold()
    clock.advance(5_000)
    void runDurableObjectAlarm(relay()).catch(() => {})
    await until(() => taggingCalls(cc).length === 1, 'the tagging to reach CC')
    await abortAllDurableObjects()
    held.release()
    await cron()
    await runOutbox()
    expect(tagsOf(cc, 'midcall@example.com')).toEqual([TAG_1, TAG_2])
    expect((await figures()).tagging_pending).toBe(0)
  })
})

describe('through the real entry points', () => {
  it('a form made with tags through the owner API tags its visitors’ contacts (POST /subscribe)', async () => {
    const site = 'https://tagged.test'
    const made = await call('/admin/api/forms/tagged', {
      method: 'PUT',
      headers: { ...OWNER, 'content-type': 'application/json' },
      body: JSON.stringify({ lists: [], optional_lists: [LIST_2], tags: [TAG_3], origins: [site] }),
    })
    expect(made.status).toBe(201)
    const unknown = await call('/admin/api/forms/tagged', {
      method: 'PUT',
      headers: { ...OWNER, 'content-type': 'application/json' },
      body: JSON.stringify({ lists: [LIST_2], tags: [TAG_1, UNKNOWN_TAG], origins: [site] }),
    })
    expect(unknown.status).toBe(400)
    expect(((await unknown.json()) as { fields: object }).fields).toEqual({
      'tags.1': 'Constant Contact has no such tag',
    })
    const before = taggingCalls(cc).length
    const emails = Array.from({ length: 6 }, (_, i) => `http-tag${i}@example.com`)
    for (const [i, email] of emails.entries()) {
      const res = await call('/subscribe/tagged', {
        method: 'POST',
        headers: {
          origin: site,
          'content-type': 'application/json',
          'cf-connecting-ip': `203.0.113.${i + 1}`,
        },
        body: JSON.stringify({ email, list: LIST_2 }),
      })
      expect([200, 202]).toContain(res.status)
      clock.advance(150)
    }
    await runOutbox()
    for (const email of emails) expect(tagsOf(cc, email)).toEqual([TAG_3])
    expect(taggingCalls(cc).length - before).toBeGreaterThan(0)
    expect(taggingCalls(cc).length - before).toBeLessThanOrEqual(3)
  })
})
