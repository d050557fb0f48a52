import { describe, expect, it } from 'vitest'
import { ZERO_DELIVERY, ZERO_INTAKE } from '../../../test/support/outcome-keys.ts'
import { isRetry } from '../outbox/retry-plan.ts'
import {
  groupCounters,
  HOUR_MS,
  LATENCY_BOUNDS_MS,
  latencyCounter,
  latencyPercentiles,
  type MetricEvent,
  metricsReport,
  series,
  signupEvent,
  signupTally,
  tallyOf,
} from './metrics.ts'

const T = Date.UTC(2030, 0, 1, 12, 30)
const H = Date.UTC(2030, 0, 1, 12)
const ev = (outcome: MetricEvent['outcome'], at = T, latencyMs?: number): MetricEvent => ({
  form: 'f',
  outcome,
  at,
  email: null,
  latencyMs,
})

describe('latency buckets', () => {
  it('are 10 ms to 10⁹ ms, never more than 1.5× apart', () => {
    expect(LATENCY_BOUNDS_MS.slice(0, 9)).toEqual([10, 15, 20, 30, 40, 50, 70, 100, 150])
    expect(LATENCY_BOUNDS_MS.at(-1)).toBe(1e9)
    for (let i = 1; i < LATENCY_BOUNDS_MS.length; i++) {
      const ratio = LATENCY_BOUNDS_MS[i] / LATENCY_BOUNDS_MS[i - 1]
      expect(ratio).toBeGreaterThan(1)
      expect(ratio).toBeLessThanOrEqual(1.5)
    }
  })

  it('a latency is counted under the smallest bound at or above it', () => {
    expect(latencyCounter(0)).toBe('l:10')
    expect(latencyCounter(10)).toBe('l:10')
    expect(latencyCounter(11)).toBe('l:15')
    expect(latencyCounter(2001)).toBe('l:3000')
    expect(latencyCounter(86_400_000)).toBe('l:100000000')
    expect(latencyCounter(5e9)).toBe('l:1000000000')
  })

  it('percentiles by nearest rank report the bucket bound: never below, at most 1.5× above', () => {
    expect(latencyPercentiles({})).toEqual({ p50: null, p95: null })
    // 19 fast (≤ 100 ms) and 1 slow (≤ 5 s): p95 is the 19th sample, p50 the 10th.
    expect(latencyPercentiles({ 'l:100': 19, 'l:5000': 1, accepted: 7 })).toEqual({
      p50: 100,
      p95: 100,
    })
    expect(latencyPercentiles({ 'l:100': 18, 'l:5000': 2 })).toEqual({ p50: 100, p95: 5000 })
    const samples = [12, 95, 240, 1800, 2600, 7400, 31_000]
    const counts: Record<string, number> = {}
    for (const ms of samples) counts[latencyCounter(ms)] = (counts[latencyCounter(ms)] ?? 0) + 1
    const { p50 } = latencyPercentiles(counts)
    expect(p50).toBeGreaterThanOrEqual(1800)
    expect(p50).toBeLessThanOrEqual(1800 * 1.5)
  })
})

describe('tallies', () => {
  it('sum counts per hour, form and name, with the latency bucket, and keep every line', () => {
    const tally = tallyOf([
      ev('accepted'),
      ev('delivered', T, 240),
      ev('accepted', T + HOUR_MS),
      { ...ev('accepted'), form: 'g' },
      ev('accepted', T + 1),
    ])
    expect(tally.counts).toEqual([
      { hour: H, form: 'f', name: 'accepted', n: 2 },
      { hour: H, form: 'f', name: 'delivered', n: 1 },
      { hour: H, form: 'f', name: 'l:300', n: 1 },
      { hour: H + HOUR_MS, form: 'f', name: 'accepted', n: 1 },
      { hour: H, form: 'g', name: 'accepted', n: 1 },
    ])
    expect(tally.activity.map((a) => [a.outcome, a.latencyMs])).toEqual([
      ['accepted', null],
      ['delivered', 240],
      ['accepted', null],
      ['accepted', null],
      ['accepted', null],
    ])
  })

  it('one sign-up’s events in one write: each counted, one line with the last outcome', () => {
    const tally = signupTally([
      ev('accepted'),
      { ...ev('delivered', T + 240, 240), reason: 'kept' },
    ])
    expect(tally.counts.map((c) => [c.name, c.n])).toEqual([
      ['accepted', 1],
      ['delivered', 1],
      ['l:300', 1],
    ])
    expect(tally.activity).toEqual([
      {
        at: T,
        form: 'f',
        outcome: 'delivered',
        email: null,
        latencyMs: 240,
        reason: 'kept',
        signup: null,
      },
    ])
    expect(signupTally([]).activity).toEqual([])
  })

  it('an event masks the address, and keeps none that is not a string', () => {
    expect(signupEvent('f', 'accepted', T, 'jane.doe@example.com').email).toBe('j•••e@example.com')
    expect(signupEvent('f', 'invalid_input', T, undefined).email).toBeNull()
  })

  it('only an attempt that was sent counts as retried', () => {
    expect(isRetry({ kind: 'retry', status: 503, errorKey: 'x', message: '' })).toBe(true)
    expect(isRetry({ kind: 'throttled' } as never)).toBe(true)
    expect(isRetry({ kind: 'no_slot', until: T })).toBe(false)
    expect(isRetry({ kind: 'no_token', code: 'needs_reauth' })).toBe(false)
  })
})

describe('the report', () => {
  const buckets = groupCounters([
    { start: H, form: 'f', name: 'accepted', n: 2 },
    { start: H, form: 'f', name: 'delivered', n: 2 },
    { start: H, form: 'f', name: 'l:300', n: 2 },
    { start: H - HOUR_MS, form: 'g', name: 'honeypot', n: 1 },
    { start: H - HOUR_MS, form: 'g', name: 'honeypot', n: 4 },
  ])

  it('has one entry per hour and form, oldest first, every outcome present', () => {
    const report = metricsReport(buckets, { now: T, hours: 3, forms: ['f', 'g'] })
    expect(report.from).toBe(new Date(H - 2 * HOUR_MS).toISOString())
    expect(report.to).toBe(new Date(T).toISOString())
    expect(report.hours.map((h) => [h.hour.slice(11, 13), h.form])).toEqual([
      ['10', 'f'],
      ['10', 'g'],
      ['11', 'f'],
      ['11', 'g'],
      ['12', 'f'],
      ['12', 'g'],
    ])
    expect(report.hours[4]).toEqual({
      hour: '2030-01-01T12:00:00.000Z',
      form: 'f',
      intake: { ...ZERO_INTAKE, accepted: 2 },
      delivery: { ...ZERO_DELIVERY, delivered: 2 },
      latency_ms: { p50: 300, p95: 300 },
    })
    expect(report.hours[0].latency_ms).toEqual({ p50: null, p95: null })
    expect(report.totals.intake).toMatchObject({ accepted: 2, honeypot: 5, outbox_full: 0 })
    expect(report.totals.delivery).toEqual({ delivered: 2, dead_lettered: 0, retried: 0 })
  })

  it('leaves out the forms not asked for', () => {
    const report = metricsReport(buckets, { now: T, hours: 2, forms: ['g'] })
    expect(report.hours.map((h) => h.intake.honeypot)).toEqual([5, 0])
    expect(report.totals.intake.accepted).toBe(0)
  })

  it('series: consecutive buckets of one form or of all', () => {
    const all = series(buckets, 'hour', H - HOUR_MS, 3, null)
    expect(all.map((b) => [b.start, b.counts])).toEqual([
      [H - HOUR_MS, { honeypot: 5 }],
      [H, { accepted: 2, delivered: 2, 'l:300': 2 }],
      [H + HOUR_MS, {}],
    ])
    expect(series(buckets, 'hour', H - HOUR_MS, 2, 'f').map((b) => b.counts)).toEqual([
      {},
      { accepted: 2, delivered: 2, 'l:300': 2 },
    ])
  })
})
