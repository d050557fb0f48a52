/**
 * The metrics part of the storage contract (MetricsRepo, and the tallies the outbox and token
 * repos write with their events), run against SQLite and Deno KV by the same runners as
 * storage-contract.ts.
 */
import assert from 'node:assert/strict'
import { HISTORY_KEPT } from '../../src/core/connection/history.ts'
import {
  ACTIVITY_KEPT,
  DAY_MS,
  groupCounters,
  HOUR_MS,
  type MetricEvent,
  refusalEvent,
  tallyOf,
} from '../../src/core/metrics/metrics.ts'
import { signupRows, statusText } from '../../src/core/metrics/signups.ts'
import {
  NO_ORIGIN,
  ORIGINS_PER_FORM_DAY,
  OTHER_ORIGINS,
  type RefusalCount,
} from '../../src/core/origins/refusals.ts'
import type { DeliveryError } from '../../src/core/outbox/repo.ts'
import type { ContractRunner, StoreUnderTest } from './storage-contract.ts'

/** Noon UTC, so ± a few hours stays on one day. */
const T = Date.UTC(2030, 0, 1, 12)
const ERROR: DeliveryError = { status: 400, errorKey: 'bad', message: 'bad', at: T }

const ev = (outcome: MetricEvent['outcome'], at = T, form = 'f', latencyMs?: number) =>
  ({ form, outcome, at, email: 'a•••z@example.com', latencyMs }) satisfies MetricEvent

/** The counters of one span over a wide range, as { "start|form": { name: n } }. */
async function counters(s: StoreUnderTest, span: 'hour' | 'day') {
  const rows = await s.metrics.counters(span, 0, T + 1000 * DAY_MS)
  return Object.fromEntries(groupCounters(rows).map((b) => [`${b.start}|${b.form}`, b.counts]))
}

export function metricsContract({ test, withStore }: ContractRunner): void {
  const contract = (name: string, body: (store: StoreUnderTest) => Promise<void>) =>
    test(name, () => withStore(body))

  contract(
    'metrics: a count lands in its hour and in its UTC day, and counts add up',
    async (s) => {
      assert.deepEqual(await s.metrics.counters('hour', 0, T * 2), [])
      await s.metrics.count(tallyOf([ev('honeypot'), ev('honeypot'), ev('accepted', T + HOUR_MS)]))
      await s.metrics.count(tallyOf([ev('honeypot', T + 1), ev('accepted', T, 'g')]))
      assert.deepEqual(await counters(s, 'hour'), {
        [`${T}|f`]: { honeypot: 3 },
        [`${T + HOUR_MS}|f`]: { accepted: 1 },
        [`${T}|g`]: { accepted: 1 },
      })
      const day = T - 12 * HOUR_MS
      assert.deepEqual(await counters(s, 'day'), {
        [`${day}|f`]: { honeypot: 3, accepted: 1 },
        [`${day}|g`]: { accepted: 1 },
      })
      // [from, to) by bucket start.
      const hours = await s.metrics.counters('hour', T + 1, T + HOUR_MS + 1)
      assert.deepEqual(hours, [{ start: T + HOUR_MS, form: 'f', name: 'accepted', n: 1 }])
    }
  )

  contract('metrics: the outbox counts its events in the writes that make them', async (s) => {
    const payload = { email_address: 'a@example.com', list_memberships: ['l'] }
    const item = { formId: 'f', emailHash: 'h', payload, attempts: 0, nextAttemptAt: T, now: T }
    const stored = await s.outbox.enqueue(item, 100, tallyOf([ev('accepted')]))
    if (stored.outcome !== 'stored') throw new Error(`not stored: ${stored.outcome}`)
    const id = stored.id
    // Refused for a full backlog: nothing stored, so its tally is not written either.
    const refused = await s.outbox.enqueue(
      { ...item, emailHash: 'h3' },
      1,
      tallyOf([ev('accepted')])
    )
    assert.equal(refused.outcome, 'full')
    await s.outbox.claimDue(T, 1, T + 1000)
    await s.outbox.reschedule(id, T, 1, null, tallyOf([ev('retried')]))
    // An item that is not there: nothing happened, so nothing is counted.
    await s.outbox.reschedule(id + 100, T, 1, null, tallyOf([ev('retried')]))
    await s.outbox.kill(
      { id: id + 100, formId: 'f', payload },
      ERROR,
      T,
      tallyOf([ev('dead_lettered')])
    )
    await s.outbox.delivered(id, T, tallyOf([ev('delivered', T, 'f', 2500)]))
    await s.outbox.kill({ formId: 'f', payload }, ERROR, T, tallyOf([ev('dead_lettered')]))
    const second = await s.outbox.enqueue({ ...item, emailHash: 'h2' }, 100)
    if (second.outcome !== 'stored') throw new Error(`not stored: ${second.outcome}`)
    await s.outbox.kill(
      { id: second.id, formId: 'f', payload },
      ERROR,
      T,
      tallyOf([ev('dead_lettered')])
    )
    assert.deepEqual(await counters(s, 'hour'), {
      [`${T}|f`]: { accepted: 1, retried: 1, delivered: 1, 'l:3000': 1, dead_lettered: 2 },
    })
    assert.equal((await s.outbox.figures(T)).pending, 0)
    assert.equal((await s.outbox.figures(T)).dead, 2)
  })

  contract('activity: newest first, filtered by form, up to the limit', async (s) => {
    await s.metrics.count(tallyOf([ev('accepted', T), ev('delivered', T, 'f', 40)]))
    await s.metrics.count(
      tallyOf([
        ev('honeypot', T + 1, 'g'),
        { ...ev('invalid_input', T + 2, 'g'), email: null, reason: 'email:emailInvalid' },
      ])
    )
    const all = await s.metrics.activity({}, 10)
    assert.deepEqual(
      all.map((a) => [a.at, a.form, a.outcome, a.latencyMs, a.reason, a.signup]),
      [
        [T + 2, 'g', 'invalid_input', null, 'email:emailInvalid', null],
        [T + 1, 'g', 'honeypot', null, null, null],
        // One moment, two lines: the later one in the tally is the newer.
        [T, 'f', 'delivered', 40, null, null],
        [T, 'f', 'accepted', null, null, null],
      ]
    )
    assert.equal(all[0].email, null)
    assert.equal(all[1].email, 'a•••z@example.com')
    assert.deepEqual(
      (await s.metrics.activity({ form: 'f' }, 10)).map((a) => a.outcome),
      ['delivered', 'accepted']
    )
    assert.equal((await s.metrics.activity({}, 3)).length, 3)
  })

  contract('activity: a queued sign-up’s lines are linked to its item, one row', async (s) => {
    const payload = { email_address: 'a@example.com', list_memberships: ['l'] }
    const item = { formId: 'f', emailHash: 'h', payload, attempts: 0, nextAttemptAt: T, now: T }
    const stored = await s.outbox.enqueue(item, 100, tallyOf([ev('accepted')]))
    if (stored.outcome !== 'stored') throw new Error(`not stored: ${stored.outcome}`)
    // A second sign-up of the same address goes into the waiting item: its line joins it.
    const merged = await s.outbox.enqueue(item, 100, tallyOf([ev('accepted', T + 1)]))
    assert.deepEqual(merged.outcome === 'merged' && merged.id, stored.id)
    await s.outbox.claimDue(T + 2, 1, T + 1000)
    const retried = { ...ev('retried', T + 2), reason: '503 server_error' }
    await s.outbox.reschedule(stored.id, T + 2, 1, null, tallyOf([retried]))
    await s.outbox.delivered(stored.id, T + 3, tallyOf([ev('delivered', T + 3, 'f', 3)]))
    // An inline delivery has no item; an inline refusal's dead letter is one.
    await s.outbox.delivered(null, T + 4, tallyOf([ev('delivered', T + 4)]))
    const dead = { ...ev('dead_lettered', T + 5), reason: '400 bad' }
    await s.outbox.kill({ formId: 'f', payload }, ERROR, T + 5, tallyOf([dead]))
    const [deadLetter] = await s.outbox.deadLetters(1)
    const lines = await s.metrics.activity({}, 10)
    assert.deepEqual(
      lines.map((a) => [a.outcome, a.signup, a.reason]),
      [
        ['dead_lettered', deadLetter.id, '400 bad'],
        ['delivered', null, null],
        ['delivered', stored.id, null],
        ['retried', stored.id, '503 server_error'],
        ['accepted', stored.id, null],
        ['accepted', stored.id, null],
      ]
    )
    assert.deepEqual(
      signupRows(lines).map((r) => [r.at, r.outcome, r.updatedAt, statusText(r)]),
      [
        [T + 5, 'dead_lettered', T + 5, 'Failed: Constant Contact answered 400 bad'],
        [T + 4, 'delivered', T + 4, 'Sent to Constant Contact'],
        [T, 'delivered', T + 3, 'Sent to Constant Contact'],
      ]
    )
  })

  contract('activity: only the last ACTIVITY_KEPT lines are kept', async (s) => {
    for (let batch = 0; batch < 6; batch++) {
      const events = Array.from({ length: 200 }, (_, i) => ev('invalid_input', T + batch * 200 + i))
      await s.metrics.count(tallyOf(events))
    }
    await s.metrics.purgeMetrics(0)
    const kept = await s.metrics.activity({}, 2 * ACTIVITY_KEPT)
    assert.equal(kept.length, ACTIVITY_KEPT)
    assert.equal(kept[0].at, T + 1199)
    assert.equal(kept.at(-1)?.at, T + 1199 - ACTIVITY_KEPT + 1)
  })

  contract('history: saved with the record; read from the last line before `since`', async (s) => {
    const line = (at: number, event: string, state = 'connected' as const) => ({
      at,
      event,
      state,
      code: null,
    })
    assert.deepEqual(await s.metrics.connectionHistory(0), [])
    await s.tokens.save({ state: 'connected', generation: 1 }, line(T, 'consented'))
    await s.tokens.save({ state: 'connected', generation: 1, n: 2 })
    await s.tokens.save({ state: 'connected', generation: 1, n: 3 }, line(T + DAY_MS, 'refreshed'))
    await s.tokens.save(
      { state: 'degraded', generation: 1 },
      {
        at: T + 2 * DAY_MS,
        event: 'refresh_failed',
        state: 'degraded',
        code: 'token_endpoint_error',
      }
    )
    assert.deepEqual(await s.tokens.load(), { state: 'degraded', generation: 1 })
    assert.deepEqual(
      (await s.metrics.connectionHistory(T + DAY_MS + 1)).map((e) => [e.at, e.event, e.code]),
      [
        [T + DAY_MS, 'refreshed', null],
        [T + 2 * DAY_MS, 'refresh_failed', 'token_endpoint_error'],
      ]
    )
    assert.equal((await s.metrics.connectionHistory(0)).length, 3)
    // Purged by age.
    await s.metrics.purgeMetrics(T + 1)
    assert.deepEqual(
      (await s.metrics.connectionHistory(0)).map((e) => e.event),
      ['refreshed', 'refresh_failed']
    )
  })

  contract('history: only the last HISTORY_KEPT lines are kept', async (s) => {
    for (let i = 0; i < HISTORY_KEPT + 3; i++) {
      await s.tokens.save({ i }, { at: T + i, event: 'refreshed', state: 'connected', code: null })
    }
    await s.metrics.purgeMetrics(0)
    const kept = await s.metrics.connectionHistory(0)
    assert.equal(kept.length, HISTORY_KEPT)
    assert.equal(kept[0].at, T + 3)
  })

  contract('metrics: purgeMetrics deletes the counters of buckets before the cutoff', async (s) => {
    const old = T - 100 * DAY_MS
    await s.metrics.count(tallyOf([ev('accepted', old), ev('accepted', T)]))
    await s.metrics.purgeMetrics(T - 90 * DAY_MS)
    assert.deepEqual(Object.keys(await counters(s, 'hour')), [`${T}|f`])
    assert.deepEqual(Object.keys(await counters(s, 'day')), [`${T - 12 * HOUR_MS}|f`])
    assert.doesNotMatch(await s.dump(), new RegExp(String(old)))
  })

  /** The refusals from `since` on, as sorted "day form origin n lastAt" lines. */
  const refusals = async (s: StoreUnderTest, since = 0) =>
    (await s.metrics.refusals(since))
      .map((r: RefusalCount) => `${r.day} ${r.form} ${r.origin || '(other)'} ${r.n} ${r.lastAt}`)
      .sort()
  const DAY = T - 12 * HOUR_MS

  contract(
    'refused origins: summed per UTC day, form and origin, in the metrics write',
    async (s) => {
      assert.deepEqual(await s.metrics.refusals(0), [])
      await s.metrics.count(
        tallyOf([refusalEvent('f', 'https://a.test', T), refusalEvent('f', null, T + 1)])
      )
      await s.metrics.count(
        tallyOf([
          refusalEvent('f', 'https://a.test', T - 5),
          refusalEvent('g', 'https://a.test', T + 2),
          refusalEvent('f', '__proto__', T + 3),
          refusalEvent('f', 'https://a.test', T + DAY_MS),
        ])
      )
      assert.deepEqual(await refusals(s), [
        `${DAY} f __proto__ 1 ${T + 3}`,
        `${DAY} f https://a.test 2 ${T}`,
        `${DAY} f ${NO_ORIGIN} 1 ${T + 1}`,
        `${DAY} g https://a.test 1 ${T + 2}`,
        `${DAY + DAY_MS} f https://a.test 1 ${T + DAY_MS}`,
      ])
      // Read from a day on.
      assert.deepEqual(await refusals(s, DAY + DAY_MS), [
        `${DAY + DAY_MS} f https://a.test 1 ${T + DAY_MS}`,
      ])
      // They are origin_not_allowed in the counters too.
      assert.deepEqual((await counters(s, 'day'))[`${DAY}|f`], { origin_not_allowed: 4 })
    }
  )

  contract('refused origins: at most ORIGINS_PER_FORM_DAY named per form and day', async (s) => {
    const flood = (from: number, to: number, form = 'f') =>
      tallyOf(
        Array.from({ length: to - from }, (_, i) =>
          refusalEvent(form, `https://s${from + i}.test`, T)
        )
      )
    // Across writes: the bound is the store's, not only each batch's.
    await s.metrics.count(flood(0, 15))
    await s.metrics.count(flood(15, 40))
    await s.metrics.count(flood(0, 1))
    await s.metrics.count(flood(0, 3, 'g'))
    const rows = await s.metrics.refusals(0)
    const f = rows.filter((r) => r.form === 'f')
    assert.equal(f.length, ORIGINS_PER_FORM_DAY + 1)
    assert.equal(f.find((r) => r.origin === OTHER_ORIGINS)?.n, 40 - ORIGINS_PER_FORM_DAY)
    assert.equal(f.find((r) => r.origin === 'https://s0.test')?.n, 2)
    assert.equal(
      f.reduce((sum, r) => sum + r.n, 0),
      41
    )
    assert.equal(rows.filter((r) => r.form === 'g').length, 3)
  })

  contract(
    'refused origins: purgeMetrics deletes those last refused before the cutoff',
    async (s) => {
      const old = T - 100 * DAY_MS
      await s.metrics.count(
        tallyOf([
          refusalEvent('f', 'https://old.test', old),
          refusalEvent('f', 'https://new.test', T),
        ])
      )
      await s.metrics.purgeMetrics(T - 90 * DAY_MS)
      assert.deepEqual(await refusals(s), [`${DAY} f https://new.test 1 ${T}`])
      assert.doesNotMatch(await s.dump(), /old\.test/)
    }
  )
}
