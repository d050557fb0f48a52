/**
 * @module core/metrics/metrics-routes
 * The owner's metrics routes, mounted inside /admin (owner only, under its security headers):
 *   GET /admin/api/metrics?hours=N&form=ID          counters per hour and form (N: 1–2160, default 24)
 *   GET /admin/activity?form=&status=&outcome=      the Activity page: the last 200 matching
 *                                                   sign-ups (one row each) and the charts
 *   GET /admin/activity.csv?form=&status=&outcome=  every kept matching sign-up, as CSV
 *   GET /admin/dead-letters.csv                     the dead letters, as CSV
 * `status` is where a sign-up ended (signups.ts STATUSES), `outcome` its last event's outcome.
 * Also `loadLastDay`, the last 24 hours' counters (`TodayFigures`). Each read first flushes this
 * isolate's unsent outcome counts (outcome-recorder.ts).
 */
import type { Context, MiddlewareHandler } from 'hono'
import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import type { AppEnv } from '../app/app-env.ts'
import { AppError } from '../app/errors.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { toCsv } from './csv.ts'
import {
  ACTIVITY_KEPT,
  ACTIVITY_SHOWN,
  DAY_MS,
  dayOf,
  type EventOutcome,
  HOUR_MS,
  hourOf,
  MAX_HOURS,
  metricsReport,
  OUTCOMES,
  sumCounts,
} from './metrics.ts'
import { ActivityPage, type Insights } from './metrics-pages.tsx'
import type { OutcomeRecorder } from './outcome-recorder.ts'
import { type SignupStatus, STATUSES, signupRows, statusOf, statusText } from './signups.ts'

const HOURS_RULE = `must be a whole number of hours from 1 to ${MAX_HOURS}`
const formId = v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a form id'))
const MetricsQuery = v.object({
  hours: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\d{1,4}$/, HOURS_RULE),
      v.transform(Number),
      v.minValue(1, HOURS_RULE),
      v.maxValue(MAX_HOURS, HOURS_RULE)
    ),
    '24'
  ),
  form: v.optional(formId),
})
/** The activity filters come from a form whose "All" option is empty. */
const ActivityQuery = v.object({
  form: v.optional(v.union([v.literal(''), formId], 'must be a form id')),
  status: v.optional(v.union([v.literal(''), v.picklist(STATUSES)], 'must be a status')),
  outcome: v.optional(v.union([v.literal(''), v.picklist(OUTCOMES)], 'must be an outcome')),
})

function parseQuery<S extends v.GenericSchema>(schema: S, c: Context): v.InferOutput<S> {
  const parsed = v.safeParse(schema, c.req.query())
  if (parsed.success) return parsed.output
  const issue = parsed.issues[0]
  const field = v.getDotPath(issue) ?? 'query'
  throw new AppError('invalid_input', `${field} ${issue.message}`, {
    details: { fields: { [field]: issue.message } },
  })
}

/** What the metrics pages need from the app (a part of the dashboard's dependencies). */
export interface MetricsDeps {
  backend: () => RelayBackend
  now: () => number
  /** The outcomes this isolate decided but has not yet sent, settled before a read. */
  outcomes?: OutcomeRecorder
  ownerOnly: MiddlewareHandler<AppEnv>
}

/**
 * The forms of FORMS, those made in the dashboard, and any other form the counters know (a
 * removed one's history).
 */
async function formsOf(deps: MetricsDeps, c: Context<AppEnv>, seen: string[] = []) {
  const { forms } = await deps.backend().forms()
  const ids = [...Object.keys(c.var.config.FORMS), ...forms.map((f) => f.id), ...seen]
  return [...new Set(ids)].sort()
}

interface SignupFilter {
  form?: string
  status?: SignupStatus
  outcome?: EventOutcome
}

function signupFilter(c: Context<AppEnv>): SignupFilter {
  const q = parseQuery(ActivityQuery, c)
  return {
    form: q.form || undefined,
    status: q.status || undefined,
    outcome: q.outcome || undefined,
  }
}

/**
 * The newest `limit` sign-ups that match, from every kept line of the form (or of all forms):
 * a sign-up's status is its last line's, so rows are made before they are filtered.
 */
async function signupsOf(deps: MetricsDeps, filter: SignupFilter, limit: number) {
  await deps.outcomes?.flush()
  const lines = await deps.backend().activity({ form: filter.form }, ACTIVITY_KEPT)
  return signupRows(lines)
    .filter(
      (row) =>
        (!filter.status || statusOf(row.outcome) === filter.status) &&
        (!filter.outcome || row.outcome === filter.outcome)
    )
    .slice(0, limit)
}

function csv(c: Context, name: string, rows: (string | number | null)[][]): Response {
  return c.body(toCsv(rows), 200, {
    'content-type': 'text/csv; charset=utf-8',
    'content-disposition': `attachment; filename="ctct-relay-${name}.csv"`,
  })
}

export function metricsRoutes(deps: MetricsDeps): Hono<AppEnv> {
  const app = new Hono<AppEnv>()
  const { ownerOnly } = deps

  app.get('/api/metrics', ownerOnly, async (c) => {
    const { hours, form } = parseQuery(MetricsQuery, c)
    await deps.outcomes?.flush()
    const now = deps.now()
    const from = hourOf(now) - (hours - 1) * HOUR_MS
    const buckets = await deps.backend().metrics({ span: 'hour', from, to: hourOf(now) + HOUR_MS })
    const forms = form
      ? [form]
      : await formsOf(
          deps,
          c,
          buckets.map((b) => b.form)
        )
    return c.json(metricsReport(buckets, { now, hours, forms }))
  })

  app.get('/activity', ownerOnly, async (c) => {
    const filter = signupFilter(c)
    const rows = await signupsOf(deps, filter, ACTIVITY_SHOWN)
    const [relay, insights, lastDay] = await Promise.all([
      deps.backend().status(),
      loadInsights(deps, c, filter.form ?? null),
      loadLastDay(deps, filter.form ?? null),
    ])
    const query = new URLSearchParams(c.req.query()).toString()
    return c.html(
      <ActivityPage
        rows={rows}
        forms={insights.forms}
        form={filter.form}
        status={filter.status}
        csv={`/admin/activity.csv${query ? `?${query}` : ''}`}
        relay={relay}
        insights={insights}
        lastDay={lastDay}
      />
    )
  })

  app.get('/activity.csv', ownerOnly, async (c) => {
    const rows = await signupsOf(deps, signupFilter(c), ACTIVITY_KEPT)
    return csv(c, 'activity', [
      // The first five columns as they were when each event was a row (`time_utc` is now when
      // the sign-up came in, `outcome` its last event's); the new ones after them.
      [
        'time_utc',
        'form',
        'outcome',
        'email_masked',
        'latency_ms',
        'status',
        'status_text',
        'reason',
        'updated_utc',
      ],
      ...rows.map((row) => [
        new Date(row.at).toISOString(),
        row.form,
        row.outcome,
        row.email,
        row.latencyMs,
        statusOf(row.outcome),
        statusText(row),
        row.reason,
        new Date(row.updatedAt).toISOString(),
      ]),
    ])
  })

  app.get('/dead-letters.csv', ownerOnly, async (c) => {
    const letters = await deps.backend().deadLetters(10_000)
    return csv(c, 'dead-letters', [
      // `kind` last: the columns before it keep their places in existing spreadsheets.
      [
        'id',
        'form',
        'email_masked',
        'created_at',
        'dead_at',
        'status',
        'error_key',
        'message',
        'kind',
      ],
      ...letters.map((d) => [
        d.id,
        d.form_id,
        d.email_masked,
        d.created_at,
        d.dead_at,
        d.error?.status ?? null,
        d.error?.error_key ?? null,
        d.error?.message ?? null,
        d.kind,
      ]),
    ])
  })

  return app
}

/**
 * The charts: 30 days per day, 48 hours per hour, the connection's 30 days, of form `picked`
 * (null or unknown: every form).
 */
async function loadInsights(
  deps: MetricsDeps,
  c: Context<AppEnv>,
  picked: string | null
): Promise<Insights> {
  await deps.outcomes?.flush()
  const backend = deps.backend()
  const now = deps.now()
  const [days, hours, history] = await Promise.all([
    backend.metrics({ span: 'day', from: dayOf(now) - 29 * DAY_MS, to: dayOf(now) + DAY_MS }),
    backend.metrics({ span: 'hour', from: hourOf(now) - 47 * HOUR_MS, to: hourOf(now) + HOUR_MS }),
    backend.connectionHistory(now - 30 * DAY_MS),
  ])
  const forms = await formsOf(
    deps,
    c,
    days.map((d) => d.form)
  )
  return {
    now,
    form: picked && forms.includes(picked) ? picked : null,
    forms,
    days,
    hours,
    history,
  }
}

/**
 * The counters of the last 24 hours (the current hour and the 23 before it), summed over every
 * form or over `form`'s: `TodayFigures`' `counts`.
 */
export async function loadLastDay(
  deps: MetricsDeps,
  form: string | null = null
): Promise<Record<string, number>> {
  await deps.outcomes?.flush()
  const now = deps.now()
  const from = hourOf(now) - 23 * HOUR_MS
  const hours = await deps.backend().metrics({ span: 'hour', from, to: hourOf(now) + HOUR_MS })
  return sumCounts(hours.filter((h) => form === null || h.form === form))
}
