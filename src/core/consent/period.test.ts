import { describe, expect, it } from 'vitest'
import { parsePeriod, WHOLE_TIME } from './period.ts'

const DAY = 86_400_000

describe('parsePeriod', () => {
  it('is unbounded on a side that is missing or empty', () => {
    expect(parsePeriod()).toEqual({ ok: true, period: WHOLE_TIME })
    expect(parsePeriod('', '')).toEqual({ ok: true, period: WHOLE_TIME })
    expect(parsePeriod('2030-01-01')).toEqual({
      ok: true,
      period: { from: Date.UTC(2030, 0, 1), to: WHOLE_TIME.to },
    })
  })

  it('takes dates as UTC days, a `to` date including its whole day', () => {
    expect(parsePeriod('2030-01-01', '2030-01-31')).toEqual({
      ok: true,
      period: { from: Date.UTC(2030, 0, 1), to: Date.UTC(2030, 0, 31) + DAY },
    })
    // One day: from its first millisecond to the next day's.
    expect(parsePeriod('2030-02-28', '2030-02-28')).toEqual({
      ok: true,
      period: { from: Date.UTC(2030, 1, 28), to: Date.UTC(2030, 2, 1) },
    })
  })

  it('takes date-times with their offset, to the millisecond', () => {
    expect(parsePeriod('2030-01-01T12:00:00Z', '2030-01-01T14:30+02:00')).toEqual({
      ok: true,
      period: { from: Date.UTC(2030, 0, 1, 12), to: Date.UTC(2030, 0, 1, 12, 30) },
    })
    expect(parsePeriod('2030-01-01T00:00:00.250Z')).toMatchObject({
      period: { from: Date.UTC(2030, 0, 1) + 250 },
    })
  })

  it('refuses anything else, naming the bound', () => {
    for (const bad of [
      '2030-02-30', // no such day
      '2030-13-01',
      '2030-1-1',
      '2030-01-01T12:00:00', // no offset: whose noon?
      '2030-01-01T24:00Z',
      '2030-01-01 12:00Z',
      '1893456000000',
      'yesterday',
    ]) {
      expect(parsePeriod(bad)).toMatchObject({ ok: false, field: 'from' })
      expect(parsePeriod(undefined, bad)).toMatchObject({ ok: false, field: 'to' })
    }
  })

  it('refuses a `to` before `from`; an empty period is fine', () => {
    expect(parsePeriod('2030-01-02', '2030-01-01T00:00Z')).toEqual({
      ok: false,
      field: 'to',
      message: 'must not be before from',
    })
    expect(parsePeriod('2030-01-01T00:00Z', '2030-01-01T00:00Z')).toMatchObject({ ok: true })
  })
})
