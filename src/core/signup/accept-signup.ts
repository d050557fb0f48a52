/**
 * @module core/signup/accept-signup
 * Accepts one sign-up, apart from HTTP: profile fields, honeypot, Turnstile, then the backend's
 * `submit`. Each result writes one `submission` log line (docs/operations.md). Visitors' posts and
 * the owner's test sign-up both use it, so the test answers exactly as a visitor's would.
 *
 * @example
 * const answer = signupAnswer(await acceptSignup(deps, { formId, profile, fields, clientIp }))
 * const { status, body } = signupJson(answer, visitorText(profile)) // 200 {"ok":true,…}
 */
import type { Config } from '../app/config.ts'
import { AppError, type ErrorCode, type ErrorStatus } from '../app/errors.ts'
import type { FieldTypes } from '../cc/field-types.ts'
import type { ConsentGiven } from '../consent/receipt.ts'
import type { FormProfile } from '../forms/profile.ts'
import type { StoredForm } from '../forms/repo.ts'
import { hashKey, sha256Hex } from '../lib/hash-key.ts'
import { networkKey } from '../lib/network-key.ts'
import { type IntakeOutcome, signupEvent } from '../metrics/metrics.ts'
import type { KeepAlive, OutcomeRecorder } from '../metrics/outcome-recorder.ts'
import { fieldsReason } from '../metrics/signups.ts'
import { payloadDigest } from '../outbox/repeats.ts'
import type { AcceptedStatus } from '../outbox/repo.ts'
import type { RelayBackend } from '../relay/backend.ts'
import type { Fields } from './read-fields.ts'
import { verifyTurnstile } from './turnstile.ts'
import { validateSignup } from './validate-signup.ts'
import { DELIVERY_FAILED_EN, type VisitorText, visitorText } from './visitor-text.ts'

export interface AcceptDeps {
  backend: () => RelayBackend
  /** For Turnstile's siteverify. */
  fetch: typeof fetch
  now: () => number
  /** Counts the outcomes decided here, before any submit() (outcome-recorder.ts). */
  outcomes?: OutcomeRecorder
}

export interface SignupRequest {
  formId: string
  profile: FormProfile
  /** CC's types of the profile's custom fields, when known (field-types.ts). */
  types?: FieldTypes
  /** A dashboard form's: the revision `profile` is of, which the backend checks (forms.ts). */
  revision?: number
  fields: Fields
  /** The client's IP: its network's rate-limit budget, and Turnstile's remoteip. Null: unknown. */
  clientIp: string | null
  /** The post's Origin, when the site sent one: kept in a consent receipt. */
  origin?: string | null
  /** The Referer header: the page of a post made without JavaScript (no `_page`). */
  referer?: string | null
  /** TURNSTILE_SECRET_KEY. Unset (the sandbox), a `turnstile: true` profile is not checked. */
  turnstileSecret?: string
  /** The owner's test sign-up: always attempted, so the answer is CC's, not a replay. */
  skipDuplicateCheck?: boolean
  /** The request's waitUntil, which keeps the isolate up for the outcome counts' flush. */
  keepAlive?: KeepAlive
}

/**
 * What became of a sign-up; `outcome` is also the log line's. `next` is the visitor's `_next`
 * once validated against the profile's origins.
 */
export type Acceptance =
  | { outcome: 'delivered' | 'queued' | 'honeypot'; next?: string }
  /** The same form and email were accepted moments ago; `of` is what that one got. */
  | { outcome: 'duplicate'; of: AcceptedStatus; next?: string }
  | { outcome: 'invalid'; fields: Record<string, string> }
  | { outcome: 'challenge_failed'; reason: string }
  | { outcome: 'rate_limited'; retryAfterSeconds: number }
  /** The backlog is at OUTBOX_MAX_PENDING: refused before anything reached CC. */
  | { outcome: 'outbox_full'; retryAfterSeconds: number }
  /** Constant Contact refused it for good; it is a dead letter now. */
  | { outcome: 'rejected'; errorKey: string }
  /** Neither delivered nor stored: the backend could not be reached. */
  | { outcome: 'unavailable'; cause: unknown }
  /** Nothing was done: the form changed since `revision`; this is the form now. */
  | { outcome: 'stale'; form: StoredForm | null }

export async function acceptSignup(deps: AcceptDeps, request: SignupRequest): Promise<Acceptance> {
  const started = deps.now()
  const { formId, profile } = request
  const signup = validateSignup(request.fields, profile, request.types, {
    referer: request.referer,
  })
  const count = (outcome: IntakeOutcome, email?: string, reason?: string) =>
    deps.outcomes?.record(
      signupEvent(formId, outcome, deps.now(), email, { reason }),
      request.keepAlive
    )
  // Refused before anything is attempted: no log line (Workers Logs has the request).
  if (!signup.ok) {
    count('invalid_input', undefined, fieldsReason(signup.problems))
    return { outcome: 'invalid', fields: signup.fields }
  }
  const next = signup.next
  // Per network (an IPv4 address, an IPv6 /64), not per address: see network-key.ts.
  const network = networkKey(request.clientIp)
  const statement = signup.consentGiven ? profile.consent?.text : undefined
  const textSha256 = statement === undefined ? undefined : await sha256Hex(statement)
  const [emailHash, digest, clientKey] = await Promise.all([
    hashKey(formId, signup.email),
    // A repeat that gives consent the first did not, or to other words, is not the same sign-up:
    // it needs a receipt of its own.
    payloadDigest(signup.body, textSha256),
    hashKey('net', network),
  ])
  const consent: ConsentGiven | undefined =
    statement === undefined || textSha256 === undefined
      ? undefined
      : {
          text: statement,
          textSha256,
          origin: request.origin ?? null,
          page: signup.page ?? null,
          network,
        }
  const log = (outcome: Acceptance['outcome'], extra: Record<string, unknown> = {}) =>
    console.log(
      JSON.stringify({
        msg: 'submission',
        form: formId,
        outcome,
        email_hash: emailHash,
        duration_ms: deps.now() - started,
        ...extra,
      })
    )
  if (signup.honeypotFilled) {
    log('honeypot')
    count('honeypot', signup.email)
    return { outcome: 'honeypot', next }
  }
  if (profile.turnstile && request.turnstileSecret) {
    const verdict = await verifyTurnstile(
      {
        secret: request.turnstileSecret,
        token: signup.turnstileToken,
        remoteIp: request.clientIp,
        idempotencyKey: crypto.randomUUID(),
        hostnames: profile.origins.map((o) => new URL(o).hostname),
        action: formId,
      },
      deps.fetch
    )
    if (!verdict.ok) {
      log('challenge_failed', { reason: verdict.reason })
      count('challenge_failed', signup.email, verdict.reason)
      return { outcome: 'challenge_failed', reason: verdict.reason }
    }
  }
  let result: Awaited<ReturnType<RelayBackend['submit']>>
  try {
    result = await deps.backend().submit({
      formId,
      payload: signup.body,
      emailHash,
      clientKey,
      digest,
      skipDuplicateCheck: request.skipDuplicateCheck,
      revision: request.revision,
      ...(profile.tags?.length ? { tags: profile.tags } : {}),
      ...(consent ? { consent } : {}),
    })
  } catch (err) {
    log('unavailable', { error: String(err) })
    return { outcome: 'unavailable', cause: err }
  }
  switch (result.status) {
    case 'delivered':
    case 'queued':
      log(result.status)
      return { outcome: result.status, next }
    case 'duplicate':
      log('duplicate', { of: result.of })
      return { outcome: 'duplicate', of: result.of, next }
    case 'rate_limited':
    case 'outbox_full':
      log(result.status)
      return { outcome: result.status, retryAfterSeconds: result.retryAfterSeconds }
    case 'rejected':
      log('rejected', { error_key: result.errorKey })
      return { outcome: 'rejected', errorKey: result.errorKey }
    case 'stale_profile':
      return { outcome: 'stale', form: result.form }
  }
}

/**
 * Whether the backend saw the sign-up (and so checked the revision of the form's copy it was
 * checked against): not for a refusal or a honeypot, which rest on the profile alone.
 */
export function reachedBackend(acceptance: Acceptance): boolean {
  return !['invalid', 'honeypot', 'challenge_failed'].includes(acceptance.outcome)
}

/** What the visitor is told: accepted (and where to go next), or the error to answer with. */
export type SignupAnswer =
  | { ok: true; status: AcceptedStatus; next?: string }
  | { ok: false; error: AppError }

/**
 * A success answer always means delivered to CC or durably stored: never "thanks" otherwise.
 * Every outcome is mapped here and nowhere else (no default: a new outcome must be decided).
 */
export function signupAnswer(acceptance: Acceptance): SignupAnswer {
  switch (acceptance.outcome) {
    case 'delivered':
    case 'queued':
      return { ok: true, status: acceptance.outcome, next: acceptance.next }
    // Bots get the same answer as people, so the honeypot stays invisible to them.
    case 'honeypot':
      return { ok: true, status: 'delivered', next: acceptance.next }
    case 'duplicate':
      return { ok: true, status: acceptance.of, next: acceptance.next }
    case 'invalid':
      return refused('invalid_input', 'Some fields are invalid', {
        details: { fields: acceptance.fields },
      })
    case 'challenge_failed':
      return refused('challenge_failed', `Turnstile verification failed: ${acceptance.reason}`)
    case 'rate_limited':
      return refused('rate_limited', 'Too many sign-ups from this client', {
        headers: { 'retry-after': String(acceptance.retryAfterSeconds) },
      })
    case 'outbox_full':
      return refused('outbox_full', 'Too many sign-ups are waiting to be delivered', {
        headers: { 'retry-after': String(acceptance.retryAfterSeconds) },
      })
    case 'rejected':
      return refused('delivery_failed', 'Constant Contact rejected the sign-up')
    case 'unavailable':
      return refused('unavailable', 'The relay could not store the sign-up', {
        cause: acceptance.cause,
      })
    // Retried against the current form before an answer is given (forms.ts withCurrentForm).
    case 'stale':
      return refused('unavailable', 'The form changed while the sign-up was being accepted')
  }
}

function refused(
  ...args: ConstructorParameters<typeof AppError>
): Extract<SignupAnswer, { ok: false }> {
  return { ok: false, error: new AppError(...args) }
}

export const VISITOR_MESSAGES: Partial<Record<ErrorCode, string>> = {
  unknown_form: 'This sign-up form does not exist.',
  origin_not_allowed: 'This form cannot be submitted from this site.',
  challenge_failed: 'The anti-spam check failed. Please go back and try again.',
  invalid_input: 'Some fields need attention. Please go back and check them.',
  payload_too_large: 'The form sent too much data.',
  unsupported_media_type: 'The form was sent in a format this service does not accept.',
  rate_limited: 'Too many sign-ups from your network. Please wait a minute and try again.',
  delivery_failed: DELIVERY_FAILED_EN,
  unavailable: 'Sign-ups are temporarily unavailable. Please try again in a few minutes.',
  outbox_full: 'Too many sign-ups are waiting to be delivered. Please try again later.',
}

/**
 * The sentence a visitor reads for an error: the form's wording or language (visitor-text.ts),
 * else plain English words where there are some, else the message.
 */
export function visitorMessage(err: AppError, text?: VisitorText): string {
  return text?.errors[err.code] ?? VISITOR_MESSAGES[err.code] ?? err.message
}

export type SignupJsonBody =
  | { ok: true; status: AcceptedStatus; message: string }
  | { ok: false; error: ErrorCode; message: string; fields?: unknown }

/**
 * The JSON answer (what the embed script and `fetch` callers read), with its HTTP status. Every
 * body has a `message` for the visitor, in the form's language.
 */
export function signupJson(
  answer: SignupAnswer,
  text: VisitorText = visitorText()
): {
  status: 200 | 202 | ErrorStatus
  body: SignupJsonBody
} {
  if (answer.ok) {
    return {
      status: answer.status === 'delivered' ? 200 : 202,
      body: { ok: true, status: answer.status, message: text.success },
    }
  }
  const { error } = answer
  const body: SignupJsonBody = {
    ok: false,
    error: error.code,
    message: visitorMessage(error, text),
  }
  if (error.details.fields) body.fields = error.details.fields
  return { status: error.status, body }
}

/** The profile for a form id from the URL; `__proto__` and friends are not profiles. */
export function profileFor(config: Config, formId: string): FormProfile | undefined {
  return Object.hasOwn(config.FORMS, formId) ? config.FORMS[formId] : undefined
}
