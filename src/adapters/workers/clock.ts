/**
 * @module adapters/workers/clock
 * The clock of this isolate's worker and its Relay object: the system clock, always, in a
 * deployment. The workerd tests swap `workerClock.current` for a virtual clock (they run in the
 * same isolate); nothing a request carries can reach module scope.
 */
import { type Clock, systemClock } from '../../core/lib/clock.ts'

export const workerClock: { current: Clock } = { current: systemClock }

/** Reads whichever clock is current at each call, so a swap applies to live objects too. */
export const clock: Clock = {
  now: () => workerClock.current.now(),
  sleep: (ms) => workerClock.current.sleep(ms),
}
