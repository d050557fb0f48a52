/**
 * @module core/ui/time
 * Times on the owner's pages: in the account's time zone (CC's `time_zone_id`, from
 * GET /v3/account/summary), else UTC, inside `<time datetime>` so the exact instant stays
 * machine-readable.
 */

const formats = new Map<string, Intl.DateTimeFormat>()

/** A formatter for `zone`; an id the runtime does not know falls back to UTC rather than throw. */
function formatIn(zone: string | undefined): Intl.DateTimeFormat {
  const key = zone ?? 'UTC'
  let format = formats.get(key)
  if (!format) {
    const options: Intl.DateTimeFormatOptions = {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: key,
    }
    try {
      format = new Intl.DateTimeFormat('en-GB', options)
    } catch {
      format = new Intl.DateTimeFormat('en-GB', { ...options, timeZone: 'UTC' })
    }
    formats.set(key, format)
  }
  return format
}

/** "6 Dec 2026, 10:27 (America/New_York)": how an owner reads an instant. */
export function readableTime(at: string | number, zone?: string): string {
  const format = formatIn(zone)
  return `${format.format(new Date(at))} (${format.resolvedOptions().timeZone})`
}

/** An instant (epoch ms or ISO string); a missing one reads as a dash. */
export function When({ at, zone }: { at: string | number | null | undefined; zone?: string }) {
  if (at === null || at === undefined) return <>—</>
  const date = new Date(at)
  if (Number.isNaN(date.getTime())) return <>—</>
  return <time datetime={date.toISOString()}>{readableTime(at, zone)}</time>
}
