/**
 * @module core/metrics/metrics-pages
 * The Activity page (/admin/activity): the last 24 hours in figures, the recent sign-ups (one row
 * each, with what became of it and why) and the charts over time (per day, per hour, deliveries,
 * backlog, quota, the connection's timeline). Charts come from charts.tsx, rows from signups.ts.
 */
import type { ConnectionHistoryEntry } from '../connection/history.ts'
import type { RelayStatus } from '../relay/backend.ts'
import { Page } from '../ui/layout.tsx'
import { When } from '../ui/time.tsx'
import { type Column, Meter, StackedBars, Timeline } from './charts.tsx'
import {
  type CounterBucket,
  DAY_MS,
  DELIVERY_OUTCOMES,
  dayOf,
  type EventOutcome,
  HOUR_MS,
  hourOf,
  INTAKE_OUTCOMES,
  latencyPercentiles,
  series,
} from './metrics.ts'
import {
  type SignupRow,
  type SignupStatus,
  STATUS_LABELS,
  STATUSES,
  statusOf,
  statusText,
} from './signups.ts'

/** `rate_limited` → "rate limited": the names of the API, readable. */
export const label = (name: string) => name.replaceAll('_', ' ')

/** The Activity page's figures over time (metrics/metrics-routes.tsx `loadInsights`). */
export interface Insights {
  now: number
  /** The form the charts show; null: every form. */
  form: string | null
  forms: string[]
  days: CounterBucket[]
  hours: CounterBucket[]
  history: ConnectionHistoryEntry[]
}

const stacks = (outcomes: readonly EventOutcome[], columns: { counts: Record<string, number> }[]) =>
  outcomes.map((key) => ({
    key,
    label: label(key),
    values: columns.map((c) => c.counts[key] ?? 0),
  }))

/** Labels for the table, and a tick under the axis every `every` columns, ending on the last. */
const columnsOf = (
  starts: number[],
  label: (iso: string) => string,
  tick: (iso: string) => string,
  every: number
): Column[] =>
  starts.map((start, i) => {
    const iso = new Date(start).toISOString()
    return { label: label(iso), tick: (starts.length - 1 - i) % every ? undefined : tick(iso) }
  })

/** The refusals an owner may read as one figure. */
const REFUSALS = INTAKE_OUTCOMES.filter((o) => statusOf(o) === 'refused')

/**
 * The last 24 hours in figures: what came in, was sent, failed, was refused, and what waits now.
 * `counts`: the counters summed over those hours (metrics-routes.tsx `loadLastDay`); `waiting`:
 * the backlog now (status.outbox.pending).
 */
export function TodayFigures(props: {
  counts: Record<string, number>
  waiting: number
  /** The form the counts are of (`loadLastDay`'s); absent: every form. */
  form?: string
}) {
  const n = (outcome: string) => props.counts[outcome] ?? 0
  const refused = REFUSALS.reduce((sum, o) => sum + n(o), 0)
  const figures: [string, number][] = [
    ['Accepted', n('accepted')],
    [STATUS_LABELS.sent, n('delivered')],
    [`Waiting to send now${props.form ? ' (all forms)' : ''}`, props.waiting],
    [STATUS_LABELS.failed, n('dead_lettered')],
    [STATUS_LABELS.refused, refused],
    ['Repeats, not sent again', n('duplicate')],
  ]
  return (
    <section class="card" aria-labelledby="today-h">
      <h2 id="today-h">Last 24 hours{props.form ? ` (form ${props.form})` : ''}</h2>
      <dl class="figures">
        {figures.map(([name, value]) => (
          <div>
            <dt>{name}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
      {refused > 0 && (
        <p class="hint">
          Refused:{' '}
          {REFUSALS.filter((o) => n(o) > 0)
            .map((o) => `${label(o)} ${n(o)}`)
            .join(', ')}
          .
        </p>
      )}
    </section>
  )
}

/** The charts: sign-ups per day and per hour, deliveries, backlog and quota, the connection. */
function InsightsSection({ insights: i, status }: { insights: Insights; status: RelayStatus }) {
  const days = series(i.days, 'day', dayOf(i.now) - 29 * DAY_MS, 30, i.form)
  const hours = series(i.hours, 'hour', hourOf(i.now) - 47 * HOUR_MS, 48, i.form)
  const dayColumns = columnsOf(
    days.map((d) => d.start),
    (iso) => iso.slice(0, 10),
    (iso) => iso.slice(5, 10),
    5
  )
  const latency = days.map((d) => latencyPercentiles(d.counts))
  const whose = i.form ? `form ${i.form}` : 'all forms'
  return (
    <section class="card" id="charts" aria-labelledby="charts-h">
      <h2 id="charts-h">Sign-ups over time</h2>
      <p>
        Days and hours are UTC. <a href="/admin/api/metrics?hours=48">The counters as JSON</a>
      </p>
      <h3>Sign-ups per day, last 30 days ({whose})</h3>
      <StackedBars
        id="chart-days"
        title={`Sign-ups per day by outcome, ${whose}`}
        columns={dayColumns}
        stacks={stacks(INTAKE_OUTCOMES, days)}
      />
      <h3>Sign-ups per hour, last 48 hours ({whose})</h3>
      <StackedBars
        id="chart-hours"
        title={`Sign-ups per hour by outcome, ${whose}`}
        columns={columnsOf(
          hours.map((h) => h.start),
          (iso) => `${iso.slice(0, 10)} ${iso.slice(11, 16)}`,
          (iso) => iso.slice(11, 16),
          8
        )}
        stacks={stacks(INTAKE_OUTCOMES, hours)}
      />
      <h3>Deliveries per day, last 30 days ({whose})</h3>
      <StackedBars
        id="chart-deliveries"
        title={`Deliveries per day, ${whose}`}
        columns={dayColumns}
        stacks={stacks(DELIVERY_OUTCOMES, days)}
        extra={[
          { label: 'latency p50 (ms, ≤)', values: latency.map((l) => l.p50) },
          { label: 'latency p95 (ms, ≤)', values: latency.map((l) => l.p95) },
        ]}
      />
      <h3>Backlog and quota, now</h3>
      <Meter
        label="Backlog (sign-ups waiting)"
        value={status.outbox.pending}
        max={status.outbox.max_pending}
      />
      <Meter
        label="Constant Contact requests today (daily quota)"
        value={status.outbox.quota_used_today}
        max={status.outbox.quota_limit}
      />
      <h3>The connection, last 30 days</h3>
      <Timeline
        id="chart-connection"
        title="Connection state, refreshes, failures and reconnects"
        from={i.now - 30 * DAY_MS}
        to={i.now}
        entries={i.history}
      />
    </section>
  )
}

/** The Activity page's filter: a plain GET form, so it works without JavaScript. */
function ActivityFilter(props: { forms: string[]; form?: string; status?: SignupStatus }) {
  return (
    <form method="get" action="/admin/activity" class="card filter">
      <label for="pick-form">Form</label>
      <select id="pick-form" name="form">
        <option value="">All forms</option>
        {props.forms.map((f) => (
          <option value={f} selected={f === props.form}>
            {f}
          </option>
        ))}
      </select>
      <label for="pick-status">Status</label>
      <select id="pick-status" name="status">
        <option value="">Every status</option>
        {STATUSES.map((s) => (
          <option value={s} selected={s === props.status}>
            {STATUS_LABELS[s]}
          </option>
        ))}
      </select>
      <button type="submit">Show</button>
    </form>
  )
}

function SignupsTable({ rows, zone }: { rows: SignupRow[]; zone?: string }) {
  return (
    <section class="scroll" aria-label="Table of recent sign-ups" tabindex={0}>
      <table id="activity">
        <thead>
          <tr>
            <th scope="col">Signed up</th>
            <th scope="col">Form</th>
            <th scope="col">Email</th>
            <th scope="col">Status</th>
            <th scope="col" class="num">
              Sent after (ms)
            </th>
          </tr>
        </thead>
        <tbody>
          {rows.map((row) => (
            <tr data-outcome={row.outcome} data-status={statusOf(row.outcome)}>
              <th scope="row">
                <When at={row.at} zone={zone} />
              </th>
              <td>{row.form}</td>
              <td>{row.email ?? '—'}</td>
              <td>
                <span class={`sw o-${row.outcome}`} aria-hidden="true" />
                {statusText(row)}
              </td>
              <td class="num">{row.latencyMs ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  )
}

export function ActivityPage(props: {
  rows: SignupRow[]
  forms: string[]
  form?: string
  status?: SignupStatus
  /** The CSV of the same filter. */
  csv: string
  relay: RelayStatus
  insights: Insights
  /** The counters of the last 24 hours (`TodayFigures`). */
  lastDay: Record<string, number>
}) {
  const zone = props.relay.account.summary?.time_zone_id
  return (
    <Page title="Activity" owner="activity">
      <ActivityFilter forms={props.forms} form={props.form} status={props.status} />
      <TodayFigures counts={props.lastDay} waiting={props.relay.outbox.pending} form={props.form} />
      <section class="card" aria-labelledby="signups-h">
        <h2 id="signups-h">Recent sign-ups</h2>
        <p>
          The last {props.rows.length} sign-ups that match, newest first, each with what became of
          it; addresses masked. <a href={props.csv}>Download as CSV</a> ·{' '}
          <a href="/admin/dead-letters.csv">Failed sign-ups as CSV</a>
        </p>
        {props.rows.length === 0 ? (
          <p>Nothing yet.</p>
        ) : (
          <SignupsTable rows={props.rows} zone={zone} />
        )}
      </section>
      <InsightsSection insights={props.insights} status={props.relay} />
    </Page>
  )
}
