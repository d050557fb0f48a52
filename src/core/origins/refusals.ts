/**
 * @module core/origins/refusals
 * Refused origins, as pure functions: a site not among a form's `origins` has its CORS preflight
 * or its post refused, and the owner is shown which origin, for which form, how often. Counted
 * per UTC day, form and origin, bounded against abuse (any client can send any Origin header):
 * at most ORIGINS_PER_FORM_DAY origins per form and day, the rest summed under OTHER_ORIGINS, each
 * cut to ORIGIN_MAX_CHARS. Stored beside the metrics (docs/storage.md, `refused_origins`).
 */

const DAY_MS = 86_400_000

/** The key of a refusal that named no origin: no Origin header (and no Referer), or `null`. */
export const NO_ORIGIN = 'null'
/** The key that sums the origins past the first ORIGINS_PER_FORM_DAY of a form's day. */
export const OTHER_ORIGINS = ''
export const ORIGINS_PER_FORM_DAY = 20
/** Longer than any real site's origin; a longer header is junk, kept cut. */
export const ORIGIN_MAX_CHARS = 200

/** `n` refusals of `origin` for `form` on the UTC day starting at `day`, the last at `lastAt`. */
export interface RefusalCount {
  day: number
  form: string
  origin: string
  n: number
  lastAt: number
}

/** The first millisecond of the UTC day of `at`. */
export const refusalDay = (at: number) => at - (at % DAY_MS)

/**
 * What a refusal is counted under: the origin as the browser sent it, cut; no origin at all (a
 * file:// page, or a browser that withholds it) is NO_ORIGIN.
 */
export function refusedOriginKey(origin: string | null | undefined): string {
  const trimmed = origin?.trim() ?? ''
  if (trimmed === '' || trimmed === NO_ORIGIN) return NO_ORIGIN
  return trimmed.slice(0, ORIGIN_MAX_CHARS)
}

/** One form's day: its counts by origin (a Map: an origin such as `__proto__` is just a key). */
export type RefusalDay = Map<string, { n: number; lastAt: number }>

/**
 * Adds `n` refusals of `origin` to a form's day: under the origin while the day has fewer than
 * ORIGINS_PER_FORM_DAY others, else under OTHER_ORIGINS. Both stores and each isolate's sums
 * apply this rule (SQLite spells it in SQL: sqlite/metrics-repo.ts).
 */
export function addToDay(day: RefusalDay, origin: string, n: number, lastAt: number): void {
  const named = day.size - (day.has(OTHER_ORIGINS) ? 1 : 0)
  const key = day.has(origin) || named < ORIGINS_PER_FORM_DAY ? origin : OTHER_ORIGINS
  const held = day.get(key)
  day.set(key, { n: (held?.n ?? 0) + n, lastAt: Math.max(held?.lastAt ?? 0, lastAt) })
}

/** Counts by form and day, each day bounded by `addToDay`. */
export class RefusalSums {
  readonly #days = new Map<string, { day: number; form: string; origins: RefusalDay }>()

  add(r: RefusalCount): void {
    const key = `${r.day}|${r.form}`
    const entry = this.#days.get(key) ?? { day: r.day, form: r.form, origins: new Map() }
    this.#days.set(key, entry)
    addToDay(entry.origins, r.origin, r.n, r.lastAt)
  }

  counts(): RefusalCount[] {
    return [...this.#days.values()].flatMap(({ day, form, origins }) =>
      [...origins].map(([origin, { n, lastAt }]) => ({ day, form, origin, n, lastAt }))
    )
  }
}

/** A refused origin of one form, as `RelayBackend.refusedOrigins` answers it. */
export interface RefusedOrigin {
  form_id: string
  /** As the browser sent it; NO_ORIGIN or OTHER_ORIGINS for those cases. */
  origin: string
  /** Refusals since the start of the current UTC day. */
  today: number
  /** Refusals during the UTC day before. */
  yesterday: number
  last_at: string
}

/** The counts of today and yesterday (UTC) by form and origin, the latest refusal first. */
export function refusedOriginsOf(rows: readonly RefusalCount[], now: number): RefusedOrigin[] {
  const today = refusalDay(now)
  const byKey = new Map<string, RefusedOrigin & { at: number }>()
  for (const r of rows) {
    if (r.day !== today && r.day !== today - DAY_MS) continue
    const key = `${r.form}\n${r.origin}`
    const line = byKey.get(key) ?? {
      form_id: r.form,
      origin: r.origin,
      today: 0,
      yesterday: 0,
      last_at: '',
      at: 0,
    }
    byKey.set(key, line)
    if (r.day === today) line.today += r.n
    else line.yesterday += r.n
    line.at = Math.max(line.at, r.lastAt)
  }
  return [...byKey.values()]
    .sort((a, b) => b.at - a.at || a.form_id.localeCompare(b.form_id))
    .map(({ at, ...line }) => ({ ...line, last_at: new Date(at).toISOString() }))
}
