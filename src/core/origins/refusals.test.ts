import { describe, expect, it } from 'vitest'
import { refusalEvent, tallyOf } from '../metrics/metrics.ts'
import {
  addToDay,
  NO_ORIGIN,
  ORIGIN_MAX_CHARS,
  ORIGINS_PER_FORM_DAY,
  OTHER_ORIGINS,
  type RefusalDay,
  RefusalSums,
  refusalDay,
  refusedOriginKey,
  refusedOriginsOf,
} from './refusals.ts'

const DAY = 86_400_000
/** Noon UTC. */
const T = Date.UTC(2030, 0, 2, 12)
const TODAY = T - 12 * 3_600_000

describe('refusedOriginKey', () => {
  it('keeps an origin as sent; none at all, or "null", is NO_ORIGIN', () => {
    expect(refusedOriginKey('https://www.example.com')).toBe('https://www.example.com')
    for (const none of [null, undefined, '', '  ', 'null']) {
      expect(refusedOriginKey(none)).toBe(NO_ORIGIN)
    }
  })

  it('cuts a junk header to ORIGIN_MAX_CHARS', () => {
    expect(refusedOriginKey(`https://${'a'.repeat(500)}.test`)).toHaveLength(ORIGIN_MAX_CHARS)
  })
})

describe('addToDay', () => {
  it('names ORIGINS_PER_FORM_DAY origins, sums the rest under OTHER_ORIGINS', () => {
    const day: RefusalDay = new Map()
    for (let i = 0; i < ORIGINS_PER_FORM_DAY + 30; i++)
      addToDay(day, `https://s${i}.test`, 1, T + i)
    expect(day.size).toBe(ORIGINS_PER_FORM_DAY + 1)
    expect(day.get(OTHER_ORIGINS)).toEqual({ n: 30, lastAt: T + ORIGINS_PER_FORM_DAY + 29 })
    // An origin already named keeps counting under its name; OTHER_ORIGINS is not one of them.
    addToDay(day, 'https://s0.test', 4, T - 1)
    expect(day.get('https://s0.test')).toEqual({ n: 5, lastAt: T })
    addToDay(day, 'https://late.test', 1, T)
    expect(day.has('https://late.test')).toBe(false)
    expect(day.get(OTHER_ORIGINS)?.n).toBe(31)
  })

  it('takes any header as a key, prototype names included', () => {
    const day: RefusalDay = new Map()
    addToDay(day, '__proto__', 1, T)
    addToDay(day, 'constructor', 2, T)
    expect([...day.keys()]).toEqual(['__proto__', 'constructor'])
  })
})

describe('RefusalSums', () => {
  it('bounds each form and day apart', () => {
    const sums = new RefusalSums()
    const add = (form: string, origin: string, at = T) =>
      sums.add({ day: refusalDay(at), form, origin, n: 1, lastAt: at })
    for (let i = 0; i < 100; i++) add('f', `https://s${i}.test`)
    add('g', 'https://g.test')
    add('f', 'https://s99.test', T + DAY)
    const counts = sums.counts()
    expect(counts.filter((c) => c.form === 'f' && c.day === TODAY)).toHaveLength(21)
    expect(counts.find((c) => c.form === 'f' && c.origin === OTHER_ORIGINS)?.n).toBe(80)
    expect(counts.filter((c) => c.form === 'g')).toEqual([
      { day: TODAY, form: 'g', origin: 'https://g.test', n: 1, lastAt: T },
    ])
    // The next day starts with room again.
    expect(counts.filter((c) => c.day === TODAY + DAY)).toEqual([
      { day: TODAY + DAY, form: 'f', origin: 'https://s99.test', n: 1, lastAt: T + DAY },
    ])
  })
})

describe('refusalEvent and tallyOf', () => {
  it('counts origin_not_allowed and the origin it named, by day', () => {
    const tally = tallyOf([
      refusalEvent('f', 'https://www.example.com', T),
      refusalEvent('f', 'https://www.example.com', T + 5),
      refusalEvent('f', null, T + 6),
    ])
    expect(tally.counts).toEqual([{ hour: T, form: 'f', name: 'origin_not_allowed', n: 3 }])
    expect(tally.activity.map((a) => [a.outcome, a.email])).toEqual([
      ['origin_not_allowed', null],
      ['origin_not_allowed', null],
      ['origin_not_allowed', null],
    ])
    expect(tally.refusals).toEqual([
      { day: TODAY, form: 'f', origin: 'https://www.example.com', n: 2, lastAt: T + 5 },
      { day: TODAY, form: 'f', origin: NO_ORIGIN, n: 1, lastAt: T + 6 },
    ])
  })

  it('adds no refusals to a tally of other outcomes', () => {
    const tally = tallyOf([{ form: 'f', outcome: 'honeypot', at: T, email: null }])
    expect(tally).not.toHaveProperty('refusals')
  })
})

describe('refusedOriginsOf', () => {
  it('today and yesterday (UTC) by form and origin, the latest first; older days left out', () => {
    const rows = [
      { day: TODAY, form: 'f', origin: 'https://a.test', n: 3, lastAt: T - 10 },
      { day: TODAY - DAY, form: 'f', origin: 'https://a.test', n: 5, lastAt: T - DAY },
      { day: TODAY - DAY, form: 'g', origin: NO_ORIGIN, n: 2, lastAt: T - DAY + 1 },
      { day: TODAY - 2 * DAY, form: 'f', origin: 'https://old.test', n: 9, lastAt: T - 2 * DAY },
      { day: TODAY, form: 'g', origin: 'https://b.test', n: 1, lastAt: T },
    ]
    expect(refusedOriginsOf(rows, T)).toEqual([
      {
        form_id: 'g',
        origin: 'https://b.test',
        today: 1,
        yesterday: 0,
        last_at: new Date(T).toISOString(),
      },
      {
        form_id: 'f',
        origin: 'https://a.test',
        today: 3,
        yesterday: 5,
        last_at: new Date(T - 10).toISOString(),
      },
      {
        form_id: 'g',
        origin: NO_ORIGIN,
        today: 0,
        yesterday: 2,
        last_at: new Date(T - DAY + 1).toISOString(),
      },
    ])
  })
})
