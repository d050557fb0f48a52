/**
 * @module outbox
 * Pure delivery policy: how to merge queued duplicates, when to try again after each kind of
 * failure, and the UTC day CC's quota counts in. No I/O here; admission.ts and delivery.ts do it.
 */
import type { CcOutcome } from './cc-client.ts'
import type { SignUpFormBody } from './signup.ts'
import type { DeliveryError } from './store.ts'

/**
 * sign_up_form is an upsert that appends lists and custom fields, so two queued sign-ups of one
 * email to one form become one: later scalar values win, lists and custom fields are unioned.
 */
export function mergePayloads(older: SignUpFormBody, newer: SignUpFormBody): SignUpFormBody {
  const lists = [...new Set([...older.list_memberships, ...newer.list_memberships])]
  const custom = new Map<string, string>()
  for (const f of [...(older.custom_fields ?? []), ...(newer.custom_fields ?? [])]) {
    custom.set(f.custom_field_id, f.value)
  }
  const merged: SignUpFormBody = { ...older, ...newer, list_memberships: lists.slice(0, 50) }
  if (custom.size > 0) {
    merged.custom_fields = [...custom].map(([custom_field_id, value]) => ({
      custom_field_id,
      value,
    }))
  }
  return merged
}

export function utcDay(now: number): string {
  return new Date(now).toISOString().slice(0, 10)
}

export function nextUtcMidnight(now: number): number {
  const d = new Date(now)
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate() + 1)
}

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

/** Masks an address for the owner's view: "jane.doe@example.com" → "j•••e@example.com". */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@')
  if (at < 1) return '•••'
  const local = email.slice(0, at)
  const shown = local.length <= 2 ? `${local[0]}•••` : `${local[0]}•••${local[local.length - 1]}`
  return `${shown}${email.slice(at)}`
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
 * What a sign-up says, as a digest: the duplicate window absorbs only a repeat that says the same.
 * signup.ts builds every body in one fixed key order, so the same fields give the same JSON,
 * whatever order the visitor sent them in.
 */
export function payloadDigest(payload: SignUpFormBody): Promise<string> {
  return hashKey('payload', JSON.stringify(payload))
}

/** A stable, non-reversible-at-a-glance key for logs and duplicate detection. */
export async function hashKey(...parts: string[]): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(parts.join('\0')))
  return [...new Uint8Array(digest).slice(0, 12)]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
}
