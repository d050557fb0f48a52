/**
 * @module core/cc/pacer
 * Keeps requests within CC_RATE_PER_SECOND as Constant Contact counts them: on arrival, which we
 * never see. So each of `perSecond` slots is held from the send until the answer (or failure) and
 * then rests one second: two requests on one slot arrive at least a second apart, however late our
 * side runs. Pure and synchronous, so taking a slot cannot race.
 */

/** How long a slot rests after the answer to the request that held it. */
export const SLOT_REST_MS = 1000

export class Pacer {
  /** Per slot: when it may be taken again. +Infinity while a request holds it. */
  readonly #freeAt: number[]

  constructor(perSecond: number) {
    this.#freeAt = Array.from({ length: Math.max(1, perSecond) }, () => Number.NEGATIVE_INFINITY)
  }

  /** Takes a free slot at `now` (returning its number), or null when none is free. */
  take(now: number): number | null {
    const slot = this.#freeAt.findIndex((at) => at <= now)
    if (slot === -1) return null
    this.#freeAt[slot] = Number.POSITIVE_INFINITY
    return slot
  }

  /** The request that held `slot` was answered, failed or timed out at `at`. */
  release(slot: number, at: number): void {
    this.#freeAt[slot] = at + SLOT_REST_MS
  }

  available(now: number): number {
    return this.#freeAt.filter((at) => at <= now).length
  }

  /**
   * When a slot is next free: `now` if one is, else the earliest end of a rest, or null while
   * every slot still waits for its answer (a release will come, but not at a known time).
   */
  nextFreeAt(now: number): number | null {
    const earliest = Math.min(...this.#freeAt)
    if (earliest === Number.POSITIVE_INFINITY) return null
    return Math.max(now, earliest)
  }
}
