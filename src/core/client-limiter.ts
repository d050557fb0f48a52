/**
 * @module client-limiter
 * The per-visitor limit on sign-ups (SUBMIT_RATE_LIMIT_PER_MINUTE), a sliding minute per client
 * key. In memory on purpose: a restart forgives, and the limit only has to slow a single client
 * down, not count exactly.
 */

const WINDOW_MS = 60_000
/** Keys remembered at most; past it the stalest keys are forgotten, never everyone's at once. */
const MAX_KEYS = 10_000

export class ClientLimiter {
  /** Recent hit times per client key, in insertion order of the key's last hit (oldest first). */
  readonly #hits = new Map<string, number[]>()

  /** Counts a hit for `key` at `now`; returns 0 when allowed, else the seconds to wait. */
  hit(key: string, now: number, perMinute: number): number {
    const hits = (this.#hits.get(key) ?? []).filter((t) => t > now - WINDOW_MS)
    this.#hits.delete(key)
    if (hits.length >= perMinute) {
      this.#hits.set(key, hits)
      return Math.max(1, Math.ceil((hits[0] + WINDOW_MS - now) / 1000))
    }
    hits.push(now)
    this.#hits.set(key, hits)
    // A Map iterates in insertion order, and every hit re-inserts its key: the first key is the
    // one that has been quiet longest.
    while (this.#hits.size > MAX_KEYS) {
      const stalest = this.#hits.keys().next().value as string
      this.#hits.delete(stalest)
    }
    return 0
  }
}
