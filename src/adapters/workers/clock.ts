/**
 * @module adapters/workers/clock
 * The clock of this isolate's Worker and its Durable Object: always the system clock when
 * deployed. The workerd tests swap `workerClock.current` for a virtual clock; no request can
 * change it.
 */
import { type Clock, systemClock } from '../../core/lib/clock.ts'

export const workerClock: { current: Clock } = { current: systemClock }

/** Reads whichever clock is current at each call, so a swap applies to live objects too. */
export const clock: Clock = {
  now: () => workerClock.current.now(),
  sleep: (ms) => workerClock.current.sleep(ms),
}
