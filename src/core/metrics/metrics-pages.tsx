/**
 * @module core/metrics/metrics-pages
 * The dashboard's "Sign-ups over time" section (per day, per hour, deliveries, backlog, quota, the
 * connection's timeline) and the recent activity page. Charts come from charts.tsx.
 */
import type { ConnectionHistoryEntry } from '../connection/history.ts'
import type { RelayStatus } from '../relay/backend.ts'
import { NextStep, Page } from '../ui/layout.tsx'
import { type Column, Meter, StackedBars, Timeline } from './charts.tsx'
import {
  type ActivityEntry,
  type CounterBucket,
  DAY_MS,
  DELIVERY_OUTCOMES,
  dayOf,
  type EventOutcome,
  HOUR_MS,
  hourOf,
  INTAKE_OUTCOMES,
  latencyPercentiles,
  OUTCOMES,
  series,
} from './metrics.ts'

/** `rate_limited` → "rate limited": the names of the API, readable. */
export const label = (name: string) => name.replaceAll('_', ' ')

/** The dashboard's figures over time (metrics/metrics-routes.tsx `loadInsights`). */
export interface Insights {
  now: number
  /** The form the charts show; null: every form. */
  form: string | null
  forms: string[]
  days: CounterBucket[]
  hours: CounterBucket[]
  history: ConnectionHistoryEntry[]
  /** OUTBOX_MAX_PENDING, where the configuration has it. */
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

function FormPicker({ forms, form }: { forms: string[]; form?: string | null }) {
  return (
    <>
      <label for="pick-form">Form</label>{' '}
      <select id="pick-form" name="form">
        <option value="">All forms</option>
        {forms.map((f) => (
          <option value={f} selected={f === form}>
            {f}
          </option>
        ))}
      </select>{' '}
    </>
  )
}

export function InsightsSection({
  insights: i,
  status,
}: {
  insights: Insights
  status: RelayStatus
}) {
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
    <section class="card" id="charts">
      <h2>Sign-ups over time</h2>
      <form method="get" action="/admin#charts">
        <FormPicker forms={i.forms} form={i.form} />
        <button type="submit">Show</button>
      </form>
      <p>
        Times are UTC. <a href="/admin/activity">Recent activity</a> ·{' '}
        <a href="/admin/api/metrics?hours=48">the counters as JSON</a>
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
          6
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

const second = (at: number) => new Date(at).toISOString().slice(0, 19).replace('T', ' ')

export function ActivityPage(props: {
  entries: ActivityEntry[]
  forms: string[]
  form?: string
  outcome?: string
  csv: string
}) {
  return (
    <Page title="Recent activity" owner="activity">
      <form method="get" action="/admin/activity" class="card">
        <FormPicker forms={props.forms} form={props.form} />
        <label for="pick-outcome">Outcome</label>{' '}
        <select id="pick-outcome" name="outcome">
          <option value="">All outcomes</option>
          {OUTCOMES.map((o) => (
            <option value={o} selected={o === props.outcome}>
              {label(o)}
            </option>
          ))}
        </select>{' '}
        <button type="submit">Filter</button>
      </form>
      <p>
        The last {props.entries.length} events that match, newest first (times UTC, addresses
        masked). <a href={props.csv}>Download as CSV</a> ·{' '}
        <a href="/admin/dead-letters.csv">Dead letters as CSV</a>
      </p>
      <section class="scroll" aria-label="Recent activity" tabindex={0}>
        <table id="activity">
          <thead>
            <tr>
              <th scope="col">time</th>
              <th scope="col">form</th>
              <th scope="col">outcome</th>
              <th scope="col">email</th>
              <th scope="col" class="num">
                latency (ms)
              </th>
            </tr>
          </thead>
          <tbody>
            {props.entries.map((a) => (
              <tr data-outcome={a.outcome}>
                <th scope="row">{second(a.at)}</th>
                <td>{a.form}</td>
                <td>
                  <span class={`sw o-${a.outcome}`} aria-hidden="true" />
                  {label(a.outcome)}
                </td>
                <td>{a.email ?? '—'}</td>
                <td class="num">{a.latencyMs ?? ''}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      {props.entries.length === 0 && <p>Nothing yet.</p>}
      <NextStep href="/admin" label="Back to /admin" />
    </Page>
  )
}
