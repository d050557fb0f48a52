/**
 * @module core/metrics/metrics
 * What the owner's metrics count, as pure functions: outcomes, the latency histogram, the counter
 * and activity writes (`Tally`) a store makes in the same write as the event, and the report.
 * Counters are per hour and form; a latency percentile is the upper bound of its histogram bucket
 * (never below the true value, at most 1.5× above). Details: docs/storage.md, table `metrics`.
 */
import { maskEmail } from '../lib/mask-email.ts'
import {
  type RefusalCount,
  RefusalSums,
  refusalDay,
  refusedOriginKey,
} from '../origins/refusals.ts'

export const INTAKE_OUTCOMES = [
  'accepted',
  'duplicate',
  'invalid_input',
  'honeypot',
  'rate_limited',
  'challenge_failed',
  'origin_not_allowed',
  'outbox_full',
] as const
export const DELIVERY_OUTCOMES = ['delivered', 'dead_lettered', 'retried'] as const
export type IntakeOutcome = (typeof INTAKE_OUTCOMES)[number]
export type DeliveryOutcome = (typeof DELIVERY_OUTCOMES)[number]
export type EventOutcome = IntakeOutcome | DeliveryOutcome
export const OUTCOMES: readonly EventOutcome[] = [...INTAKE_OUTCOMES, ...DELIVERY_OUTCOMES]

export const HOUR_MS = 3_600_000
export const DAY_MS = 86_400_000
/** How far back `GET /admin/api/metrics` reaches: the 90 days the counters are kept. */
export const MAX_HOURS = 2160
export const METRICS_RETENTION_MS = MAX_HOURS * HOUR_MS
/**
 * The recent activity keeps this many lines (a queued sign-up has several: signups.ts makes them
 * one row); the owner's page shows the last 200 sign-ups that match.
 */
export const ACTIVITY_KEPT = 1000
export const ACTIVITY_SHOWN = 200

/** One thing that happened to one sign-up. */
export interface MetricEvent {
  form: string
  outcome: EventOutcome
  at: number
  /** Masked (`j•••e@example.com`); null where the address is unknown or was not valid. */
  email: string | null
  /** Acceptance to delivery, for `delivered`. */
  latencyMs?: number
  /** For `origin_not_allowed`: the origin refused (refusals.ts `refusedOriginKey`). */
  origin?: string
  /** Why, in codes (signups.ts `statusText` words them): a refusal's field and check, CC's error. */
  reason?: string
}

/** `n` more of counter `name` (an outcome, or a latency bucket) for `form` in one hour. */
export interface Count {
  hour: number
  form: string
  name: string
  n: number
}

/** One line of the recent activity. */
export interface ActivityEntry {
  at: number
  form: string
  outcome: EventOutcome
  email: string | null
  latencyMs: number | null
  reason: string | null
  /**
   * The outbox item the line is about: set by the store that writes the line with the item's
   * own write (OutboxRepo), so a queued sign-up's lines share it; null otherwise.
   */
  signup: number | null
}

/** What one write adds: counter increments and activity lines, and refused origins. */
export interface Tally {
  counts: Count[]
  activity: ActivityEntry[]
  /** Only in the app's own sums (outcome-recorder.ts), written by `MetricsRepo.count`. */
  refusals?: RefusalCount[]
}

/** Reported by an observer of every event (Workers Analytics Engine, when bound). */
export type EventSink = (event: MetricEvent) => void

export type Span = 'hour' | 'day'
/** A counter of one bucket (an hour, or the sum of a day's hours), form and name. */
export interface CounterRow {
  start: number
  form: string
  name: string
  n: number
}

/** 10, 15, 20, 30, 40, 50, 70, 100, 150, … ms up to 10⁹ ms (11.6 days): at most ×1.5 apart. */
export const LATENCY_BOUNDS_MS: readonly number[] = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7]
  .flatMap((d) => [1, 1.5, 2, 3, 4, 5, 7].map((m) => m * d * 10))
  .concat(1e9)

/** The counter a latency is tallied in: its bucket's upper bound (the last bucket takes the rest). */
export function latencyCounter(ms: number): string {
  return `l:${LATENCY_BOUNDS_MS.find((bound) => ms <= bound) ?? 1e9}`
}

export const hourOf = (at: number) => at - (at % HOUR_MS)
export const dayOf = (at: number) => at - (at % DAY_MS)

/** An event about one sign-up, with its address masked for the activity. */
export function signupEvent(
  form: string,
  outcome: EventOutcome,
  at: number,
  email: unknown,
  more: { latencyMs?: number; reason?: string } = {}
): MetricEvent {
  return {
    form,
    outcome,
    at,
    email: typeof email === 'string' ? maskEmail(email) : null,
    ...(more.latencyMs === undefined ? {} : { latencyMs: more.latencyMs }),
    ...(more.reason === undefined ? {} : { reason: more.reason }),
  }
}

/**
 * A refused origin, from a preflight or a post: an `origin_not_allowed` that also counts the
 * origin it named (`origin`: the Origin header, or the Referer's; null when there was none).
 */
export function refusalEvent(form: string, origin: string | null, at: number): MetricEvent {
  const key = refusedOriginKey(origin)
  return { ...signupEvent(form, 'origin_not_allowed', at, null, { reason: key }), origin: key }
}

const lineOf = (e: MetricEvent): ActivityEntry => ({
  at: e.at,
  form: e.form,
  outcome: e.outcome,
  email: e.email,
  latencyMs: e.latencyMs ?? null,
  reason: e.reason ?? null,
  signup: null,
})

/** The counts and activity lines of `events` (a line each), counts summed per hour, form and name. */
export function tallyOf(events: readonly MetricEvent[]): Tally {
  const counts = new Map<string, Count>()
  const add = (hour: number, form: string, name: string) => {
    const key = `${hour}|${form}|${name}`
    const count = counts.get(key)
    if (count) count.n++
    else counts.set(key, { hour, form, name, n: 1 })
  }
  const refusals = new RefusalSums()
  for (const e of events) {
    add(hourOf(e.at), e.form, e.outcome)
    if (e.latencyMs !== undefined) add(hourOf(e.at), e.form, latencyCounter(e.latencyMs))
    if (e.origin !== undefined)
      refusals.add({ day: refusalDay(e.at), form: e.form, origin: e.origin, n: 1, lastAt: e.at })
  }
  const refused = refusals.counts()
  return {
    ...(refused.length > 0 ? { refusals: refused } : {}),
    counts: [...counts.values()],
    activity: events.map(lineOf),
  }
}

/**
 * The tally of one sign-up's events in one write (accepted and delivered, by an inline send):
 * each is counted, and the activity gets one line, at the first event's time, with the last
 * event's outcome and reason, and the latency of the delivery among them.
 */
export function signupTally(events: readonly MetricEvent[]): Tally {
  const { activity: _, ...counted } = tallyOf(events)
  const last = events.at(-1)
  if (!last) return { ...counted, activity: [] }
  const latencyMs = events.find((e) => e.latencyMs !== undefined)?.latencyMs
  return { ...counted, activity: [{ ...lineOf({ ...last, latencyMs }), at: events[0].at }] }
}

/** The counters of one bucket (an hour or a day) and form, by name. */
export interface CounterBucket {
  start: number
  form: string
  counts: Record<string, number>
}

/** Rows into buckets; rows of one bucket, form and name add up (a day from its hours). */
export function groupCounters(rows: readonly CounterRow[]): CounterBucket[] {
  const buckets = new Map<string, CounterBucket>()
  for (const { start, form, name, n } of rows) {
    const key = `${start}|${form}`
    const bucket = buckets.get(key) ?? { start, form, counts: {} }
    buckets.set(key, bucket)
    bucket.counts[name] = (bucket.counts[name] ?? 0) + n
  }
  return [...buckets.values()]
}

/** Counters summed over buckets (all forms, or the selected one). */
export function sumCounts(buckets: readonly CounterBucket[]): Record<string, number> {
  const sum: Record<string, number> = {}
  for (const b of buckets)
    for (const [name, n] of Object.entries(b.counts)) sum[name] = (sum[name] ?? 0) + n
  return sum
}

/**
 * p50 and p95 of the latency histogram in `counts`, by nearest rank: the upper bound of the bucket
 * holding the q-th sample (null when nothing was delivered).
 */
export function latencyPercentiles(counts: Record<string, number>): {
  p50: number | null
  p95: number | null
} {
  const buckets = LATENCY_BOUNDS_MS.map((bound) => [bound, counts[`l:${bound}`] ?? 0])
  const total = buckets.reduce((sum, [, n]) => sum + n, 0)
  const at = (q: number) => {
    if (total === 0) return null
    let seen = 0
    for (const [bound, n] of buckets) {
      seen += n
      if (seen >= Math.ceil(q * total)) return bound
    }
    return null
  }
  return { p50: at(0.5), p95: at(0.95) }
}

const pick = <K extends string>(keys: readonly K[], counts: Record<string, number>) =>
  Object.fromEntries(keys.map((k) => [k, counts[k] ?? 0])) as Record<K, number>

export interface HourReport {
  hour: string
  form: string
  intake: Record<IntakeOutcome, number>
  delivery: Record<DeliveryOutcome, number>
  latency_ms: { p50: number | null; p95: number | null }
}

/** The body of GET /admin/api/metrics (README "Metrics"). */
export interface MetricsReport {
  from: string
  to: string
  hours: HourReport[]
  totals: { intake: Record<IntakeOutcome, number>; delivery: Record<DeliveryOutcome, number> }
}

/**
 * The last `hours` hours up to `now` (the current one partial), one entry per hour and form, every
 * outcome present; `forms` are the forms to report (entries for other forms are left out).
 */
export function metricsReport(
  buckets: readonly CounterBucket[],
  window: { now: number; hours: number; forms: readonly string[] }
): MetricsReport {
  const from = hourOf(window.now) - (window.hours - 1) * HOUR_MS
  const byKey = new Map(buckets.map((b) => [`${b.start}|${b.form}`, b.counts]))
  const hours: HourReport[] = []
  for (let start = from; start <= window.now; start += HOUR_MS) {
    for (const form of window.forms) {
      const counts = byKey.get(`${start}|${form}`) ?? {}
      hours.push({
        hour: new Date(start).toISOString(),
        form,
        intake: pick(INTAKE_OUTCOMES, counts),
        delivery: pick(DELIVERY_OUTCOMES, counts),
        latency_ms: latencyPercentiles(counts),
      })
    }
  }
  const total = (keys: readonly string[], part: 'intake' | 'delivery') =>
    Object.fromEntries(
      keys.map((k) => [k, hours.reduce((s, h) => s + (h[part] as Record<string, number>)[k], 0)])
    )
  return {
    from: new Date(from).toISOString(),
    to: new Date(window.now).toISOString(),
    hours,
    totals: {
      intake: total(INTAKE_OUTCOMES, 'intake') as Record<IntakeOutcome, number>,
      delivery: total(DELIVERY_OUTCOMES, 'delivery') as Record<DeliveryOutcome, number>,
    },
  }
}

/**
 * `columns` consecutive buckets of `span` from `from`, each with the counters of `form` (or of
 * every form, when null): the charts' data.
 */
export function series(
  buckets: readonly CounterBucket[],
  span: Span,
  from: number,
  columns: number,
  form: string | null
): { start: number; counts: Record<string, number> }[] {
  const size = span === 'hour' ? HOUR_MS : DAY_MS
  return Array.from({ length: columns }, (_, i) => {
    const start = from + i * size
    const mine = buckets.filter((b) => b.start === start && (form === null || b.form === form))
    return { start, counts: sumCounts(mine) }
  })
}
