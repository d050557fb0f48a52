import { describe, expect, it } from 'vitest'
import { TodayFigures } from './metrics-pages.tsx'

const html = (node: unknown) => String(node)

describe('TodayFigures', () => {
  const counts = { accepted: 9, delivered: 7, dead_lettered: 1, honeypot: 2, invalid_input: 3 }

  it('says what came in, was sent, waits, failed and was refused, in the owner’s words', () => {
    const figures = html(TodayFigures({ counts, waiting: 4 }))
    const pairs = [...figures.matchAll(/<dt>(.*?)<\/dt><dd>(\d+)<\/dd>/g)].map((m) => [m[1], m[2]])
    expect(pairs).toEqual([
      ['Accepted', '9'],
      ['Sent to Constant Contact', '7'],
      ['Waiting to send now', '4'],
      ['Failed', '1'],
      ['Refused', '5'],
      ['Repeats, not sent again', '0'],
    ])
    expect(figures).toContain('Refused: invalid input 3, honeypot 2.')
    expect(figures).toContain('<h2 id="today-h">Last 24 hours</h2>')
  })

  it('says which form the figures are of, and that the backlog is every form’s', () => {
    const figures = html(TodayFigures({ counts, waiting: 0, form: 'news' }))
    expect(figures).toContain('<h2 id="today-h">Last 24 hours (form news)</h2>')
    expect(figures).toContain('Waiting to send now (all forms)')
  })
})
