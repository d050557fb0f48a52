/**
 * @module core/lib/utc-day
 * The UTC day, in which Constant Contact counts its daily quota.
 */

export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10)
}

export function nextUtcMidnight(now: number): number {
  const d = new Date(now)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
}
