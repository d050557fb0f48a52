/**
 * A clock that only moves when told to, for the workerd and Deno suites alike (web-standard only).
 *
 * - `now()` reads virtual time; nothing advances it but `advance`, `set` and `sleep`.
 * - `sleep(ms)` yields to the event loop once (so concurrent work interleaves as it would), then
 *   moves the clock to at least the moment the sleeper asked for. Sleepers that started together
 *   wake at the latest of their targets, never the sum; a sleeper can wake late, never early,
 *   which is also what a busy machine does to real timers.
 *
 * It starts years ahead of real time on purpose: a Durable Object alarm set in virtual time then
 * never fires by itself during a test, so the outbox moves only when a test drives it.
 */
import type { Clock } from '../../src/core/lib/clock.ts'

export const VIRTUAL_EPOCH = Date.UTC(2031, 0, 6, 9, 0, 0)

export class VirtualClock implements Clock {
  #now: number

  constructor(start = VIRTUAL_EPOCH) {
    this.#now = start
  }

  readonly now = (): number => this.#now

  readonly sleep = async (ms: number): Promise<void> => {
    const target = this.#now + Math.max(0, ms)
    await new Promise<void>((resolve) => setTimeout(resolve, 0))
    if (this.#now < target) this.#now = target
  }

  advance(ms: number): void {
    this.#now += ms
  }

  /** Moves the clock to `at` (forward or back). */
  set(at: number): void {
    this.#now = at
  }
}
