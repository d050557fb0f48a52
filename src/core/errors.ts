/**
 * @module errors
 * Every failure the app reports carries a stable machine `code`. One `onError` (see app.ts) maps
 * codes to HTTP statuses, so routes throw and never build error responses by hand.
 */

export type ErrorCode =
  | 'config_invalid'
  | 'unauthorized'
  | 'not_found'
  | 'state_missing'
  | 'state_unknown'
  | 'state_expired'
  | 'state_used'
  | 'consent_denied'
  | 'code_missing'
  | 'token_exchange_failed'
  | 'not_connected'
  | 'needs_reauth'
  | 'token_unavailable'
  | 'sandbox_forbidden'
  | 'unknown_form'
  | 'origin_not_allowed'
  | 'challenge_failed'
  | 'invalid_input'
  | 'payload_too_large'
  | 'unsupported_media_type'
  | 'rate_limited'
  | 'delivery_failed'
  | 'unavailable'
  | 'not_dead_letter'

const STATUS: Record<ErrorCode, number> = {
  config_invalid: 500,
  unauthorized: 401,
  not_found: 404,
  state_missing: 400,
  state_unknown: 400,
  state_expired: 400,
  state_used: 400,
  consent_denied: 400,
  code_missing: 400,
  token_exchange_failed: 400,
  not_connected: 503,
  needs_reauth: 503,
  token_unavailable: 503,
  sandbox_forbidden: 403,
  unknown_form: 404,
  origin_not_allowed: 403,
  challenge_failed: 403,
  invalid_input: 400,
  payload_too_large: 413,
  unsupported_media_type: 415,
  rate_limited: 429,
  delivery_failed: 502,
  unavailable: 503,
  not_dead_letter: 404,
}

export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: number
  /** Extra, non-secret facts for the wire (for example the config key at fault). */
  readonly details: Record<string, unknown>

  constructor(
    code: ErrorCode,
    message: string,
    options: { details?: Record<string, unknown>; cause?: unknown } = {}
  ) {
    super(message, { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.status = STATUS[code]
    this.details = options.details ?? {}
  }
}

/**
 * Durable Object RPC drops custom properties of thrown errors, so calls that can fail in an
 * expected way return this instead of throwing, and the caller re-raises it as an AppError.
 */
export type Outcome<T> = { ok: true; value: T } | { ok: false; code: ErrorCode; message: string }

export function unwrap<T>(outcome: Outcome<T>): T {
  if (outcome.ok) return outcome.value
  throw new AppError(outcome.code, outcome.message)
}
