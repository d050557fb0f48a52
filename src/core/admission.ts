/**
 * @module admission
 * Takes a validated sign-up and either delivers it at once or stores it durably before answering:
 * the promise behind "a success answer always means delivered or stored".
 *
 * - The per-visitor limit, then the duplicate window: a repeat of the same email to the same form
 *   within DUPLICATE_WINDOW_SECONDS is answered as the first one was, and not sent twice.
 * - Fast path: a healthy, unthrottled sign-up is sent inline (cc-api.ts) and answered `delivered`.
 * - Otherwise it goes to the outbox before the answer leaves, and is answered `queued`; the outbox
 *   drains on a wake-up (delivery.ts). CC refusing it for good makes it a dead letter.
 */
import type { Alert } from './alerts.ts'
import type { CcApi } from './cc-api.ts'
import { signUpRequest } from './cc-client.ts'
import { ClientLimiter } from './client-limiter.ts'
import type { Clock } from './clock.ts'
import type { Config } from './config.ts'
import { recordDeadLetter } from './delivery.ts'
import { type EventOutcome, isRetry, type MetricEvent, signUpEvent, type Tally } from './metrics.ts'
import { retryPlan } from './outbox.ts'
import type { SignUpFormBody } from './signup.ts'
import type { AcceptedStatus, OutboxRepo } from './store.ts'

export interface Submission {
  formId: string
  payload: SignUpFormBody
  /** hash(form, email): duplicate detection and queue merging without storing the address twice. */
  emailHash: string
  /** hash(client IP), for the per-visitor rate limit. */
  clientKey: string
  /** The owner's "send a test sign-up": always attempted, so the answer is CC's, not a replay. */
  skipDuplicateCheck?: boolean
}

export type SubmitResult =
  | { status: 'delivered' }
  | { status: 'queued' }
  /** Absorbed: the same form+email was accepted moments ago; `of` is what that one got. */
  | { status: 'duplicate'; of: AcceptedStatus }
  | { status: 'rate_limited'; retryAfterSeconds: number }
  | { status: 'rejected'; errorKey: string }

export interface AdmissionDeps {
  repo: OutboxRepo
  api: CcApi
  config: () => Config
  clock: Clock
  alert: (alert: Alert) => Promise<unknown>
  /** Asks the runtime to drain the outbox at `at` (a Durable Object alarm on Workers). */
  wake: (at: number) => Promise<void>
  /** The tally of `events`, for the write of the event they count (metrics.ts). */
  tally: (events: MetricEvent[]) => Tally
  /** Counts events that have no write of their own (a write of its own). */
  count: (events: MetricEvent[]) => Promise<void>
}

export class Admission {
  readonly #deps: AdmissionDeps
  readonly #limiter = new ClientLimiter()
  /** Submissions in progress by form+email, so a concurrent duplicate shares the outcome. */
  readonly #submitting = new Map<string, Promise<SubmitResult>>()

  constructor(deps: AdmissionDeps) {
    this.#deps = deps
  }

  async submit(input: Submission): Promise<SubmitResult> {
    const config = this.#deps.config()
    const now = this.#deps.clock.now()
    const retryAfter = this.#limiter.hit(input.clientKey, now, config.SUBMIT_RATE_LIMIT_PER_MINUTE)
    if (retryAfter > 0) {
      await this.#refused(input, 'rate_limited', now)
      return { status: 'rate_limited', retryAfterSeconds: retryAfter }
    }
    const dupKey = `${input.formId}:${input.emailHash}`
    if (!input.skipDuplicateCheck) {
      // A double click: the second waits for the first and answers the same.
      const inflight = this.#submitting.get(dupKey)
      if (inflight) {
        const first = await inflight
        await this.#refused(input, 'duplicate', now)
        return first.status === 'delivered' || first.status === 'queued'
          ? { status: 'duplicate', of: first.status }
          : first
      }
      const window = config.DUPLICATE_WINDOW_SECONDS * 1000
      const prior = await this.#deps.repo.recentOutcome(dupKey, now, window)
      if (prior) {
        await this.#refused(input, 'duplicate', now)
        return { status: 'duplicate', of: prior }
      }
    }
    const attempt = this.#accept(input, dupKey, now).finally(() => {
      if (this.#submitting.get(dupKey) === attempt) this.#submitting.delete(dupKey)
    })
    this.#submitting.set(dupKey, attempt)
    return attempt
  }

  /**
   * The duplicate window is written only once the sign-up is delivered or durably queued, in the
   * same step: a submission that failed (or whose object died mid-send) is never "remembered",
   * so the visitor's retry is attempted again rather than answered "thanks" for nothing.
   */
  async #accept(input: Submission, dupKey: string, received: number): Promise<SubmitResult> {
    const { repo, clock, tally } = this.#deps
    const apiBase = this.#deps.config().CC_API_BASE_URL
    const attempt = await this.#deps.api.call((token) =>
      signUpRequest(apiBase, token, input.payload)
    )
    const after = clock.now()
    const result = attempt.kind === 'answered' ? attempt.outcome : attempt
    // Past the intake checks: accepted when it came in, whatever CC makes of it; counted in the
    // write below, with what became of it (delivered, dead lettered, retried) when it did.
    const event = (outcome: EventOutcome, latencyMs?: number) =>
      signUpEvent(
        input.formId,
        outcome,
        outcome === 'accepted' ? received : after,
        input.payload.email_address,
        latencyMs
      )
    if (result.kind === 'delivered') {
      const events = [event('accepted'), event('delivered', after - received)]
      await repo.delivered(null, after, tally(events))
      await repo.remember(dupKey, after, 'delivered')
      return { status: 'delivered' }
    }
    if (result.kind === 'dead') {
      await recordDeadLetter(this.#deps, input, result, after, [
        event('accepted'),
        event('dead_lettered'),
      ])
      return { status: 'rejected', errorKey: result.errorKey }
    }
    const { nextAttemptAt, attempts } = retryPlan(result, 0, after)
    const events = isRetry(result) ? [event('accepted'), event('retried')] : [event('accepted')]
    await repo.enqueue({ ...input, attempts, nextAttemptAt, now: after }, tally(events))
    await repo.remember(dupKey, after, 'queued')
    await this.#deps.wake(Math.max(nextAttemptAt, after))
    return { status: 'queued' }
  }

  /**
   * Counts an intake outcome decided here that writes nothing else: `rate_limited`, `duplicate`
   * (and `outbox_full`, the backlog cap of issue #13, when it lands: the same call).
   */
  #refused(input: Submission, outcome: EventOutcome, at: number): Promise<void> {
    return this.#deps.count([signUpEvent(input.formId, outcome, at, input.payload.email_address)])
  }
}
