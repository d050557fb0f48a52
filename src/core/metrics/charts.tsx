/**
 * @module core/metrics/charts
 * Server-rendered SVG charts with no script and no style attribute (colours are CHART_STYLES
 * classes), so the owner pages' strict CSP holds. Each chart is titled and described for screen
 * readers and followed by its figures as a table. The SVG draws shapes only: its axis labels are
 * HTML beside and under it, since text inside an SVG shrinks with it (about 5 px on a phone).
 * Pure: data in, markup out.
 */
import type { ConnectionHistoryEntry } from '../connection/history.ts'

const W = 640
const H = 160
/** The gridlines' y: the top of the axis at 5 % of the height, zero at 95 % (CHART_STYLES). */
const TOP = 8
const PLOT_H = 144
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
  const step = W / columns.length
  const gridlines = top % 2 ? [0, top] : [0, top / 2, top]
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
      <div class="plot">
        <div class="y-axis" aria-hidden="true">
          {gridlines.map((v, i) => (
            <span class={`y-${['zero', 'mid', 'top'][gridlines.length === 2 ? i * 2 : i]}`}>
              {v}
            </span>
          ))}
        </div>
        <svg viewBox={`0 0 ${W} ${H}`} role="img" aria-labelledby={`${id}-t ${id}-d`}>
          <title id={`${id}-t`}>{title}</title>
          <desc id={`${id}-d`}>{summary}</desc>
          {gridlines.map((v) => (
            <line class="grid" x1="0" x2={W} y1={y(v)} y2={y(v)} />
          ))}
          {columns.map((_, i) => {
            const x = r1(i * step + step * 0.1)
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
              </g>
            )
          })}
        </svg>
      </div>
      <Ticks class="x-axis bars" labels={columns.map((c) => c.tick)} />
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

/**
 * Labels under a chart, one cell per column (or day) of equal width, so each label sits under
 * its column whatever the width: centred (CHART_STYLES), the last kept inside the chart.
 */
function Ticks(props: { class: string; labels: (string | undefined)[] }) {
  return (
    <div class={props.class} aria-hidden="true">
      {props.labels.map((label) => (
        <span>{label}</span>
      ))}
    </div>
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
  const x = (at: number) => r1(((Math.max(at, from) - from) / (to - from)) * W)
  const inWindow = entries.filter((e) => e.at >= from)
  const tally = (event: string) => inWindow.filter((e) => e.event === event).length
  const now = entries.at(-1)
  const summary = `${tally('refreshed')} refreshes, ${tally('refresh_failed')} failed refreshes, ${tally('consented')} connects, ${tally('disconnected')} disconnects. ${now ? `Now ${stateLabel(now.state)}.` : 'No history yet.'}`
  const days = Array.from({ length: Math.round((to - from) / 86_400_000) }, (_, i) => {
    return from + i * 86_400_000
  })
  return (
    <figure class="chart">
      <svg viewBox="0 0 640 44" role="img" aria-labelledby={`${id}-t ${id}-d`}>
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
      </svg>
      <Ticks
        class="x-axis days"
        labels={days.map((day, i) =>
          i % 5 === 0 ? new Date(day).toISOString().slice(5, 10) : undefined
        )}
      />
      <Legend items={TIMELINE_KEYS} />
      <details>
        <summary>{title}: the events</summary>
        <section class="scroll" aria-label={`${title}: the events`} tabindex={0}>
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
        </section>
      </details>
    </figure>
  )
}

/**
 * The charts' layout and colours (Okabe–Ito, readable with colour blindness), appended to
 * STYLESHEET. Axis labels are HTML at .75rem (12 px), placed at the gridlines' heights (5 %, 50 %,
 * 95 % of the plot) and under their columns. Tables wrap between words, never inside one (the
 * cards' overflow-wrap: anywhere would break a heading letter by letter), and scroll inside
 * their .scroll wrapper rather than widen the page.
 */
export const CHART_STYLES = `
.chart { margin: 1rem 0; } .chart svg { display: block; width: 100%; height: auto; min-width: 0; }
.plot { display: flex; } .plot svg { flex: 1 1 0; } line.grid { stroke: #8886; }
.y-axis { position: relative; flex: none; width: 2.5rem; }
.y-axis span, .x-axis span { font-size: .75rem; line-height: 1.2; white-space: nowrap; }
.y-axis span { position: absolute; right: .35rem; transform: translateY(-50%); }
.y-top { top: 5%; } .y-mid { top: 50%; } .y-zero { top: 95%; }
.x-axis { display: flex; margin-top: .2rem; } .x-axis.bars { margin-left: 2.5rem; }
.x-axis span { flex: 1 1 0; min-width: 0; display: flex; justify-content: center; }
.x-axis.days span { justify-content: flex-start; } .x-axis span:last-child { justify-content: flex-end; }
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
.figures { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; margin: 0; }
.figures dd { font-size: 1.4rem; font-weight: 600; }
.filter label { display: block; margin-top: .5rem; } .filter button { margin-top: .75rem; }
.scroll { overflow-x: auto; } table { border-collapse: collapse; font-size: .9rem; overflow-wrap: normal; }
th, td { padding: .1rem .5rem; text-align: left; } .chart td, .num { text-align: right; }
`
