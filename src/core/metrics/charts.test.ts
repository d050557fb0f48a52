import { describe, expect, it } from 'vitest'
import { Meter, niceMax, StackedBars, Timeline } from './charts.tsx'

const html = (node: unknown) => String(node)

describe('niceMax', () => {
  it('is the smallest 1, 2 or 5 × 10ⁿ at or above the value, at least 1', () => {
    expect([0, 1, 2, 3, 7, 10, 11, 120, 500, 501].map(niceMax)).toEqual([
      1, 1, 2, 5, 10, 10, 20, 200, 500, 1000,
    ])
  })
})

describe('StackedBars', () => {
  const chart = html(
    StackedBars({
      id: 'c',
      title: 'Sign-ups',
      columns: [{ label: 'day 1', tick: 'd1' }, { label: 'day 2' }, { label: 'day 3', tick: 'd3' }],
      stacks: [
        { key: 'accepted', label: 'accepted', values: [2, 0, 6] },
        { key: 'honeypot', label: 'honeypot', values: [2, 0, 3] },
      ],
      extra: [{ label: 'p95', values: [40, null, 3000] }],
    })
  )

  it('is an image named by its title and described by a summary of the figures', () => {
    expect(chart).toContain('<svg viewBox="0 0 640 160" role="img" aria-labelledby="c-t c-d">')
    expect(chart).toContain('<title id="c-t">Sign-ups</title>')
    expect(chart).toContain(
      '<desc id="c-d">13 in all: accepted 8, honeypot 5. Most: day 3 (9).</desc>'
    )
  })

  it('stacks each column bottom-up against a 1-2-5 axis', () => {
    // Top of the axis 10; the plot is 144 high from y=8 (2 → 28.8 high, 6 → 86.4 high) and 640
    // wide, 213.3 per column, bars 80 % of that, centred.
    const bar = (cls: string, x: number, y: number, h: number) =>
      `<rect class="${cls}" x="${x}" y="${y}" width="170.7" height="${h}"></rect>`
    expect(chart).toContain(bar('o-accepted', 21.3, 123.2, 28.8))
    expect(chart).toContain(bar('o-honeypot', 21.3, 94.4, 28.8))
    expect(chart).toContain(bar('o-accepted', 448, 65.6, 86.4))
    expect(chart).toContain(bar('o-honeypot', 448, 22.4, 43.2))
    expect(chart.match(/<rect /g)).toHaveLength(4) // nothing drawn for zero
    expect(chart).not.toContain('<text') // text in an SVG shrinks with it: labels are HTML
    // Gridlines at 0, 5 and 10, labelled beside the plot; an odd top gets no half-way line.
    expect(chart.match(/<line class="grid"/g)).toHaveLength(3)
    expect(chart).toContain(
      '<div class="y-axis" aria-hidden="true"><span class="y-zero">0</span><span class="y-mid">5</span><span class="y-top">10</span></div>'
    )
    // A cell per column under the plot, labelled where the column has a tick.
    expect(chart).toContain(
      '<div class="x-axis bars" aria-hidden="true"><span>d1</span><span></span><span>d3</span></div>'
    )
  })

  it('labels an odd top and zero only', () => {
    const odd = html(
      StackedBars({
        id: 'o',
        title: 'Odd',
        columns: [{ label: 'a' }],
        stacks: [{ key: 'accepted', label: 'accepted', values: [4] }],
      })
    )
    expect(odd).toContain('<span class="y-zero">0</span><span class="y-top">5</span></div>')
  })

  it('has a legend and the same figures as a table', () => {
    expect(chart).toContain(
      '<li><span class="sw o-accepted" aria-hidden="true"></span>accepted</li>'
    )
    expect(chart).toContain(
      '<tr><th scope="row">day 1</th><td>2</td><td>2</td><td>4</td><td>40</td></tr>'
    )
    expect(chart).toContain(
      '<tr><th scope="row">day 2</th><td>0</td><td>0</td><td>0</td><td>—</td></tr>'
    )
  })

  it('says so when there is nothing, and never uses a style attribute', () => {
    const empty = html(
      StackedBars({
        id: 'e',
        title: 'Nothing',
        columns: [{ label: 'a' }],
        stacks: [{ key: 'accepted', label: 'accepted', values: [0] }],
      })
    )
    expect(empty).toContain('<desc id="e-d">Nothing in this period.</desc>')
    expect(chart + empty).not.toMatch(/style=|<script/)
  })
})

describe('Meter', () => {
  it('draws the share of the limit, in the alarm colour from 90 %', () => {
    const low = html(Meter({ label: 'Backlog', value: 250, max: 1000 }))
    expect(low).toContain('<rect class="fill" width="160" height="16" rx="4"></rect>')
    expect(low).toContain('<figcaption>Backlog: 250 of 1000 (25%)</figcaption>')
    expect(low).toContain('aria-hidden="true"')
    const high = html(Meter({ label: 'Quota', value: 9500, max: 10000 }))
    expect(high).toContain('<rect class="bad" width="608" height="16" rx="4"></rect>')
  })
})

describe('Timeline', () => {
  const DAY = 86_400_000
  const from = Date.UTC(2030, 0, 1)
  const to = from + 10 * DAY
  const chart = html(
    Timeline({
      id: 't',
      title: 'Connection',
      from,
      to,
      entries: [
        { at: from - DAY, event: 'consented', state: 'connected', code: null },
        { at: from + 2 * DAY, event: 'refreshed', state: 'connected', code: null },
        { at: from + 5 * DAY, event: 'refresh_failed', state: 'degraded', code: 'boom' },
        { at: from + 6 * DAY, event: 'cc_forbidden', state: 'needs_reauth', code: 'cc_forbidden' },
      ],
    })
  )

  // 10 days over 640 px: 64 px a day.
  it('colours the state over the window, from the state it started in', () => {
    const band = (state: string, x: number, width: number) =>
      `<rect class="o-s-${state}" x="${x}" y="6" width="${width}" height="16"></rect>`
    expect(chart).toContain(band('connected', 0, 128)) // from before the window
    expect(chart).toContain(band('connected', 128, 192))
    expect(chart).toContain(band('degraded', 320, 64))
    expect(chart).toContain(band('needs_reauth', 384, 256))
  })

  it('labels every fifth day under the band, as HTML', () => {
    expect(chart).not.toContain('<text')
    expect(chart).toContain(
      '<div class="x-axis days" aria-hidden="true"><span>01-01</span><span></span><span></span><span></span><span></span><span>01-06</span><span></span><span></span><span></span><span></span></div>'
    )
  })

  it('marks each event in the window, and lists them newest first', () => {
    expect(chart).toContain('<line class="o-e-refreshed" x1="128" x2="128" y1="28" y2="40">')
    expect(chart).toContain('<circle class="o-e-refresh_failed" cx="320" cy="34" r="4">')
    expect(chart).toContain('<circle class="o-e-other" cx="384" cy="34" r="4">')
    expect(chart).toContain(
      '<desc id="t-d">1 refreshes, 1 failed refreshes, 0 connects, 0 disconnects. Now needs reauth.</desc>'
    )
    const rows = [...chart.matchAll(/<tr><th scope="row">([^<]+)<\/th><td>([^<]*)<\/td>/g)]
    expect(rows.map((m) => [m[1], m[2]])).toEqual([
      ['2030-01-07 00:00', 'cc_forbidden'],
      ['2030-01-06 00:00', 'refresh failed'],
      ['2030-01-03 00:00', 'refresh'],
    ])
  })
})
