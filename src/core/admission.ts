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
    if (retryAfter > 0) return { status: 'rate_limited', retryAfterSeconds: retryAfter }
    const dupKey = `${input.formId}:${input.emailHash}`
    if (!input.skipDuplicateCheck) {
      // A double click: the second waits for the first and answers the same.
      const inflight = this.#submitting.get(dupKey)
      if (inflight) {
        const first = await inflight
        return first.status === 'delivered' || first.status === 'queued'
          ? { status: 'duplicate', of: first.status }
          : first
      }
      const window = config.DUPLICATE_WINDOW_SECONDS * 1000
      const prior = await this.#deps.repo.recentOutcome(dupKey, now, window)
      if (prior) return { status: 'duplicate', of: prior }
    }
    const attempt = this.#accept(input, dupKey).finally(() => {
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
  async #accept(input: Submission, dupKey: string): Promise<SubmitResult> {
    const { repo, clock } = this.#deps
    const apiBase = this.#deps.config().CC_API_BASE_URL
    const attempt = await this.#deps.api.call((token) =>
      signUpRequest(apiBase, token, input.payload)
    )
    const after = clock.now()
    const result = attempt.kind === 'answered' ? attempt.outcome : attempt
    if (result.kind === 'delivered') {
      await repo.delivered(null, after)
      await repo.remember(dupKey, after, 'delivered')
      return { status: 'delivered' }
    }
    if (result.kind === 'dead') {
      await recordDeadLetter(this.#deps, input, result, after)
      return { status: 'rejected', errorKey: result.errorKey }
    }
    const { nextAttemptAt, attempts } = retryPlan(result, 0, after)
    await repo.enqueue({ ...input, attempts, nextAttemptAt, now: after })
    await repo.remember(dupKey, after, 'queued')
    await this.#deps.wake(Math.max(nextAttemptAt, after))
    return { status: 'queued' }
  }
}
