/**
 * @module core/webhooks/delivery-rules
 * When a webhook event is sent again, when it has failed for good, and when an endpoint is
 * disabled. No I/O: both stores apply these in the step that records an attempt.
 */

const S = 1000
const MIN = 60 * S
const H = 60 * MIN

/** The waits after each failed attempt (Standard Webhooks' usual schedule); then it failed. */
export const RETRY_DELAYS_MS = [5 * S, 30 * S, 5 * MIN, 30 * MIN, 2 * H, 5 * H, 10 * H] as const
/** A 2xx within this is success; anything slower is a failed attempt. */
export const SEND_TIMEOUT_MS = 10 * S
/** An endpoint failing this long (no success since its first failure) is disabled. */
export const DISABLE_AFTER_MS = 24 * H
/** Outlives a send (10 s) with room; a new Durable Object releases its predecessor's at once. */
export const WEBHOOK_LEASE_MS = 30 * S
/** Sends in flight at once, so one slow receiver holds the object's alarm for 10 s at most. */
export const SEND_CONCURRENCY = 4

export type AttemptOutcome = 'delivered' | 'retrying' | 'failed'

/** After attempt number `attempt` (1 for the first): what becomes of the event, and when. */
export function planAfter(
  attempt: number,
  ok: boolean,
  now: number
): { outcome: AttemptOutcome; nextRetryAt: number | null } {
  if (ok) return { outcome: 'delivered', nextRetryAt: null }
  const wait = RETRY_DELAYS_MS[attempt - 1]
  return wait === undefined
    ? { outcome: 'failed', nextRetryAt: null }
    : { outcome: 'retrying', nextRetryAt: now + wait }
}

/** An endpoint's failure run, as an attempt leaves it. */
export interface EndpointHealth {
  /** Since when every attempt failed; null after a success (or before any attempt). */
  failingSince: number | null
  /** Disabled (no more sends) since then; null while enabled. */
  disabledAt: number | null
}

/** `newlyDisabled`: this attempt is the one that disabled it (alert once). */
export function healthAfter(
  before: EndpointHealth,
  ok: boolean,
  at: number
): EndpointHealth & { newlyDisabled: boolean } {
  if (ok) return { failingSince: null, disabledAt: before.disabledAt, newlyDisabled: false }
  const failingSince = before.failingSince ?? at
  const disable = before.disabledAt === null && at - failingSince >= DISABLE_AFTER_MS
  return {
    failingSince,
    disabledAt: disable ? at : before.disabledAt,
    newlyDisabled: disable,
  }
}
