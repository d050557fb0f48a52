/**
 * @module core/consent/period
 * The period of the receipts' CSV export (`from`, `to`): each bound a UTC date (`2030-01-31`) or
 * a date-time with its offset (`2030-01-31T12:00:00Z`, `…+02:00`). `from` is inclusive and `to`
 * exclusive, except that a `to` given as a date includes that whole day, so
 * `from=2030-01-01&to=2030-01-31` is all of January. A missing bound is unbounded.
 */

/** Epoch milliseconds: receipts given at `from` or later, and before `to`. */
export interface Period {
  from: number
  to: number
}

export type PeriodResult =
  | { ok: true; period: Period }
  | { ok: false; field: 'from' | 'to'; message: string }

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/
const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,9})?)?(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)$/
const RULE = 'must be a date (YYYY-MM-DD) or a date-time with its offset (…T12:00:00Z)'

/** Unbounded: before and after any receipt (ms in the range every store keeps). */
export const WHOLE_TIME: Period = { from: 0, to: Number.MAX_SAFE_INTEGER }

/** Parses the query's bounds; `undefined` or '' is unbounded. */
export function parsePeriod(from?: string, to?: string): PeriodResult {
  const start = bound(from, 'start')
  if (start === null) return { ok: false, field: 'from', message: RULE }
  const end = bound(to, 'end')
  if (end === null) return { ok: false, field: 'to', message: RULE }
  const period = { from: start ?? WHOLE_TIME.from, to: end ?? WHOLE_TIME.to }
  if (period.from > period.to) return { ok: false, field: 'to', message: 'must not be before from' }
  return { ok: true, period }
}

/**
 * One bound in epoch ms; undefined when absent, null when not a valid one. A date is its day's
 * first millisecond, or for an `end` the next day's (so the day is included).
 */
function bound(text: string | undefined, side: 'start' | 'end'): number | null | undefined {
  if (text === undefined || text === '') return undefined
  const date = DATE.exec(text)
  const dateTime = date ? null : DATE_TIME.exec(text)
  const [, y, m, d] = date ?? dateTime ?? []
  if (!y) return null
  const day = Date.UTC(Number(y), Number(m) - 1, Number(d))
  // Date.UTC rolls 2030-02-30 over into March: a real day reads back as itself.
  if (new Date(day).toISOString().slice(0, 10) !== `${y}-${m}-${d}`) return null
  if (date) return side === 'start' ? day : day + 86_400_000
  return Date.parse(text)
}
