/**
 * @module core/metrics/charts
 * Server-rendered SVG charts with no script and no style attribute (colours are CHART_STYLES
 * classes), so the owner pages' strict CSP holds. Each chart is titled and described for screen
 * readers and followed by its figures as a table. Pure: data in, markup out.
 */
import type { ConnectionHistoryEntry } from '../connection/history.ts'

const W = 640
const LEFT = 44
/** Room on the right for the last tick's label. */
const PLOT_W = W - LEFT - 20
const TOP = 8
const PLOT_H = 150
const r1 = (n: number) => Math.round(n * 10) / 10

/** The top of a y axis: the smallest 1, 2 or 5 × 10ⁿ at or above `v`, and at least 1. */
export function niceMax(v: number): number {
  let step = 1
  while (step * 5 < v) step *= 10
  return [1, 2, 5, 10].map((m) => m * step).find((top) => top >= v) ?? 1
}

export interface Stack {
  key: string
  label: string
  values: number[]
}

export interface Column {
  /** In the table. */
  label: string
  /** Under the x axis, for the columns that get one. */
  tick?: string
}

/** A column of figures shown in the table only (the latency percentiles). */
export interface TableOnly {
  label: string
  values: (number | null)[]
}

/** One bar per column, stacked bottom-up in the order of `stacks`. */
export function StackedBars(props: {
  id: string
  title: string
  columns: Column[]
  stacks: Stack[]
  extra?: TableOnly[]
}) {
  const { id, title, columns, stacks, extra = [] } = props
  const totals = columns.map((_, i) => stacks.reduce((sum, s) => sum + s.values[i], 0))
  const top = niceMax(Math.max(0, ...totals))
  const y = (v: number) => r1(TOP + PLOT_H - (v / top) * PLOT_H)
  const step = PLOT_W / columns.length
  const sums = stacks.map((s) => s.values.reduce((a, b) => a + b, 0))
  const all = sums.reduce((a, b) => a + b, 0)
  const busiest = totals.indexOf(Math.max(...totals))
  const summary =
    all === 0
      ? 'Nothing in this period.'
      : `${all} in all: ${stacks
          .map((s, i) => (sums[i] ? `${s.label} ${sums[i]}` : ''))
          .filter(Boolean)
          .join(', ')}. Most: ${columns[busiest].label} (${totals[busiest]}).`
  return (
    <figure class="chart">
      <svg viewBox="0 0 640 180" role="img" aria-labelledby={`${id}-t ${id}-d`}>
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{summary}</desc>
        {(top % 2 ? [0, top] : [0, top / 2, top]).map((v) => (
          <g class="grid">
            <line x1={LEFT} x2={LEFT + PLOT_W} y1={y(v)} y2={y(v)} />
            <text x={LEFT - 4} y={y(v) + 4} text-anchor="end">
              {v}
            </text>
          </g>
        ))}
        {columns.map((column, i) => {
          const x = r1(LEFT + i * step + step * 0.1)
          let base = 0
          return (
            <g>
              {stacks.map((s) => {
                const v = s.values[i]
                if (v === 0) return null
                const bar = (
                  <rect
                    class={`o-${s.key}`}
                    x={x}
                    y={y(base + v)}
                    width={r1(step * 0.8)}
                    height={r1(y(base) - y(base + v))}
                  />
                )
                base += v
                return bar
              })}
              {column.tick && (
                <text x={r1(x + step * 0.4)} y="176" text-anchor="middle">
                  {column.tick}
                </text>
              )}
            </g>
          )
        })}
      </svg>
      <Legend items={stacks} />
      <details>
        <summary>{title}: the figures</summary>
        <section class="scroll" aria-label={title} tabindex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">UTC</th>
                {stacks.map((s) => (
                  <th scope="col">{s.label}</th>
                ))}
                <th scope="col">total</th>
                {extra.map((e) => (
                  <th scope="col">{e.label}</th>
                ))}
              </tr>
            </thead>
            <tbody>
              {columns.map((column, i) => (
                <tr>
                  <th scope="row">{column.label}</th>
                  {stacks.map((s) => (
                    <td>{s.values[i]}</td>
                  ))}
                  <td>{totals[i]}</td>
                  {extra.map((e) => (
                    <td>{e.values[i] ?? '—'}</td>
                  ))}
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      </details>
    </figure>
  )
}

function Legend({ items }: { items: { key: string; label: string }[] }) {
  return (
    <ul class="legend">
      {items.map((item) => (
        <li>
          <span class={`sw o-${item.key}`} aria-hidden="true" />
          {item.label}
        </li>
      ))}
    </ul>
  )
}

/** A figure against its limit, as a bar (or the figure alone when there is no limit). */
export function Meter({ label, value, max }: { label: string; value: number; max: number }) {
  const ratio = Math.min(1, value / max)
  return (
    <figure class="chart">
      <svg viewBox="0 0 640 16" aria-hidden="true">
        <rect class="track" width="640" height="16" rx="4" />
        <rect class={ratio >= 0.9 ? 'bad' : 'fill'} width={r1(640 * ratio)} height="16" rx="4" />
      </svg>
      <figcaption>
        {label}: {value} of {max} ({Math.round(ratio * 100)}%)
      </figcaption>
    </figure>
  )
}

/** The events the timeline marks (others that change the state get a grey mark). */
const EVENT_LABELS: Record<string, string> = {
  consented: 'connect',
  refreshed: 'refresh',
  refresh_failed: 'refresh failed',
  disconnected: 'disconnect',
}
const STATES = ['connected', 'degraded', 'needs_reauth', 'not_connected']
const stateLabel = (state: string) => state.replace('_', ' ')
const TIMELINE_KEYS = [
  ...STATES.map((state) => ({ key: `s-${state}`, label: stateLabel(state) })),
  ...Object.entries(EVENT_LABELS).map(([key, label]) => ({ key: `e-${key}`, label })),
]
const minute = (at: number) => new Date(at).toISOString().slice(0, 16).replace('T', ' ')

/**
 * The connection over [from, to): a band coloured by state (from `entries[0]`, which may predate
 * `from`), a mark per refresh, failure, connect and disconnect, and the last 100 as a table.
 */
export function Timeline(props: {
  id: string
  title: string
  from: number
  to: number
  entries: ConnectionHistoryEntry[]
}) {
  const { id, title, from, to, entries } = props
  const x = (at: number) => r1(LEFT + ((Math.max(at, from) - from) / (to - from)) * PLOT_W)
  const inWindow = entries.filter((e) => e.at >= from)
  const tally = (event: string) => inWindow.filter((e) => e.event === event).length
  const now = entries.at(-1)
  const summary = `${tally('refreshed')} refreshes, ${tally('refresh_failed')} failed refreshes, ${tally('consented')} connects, ${tally('disconnected')} disconnects. ${now ? `Now ${stateLabel(now.state)}.` : 'No history yet.'}`
  const days = Array.from({ length: Math.floor((to - from) / 86_400_000) + 1 }, (_, i) => {
    return from + i * 86_400_000
  })
  return (
    <figure class="chart">
      <svg viewBox="0 0 640 64" role="img" aria-labelledby={`${id}-t ${id}-d`}>
        <title id={`${id}-t`}>{title}</title>
        <desc id={`${id}-d`}>{summary}</desc>
        {entries.map((e, i) => (
          <rect
            class={`o-s-${e.state}`}
            x={x(e.at)}
            y="6"
            width={r1(x(entries[i + 1]?.at ?? to) - x(e.at))}
            height="16"
          />
        ))}
        {inWindow.map((e) =>
          e.event === 'refreshed' ? (
            <line class="o-e-refreshed" x1={x(e.at)} x2={x(e.at)} y1="28" y2="40" />
          ) : (
            <circle
              class={`o-e-${e.event in EVENT_LABELS ? e.event : 'other'}`}
              cx={x(e.at)}
              cy="34"
              r="4"
            />
          )
        )}
        {days
          .filter((_, i) => i % 5 === 0)
          .map((day) => (
            <text x={x(day)} y="58" text-anchor="middle">
              {new Date(day).toISOString().slice(5, 10)}
            </text>
          ))}
      </svg>
      <Legend items={TIMELINE_KEYS} />
      <details>
        <summary>{title}: the events</summary>
        <table>
          <thead>
            <tr>
              <th scope="col">UTC</th>
              <th scope="col">event</th>
              <th scope="col">state after</th>
              <th scope="col">error</th>
            </tr>
          </thead>
          <tbody>
            {inWindow
              .slice(-100)
              .reverse()
              .map((e) => (
                <tr>
                  <th scope="row">{minute(e.at)}</th>
                  <td>{EVENT_LABELS[e.event] ?? e.event}</td>
                  <td>{stateLabel(e.state)}</td>
                  <td>{e.code ?? ''}</td>
                </tr>
              ))}
          </tbody>
        </table>
      </details>
    </figure>
  )
}

/** The charts' colours (Okabe–Ito, readable with colour blindness), appended to STYLESHEET. */
export const CHART_STYLES = `
.chart { margin: 1rem 0; } .chart svg { display: block; width: 100%; height: auto; }
.chart text { fill: currentColor; font-size: 11px; } .grid line { stroke: #8886; }
.track { fill: #8883; } .fill { fill: var(--accent); } .bad { fill: var(--bad); }
.legend { list-style: none; padding: 0; margin: .25rem 0; display: flex; flex-wrap: wrap; gap: .2rem 1rem; font-size: .9rem; }
.sw { display: inline-block; width: .8rem; height: .8rem; margin-right: .3rem; border-radius: 2px; }
.o-accepted, .o-delivered, .o-s-connected { fill: #009e73; background: #009e73; }
.o-duplicate, .o-e-refreshed { fill: #56b4e9; background: #56b4e9; stroke: #56b4e9; stroke-width: 2; }
.o-invalid_input, .o-retried, .o-s-degraded { fill: #e69f00; background: #e69f00; }
.o-honeypot { fill: #cc79a7; background: #cc79a7; }
.o-rate_limited, .o-dead_lettered, .o-s-needs_reauth, .o-e-refresh_failed { fill: #d55e00; background: #d55e00; }
.o-challenge_failed, .o-e-consented { fill: #0072b2; background: #0072b2; }
.o-origin_not_allowed { fill: #8c6d1f; background: #8c6d1f; }
.o-outbox_full, .o-s-not_connected, .o-e-disconnected, .o-e-other { fill: #888; background: #888; }
.scroll { overflow-x: auto; } table { border-collapse: collapse; font-size: .9rem; }
th, td { padding: .1rem .5rem; text-align: left; } .chart td, .num { text-align: right; }
`
