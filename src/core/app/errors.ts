/**
 * @module core/app/errors
 * Every failure carries a stable `code`, and the code fixes the HTTP status. Routes throw; the
 * error handlers (app.ts for owner pages, signup/subscribe-routes.tsx for visitors) build the
 * response.
 */
import type { ContentfulStatusCode } from 'hono/utils/http-status'

export type ErrorCode =
  | 'config_invalid'
  | 'unauthorized'
  | 'not_found'
  | 'state_missing'
  | 'state_unknown'
  | 'state_expired'
  | 'state_used'
  | 'state_mismatch'
  | 'issuer_mismatch'
  | 'consent_denied'
  | 'code_missing'
  | 'token_exchange_failed'
  | 'not_connected'
  | 'needs_reauth'
  | 'token_unavailable'
  /** Internal: no valid token, a refresh is under way and the caller chose not to wait. */
  | 'token_refreshing'
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
  | 'outbox_full'
  | 'not_dead_letter'
  | 'form_managed_by_config'
  | 'cross_origin_request'
  | 'tag_exists'

const STATUS = {
  config_invalid: 500,
  unauthorized: 401,
  not_found: 404,
  state_missing: 400,
  state_unknown: 400,
  state_expired: 400,
  state_used: 400,
  state_mismatch: 400,
  issuer_mismatch: 400,
  consent_denied: 400,
  code_missing: 400,
  token_exchange_failed: 400,
  not_connected: 503,
  needs_reauth: 503,
  token_unavailable: 503,
  token_refreshing: 503,
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
  outbox_full: 503,
  not_dead_letter: 404,
  form_managed_by_config: 409,
  cross_origin_request: 403,
  tag_exists: 409,
} as const satisfies Record<ErrorCode, ContentfulStatusCode>

/** The HTTP statuses an AppError can have: exactly those in the table above. */
export type ErrorStatus = (typeof STATUS)[ErrorCode]

export interface AppErrorOptions {
  /** Extra, non-secret facts for the wire (for example the config key at fault). */
  details?: Record<string, unknown>
  /** Response headers that belong to the error, whichever handler answers it (`retry-after`). */
  headers?: Record<string, string>
  cause?: unknown
}

/**
 * @example
 * throw new AppError('rate_limited', 'Too many sign-ups from this client', {
 *   headers: { 'retry-after': '12' },
 * })
 */
export class AppError extends Error {
  readonly code: ErrorCode
  readonly status: ErrorStatus
  readonly details: Record<string, unknown>
  readonly headers: Record<string, string>

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, { cause: options.cause })
    this.name = 'AppError'
    this.code = code
    this.status = STATUS[code]
    this.details = options.details ?? {}
    this.headers = options.headers ?? {}
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
