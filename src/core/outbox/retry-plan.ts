/**
 * @module core/outbox/retry-plan
 * When an undelivered sign-up is tried again after each kind of failure, and which attempts count.
 * No I/O: submit.ts and drain.ts act on it.
 */
import type { CcOutcome } from '../cc/client.ts'
import { nextUtcMidnight } from '../lib/utc-day.ts'
import { ccReason } from '../metrics/signups.ts'
import type { DeliveryError } from './repo.ts'

const RETRY_BASE_MS = 5_000
const RETRY_MAX_MS = 60 * 60_000

/** Exponential backoff with jitter, capped at an hour: retries go on until delivered. */
export function retryDelay(attempts: number, random = Math.random): number {
  const base = Math.min(RETRY_MAX_MS, RETRY_BASE_MS * 2 ** Math.max(0, attempts - 1))
  return Math.round(base / 2 + (random() * base) / 2)
}

/** After CC answered `throttled`, sends pause this long. */
export const THROTTLE_PAUSE_MS = 2_000
/** A token that is temporarily unavailable (refresh backing off) is tried again this soon. */
export const TOKEN_RETRY_MS = 30_000

/** Every way an attempt can end without CC accepting or refusing the sign-up for good. */
export type Undelivered =
  | Exclude<CcOutcome, { kind: 'delivered' | 'dead' }>
  /** No usable token: needs_reauth or not_connected park; token_unavailable retries soon. */
  | { kind: 'no_token'; code: string }
  /** No pacing slot, or a pause, park or quota is in force until `until`. */
  | { kind: 'no_slot'; until: number }

/**
 * When an undelivered sign-up is due again, and whether the attempt counts. Waiting for a slot,
 * a pause, the quota or a reconnect (a 403 included) burns no attempt: only CC's failures do.
 */
export function retryPlan(
  attempt: Undelivered,
  attempts: number,
  now: number,
  random = Math.random
): { attempts: number; nextAttemptAt: number; error: DeliveryError | null } {
  switch (attempt.kind) {
    case 'retry': {
      const error = {
        status: attempt.status,
        errorKey: attempt.errorKey,
        message: attempt.message,
        at: now,
      }
      return {
        attempts: attempts + 1,
        nextAttemptAt: now + retryDelay(attempts + 1, random),
        error,
      }
    }
    case 'unauthorized':
      return {
        attempts: attempts + 1,
        nextAttemptAt: now + retryDelay(attempts + 1, random),
        error: null,
      }
    case 'throttled':
      return { attempts, nextAttemptAt: now + THROTTLE_PAUSE_MS, error: null }
    case 'quota_exceeded':
      return { attempts, nextAttemptAt: nextUtcMidnight(now), error: null }
    case 'forbidden':
      // Account-wide: parked like a reconnect, due as soon as one lands; no attempt burned.
      return {
        attempts,
        nextAttemptAt: now,
        error: {
          status: attempt.status,
          errorKey: attempt.errorKey,
          message: attempt.message,
          at: now,
        },
      }
    case 'no_slot':
      return { attempts, nextAttemptAt: attempt.until, error: null }
    case 'no_token':
      // Parked items are due as soon as a token exists again; reconnecting wakes the drain. A
      // refresh under way: due at once, and the drain waits for the refresh (connection.ts).
      return {
        attempts,
        nextAttemptAt: attempt.code === 'token_unavailable' ? now + TOKEN_RETRY_MS : now,
        error: null,
      }
  }
}

/** Parks the outbox until the owner acts: no token to send with, or CC's account-wide 403. */
export function parksForOwner(attempt: Undelivered): boolean {
  return (
    (attempt.kind === 'no_token' &&
      attempt.code !== 'token_unavailable' &&
      attempt.code !== 'token_refreshing') ||
    attempt.kind === 'forbidden'
  )
}

/**
 * Counted as `retried`: an attempt that reached CC (or the network) and failed for a reason that
 * retrying can fix (5xx, 429, a dropped connection, a 401 after a refresh). Waiting for a pacing
 * slot, a pause or a reconnect sent nothing, so it is not an attempt; CC's 403 is account-wide
 * and parks the outbox for the owner, as a lost connection does, so it is not one either.
 */
export function isRetry(attempt: Undelivered): boolean {
  return attempt.kind !== 'no_slot' && attempt.kind !== 'no_token' && attempt.kind !== 'forbidden'
}

/** What a retried attempt got, as the owner's activity keeps it: "503 server_error", "429 throttled". */
export function retryReason(attempt: Undelivered): string {
  if (!('status' in attempt)) return attempt.kind
  return ccReason(attempt.status, 'errorKey' in attempt ? attempt.errorKey : attempt.kind)
}
