/**
 * @module core/owner/sign-in-rules
 * Pure rules both stores apply: the sign-in throttle (failures per client network in a sliding
 * window) and the number of live sessions. Kept in storage, not isolate memory, so every isolate
 * and instance sees the same counts and a restart forgives nothing.
 */

/** Failed sign-ins (wrong ADMIN_TOKEN, by form or by Bearer) a client may make per window. */
export const SIGN_IN_FAILURES = 10
export const SIGN_IN_WINDOW_MS = 15 * 60_000
/** Clients whose failures are kept at most; past it the stalest are forgotten, never all at once. */
export const SIGN_IN_CLIENTS = 10_000
/** Live sessions kept at most (only the owner can open one); a new one past it ends the oldest. */
export const MAX_SESSIONS = 20

/** The failure times still inside the window ending at `now`. */
function recent(failures: readonly number[], now: number): number[] {
  return failures.filter((at) => at > now - SIGN_IN_WINDOW_MS)
}

/**
 * 0 when the client may try; otherwise the seconds until its oldest counted failure leaves the
 * window. A locked-out client is refused whatever it sends, the right token included, so the
 * lockout itself reveals nothing about the token.
 */
export function lockedFor(failures: readonly number[], now: number): number {
  const counted = recent(failures, now)
  if (counted.length < SIGN_IN_FAILURES) return 0
  const oldest = counted[counted.length - SIGN_IN_FAILURES]
  return Math.max(1, Math.ceil((oldest + SIGN_IN_WINDOW_MS - now) / 1000))
}

/** The failures to store after one more at `now`: those inside the window, at most the limit. */
export function withFailure(failures: readonly number[], now: number): number[] {
  return [...recent(failures, now), now].slice(-SIGN_IN_FAILURES)
}
