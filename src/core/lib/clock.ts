/**
 * @module core/lib/clock
 * Where the core reads time and waits: `clock.now()` and `clock.sleep()`, never `Date.now()` or
 * `setTimeout`. Runtimes pass `systemClock`; tests pass a virtual clock and move time instead of
 * sleeping.
 */

export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number
  /** Resolves once `ms` have passed on this clock. */
  sleep(ms: number): Promise<void>
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms) => new Promise<void>((resolve) => setTimeout(resolve, Math.max(0, ms))),
}
