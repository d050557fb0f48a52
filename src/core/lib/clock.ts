/**
 * @module core/lib/clock
 * Where the core reads time and waits. Every policy that depends on time (token expiry, refresh
 * margins and spacing, pacing slots, retries, the duplicate window, session lifetimes) reads
 * `clock.now()` and waits with `clock.sleep()`, never `Date.now()` or `setTimeout` directly. The
 * runtimes pass `systemClock`; tests pass a virtual clock and move time instead of sleeping, so no
 * assertion depends on how fast the machine runs.
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
