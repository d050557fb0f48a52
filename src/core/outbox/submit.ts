/**
 * @module core/outbox/submit
 * Accepts a validated sign-up: "success" always means delivered or durably stored. In order: the
 * per-network limit, the duplicate window (an identical repeat is answered like the first and not
 * sent again), then an inline send when healthy (`delivered`) or the outbox (`queued`).
 * The backlog cap (OUTBOX_MAX_PENDING) is checked before anything reaches CC, and an inline send
 * reserves a place first (it must be stored if CC fails transiently). So the stored count never
 * passes the cap, nothing accepted is dropped, and nothing refused was sent. A sign-up that
 * carries consent has its receipt written wherever it is stored (delivered, queued or dead
 * lettered), always before it is answered.
 */

import type { Alert } from '../alerts/alert-webhook.ts'
import type { Config } from '../app/config.ts'
import type { CcApi } from '../cc/api.ts'
import { signupRequest } from '../cc/client.ts'
import type { ConsentGiven, ConsentReceipt } from '../consent/receipt.ts'
import type { ConsentRepo } from '../consent/repo.ts'
import type { Clock } from '../lib/clock.ts'
import { type EventOutcome, type MetricEvent, signupEvent, type Tally } from '../metrics/metrics.ts'
import { ccReason } from '../metrics/signups.ts'
import type { AfterAnswer } from '../relay/after-answer.ts'
import type { SignupFormBody } from '../signup/validate-signup.ts'
import { contactToTag, taggingDueAfter } from '../tagging/tagging.ts'
import { type Emit, signupDelivered } from '../webhooks/events.ts'
import type { ClientLimiter } from './client-limiter.ts'
import { forbiddenMessage, recordDeadLetter, watchBacklog } from './drain.ts'
import type { AcceptedStatus, OutboxRepo } from './repo.ts'
import { isRetry, parksForOwner, retryPlan, retryReason, type Undelivered } from './retry-plan.ts'

export interface Submission {
  formId: string
  payload: SignupFormBody
  /** hash(form, email): duplicate detection and queue merging without storing the address twice. */
  emailHash: string
  /** hash(the client's network), for the per-client limit (network-key.ts). */
  clientKey: string
  /**
   * repeats.ts `payloadDigest`: what the sign-up says, for the duplicate window. Hashed by the
   * caller, like the keys: the stateless worker scales out, while the object is one thread for
   * the whole account, and its group commit (worker.ts `#together`) wants the object's part of a
   * sign-up to run through without waiting on anything.
   */
  digest: string
  /** The owner's "send a test sign-up": always attempted, so the answer is CC's, not a replay. */
  skipDuplicateCheck?: boolean
  /**
   * The form's `tags` when the sign-up was accepted: added to the contact once CC has answered
   * with its contact_id (sign_up_form takes no tags).
   */
  tags?: string[]
  /** The consent the visitor gave: its receipt is written in the step that accepts the sign-up. */
  consent?: ConsentGiven
}

export type SubmitResult =
  | { status: 'delivered' }
  | { status: 'queued' }
  /** Absorbed: the same form+email said the same moments ago; `of` is what that one got. */
  | { status: 'duplicate'; of: AcceptedStatus }
  | { status: 'rate_limited'; retryAfterSeconds: number }
  /** No place in the backlog: refused before anything reached CC. */
  | { status: 'outbox_full'; retryAfterSeconds: number }
  | { status: 'rejected'; errorKey: string }

export interface AdmissionDeps {
  repo: OutboxRepo
  api: CcApi
  config: () => Config
  clock: Clock
  alert: (alert: Alert) => Promise<unknown>
  /** Asks the runtime to drain the outbox at `at` (a Durable Object alarm on Workers). */
  wake: (at: number) => Promise<void>
  limiter: ClientLimiter
  /** CC answered 403 to a sign-up sent with `accessToken`: the connection parks (needs_reauth). */
  forbidden: (accessToken: string, message: string) => Promise<void>
  /** The tally of `events`, for the write of the event they count (metrics.ts). */
  tally: (events: MetricEvent[]) => Tally
  /** Counts events that have no write of their own (a write of its own). */
  count: (events: MetricEvent[]) => Promise<void>
  /** Where an inline delivery's bookkeeping is written: before or after its answer. */
  afterAnswer: AfterAnswer
  /** Where the receipt of a consent given with a sign-up CC took inline is written. */
  consents: ConsentRepo
  /** Queues a webhook event (core/webhooks/): one write, never a wait on a receiver. */
  emit: Emit
}

/**
 * What a visitor refused for a full backlog is told to wait: the backlog drains at
 * CC_RATE_PER_SECOND at best, and usually it is full because it waits for the owner.
 */
export const OUTBOX_FULL_RETRY_SECONDS = 300

export class Admission {
  readonly #deps: AdmissionDeps
  /** Submissions in progress by form+email, with the digest of what each says. */
  readonly #submitting = new Map<string, { digest: string; result: Promise<SubmitResult> }>()
  /** Places in the backlog held by inline sends in flight (see the module comment). */
  #placesHeld = 0
  /** Bumped in the same synchronous step as each enqueue, to bound a stale backlog read. */
  #enqueues = 0

  /** Places held by inline sends in flight: the owner's replay of dead letters leaves them. */
  get placesHeld(): number {
    return this.#placesHeld
  }

  constructor(deps: AdmissionDeps) {
    this.#deps = deps
  }

  async submit(input: Submission): Promise<SubmitResult> {
    const config = this.#deps.config()
    const now = this.#deps.clock.now()
    const limit = config.SUBMIT_RATE_LIMIT_PER_MINUTE
    const retryAfter = await this.#deps.limiter.hit(input.clientKey, now, limit)
    if (retryAfter > 0) {
      await this.#refused(input, 'rate_limited', now)
      return { status: 'rate_limited', retryAfterSeconds: retryAfter }
    }
    const dupKey = `${input.formId}:${input.emailHash}`
    const { digest } = input
    const sign: Signup = { input, dupKey, received: now }
    if (input.skipDuplicateCheck) return this.#accept(sign, false)
    const ahead = this.#submitting.get(dupKey)
    if (ahead?.digest === digest) {
      // A double click: the same sign-up is in flight; this one waits and answers the same.
      // (A refusal it got is its answer too, counted once, with the first.)
      const first = await ahead.result
      if (first.status !== 'delivered' && first.status !== 'queued' && first.status !== 'duplicate')
        return first
      await this.#refused(input, 'duplicate', now)
      return first.status === 'duplicate' ? first : { status: 'duplicate', of: first.status }
    }
    const entry = { digest, result: this.#admit(sign, ahead?.result) }
    this.#submitting.set(dupKey, entry)
    const done = () => {
      if (this.#submitting.get(dupKey) === entry) this.#submitting.delete(dupKey)
    }
    // Kept until its duplicate-window entry is written, even when that follows the answer.
    const written = () => this.#deps.afterAnswer.settled().then(done)
    entry.result.then(written, written)
    return entry.result
  }

  /**
   * `ahead` is a different sign-up of the same form+email still in flight. This one waits for
   * it, so that the two reach CC (an upsert) in the order they were made: the newer values win.
   */
  async #admit(sign: Signup, ahead: Promise<SubmitResult> | undefined): Promise<SubmitResult> {
    if (ahead) await ahead.catch(() => undefined)
    const window = this.#deps.config().DUPLICATE_WINDOW_SECONDS * 1000
    const now = this.#deps.clock.now()
    const prior = await this.#deps.repo.recentOutcome(sign.dupKey, now, window)
    // An absorbed repeat writes no receipt: the one it repeats said the same, consent included
    // (the digest covers it), so that one has its receipt. A repeat that adds the consent the
    // first lacked says something else, and goes on to be stored with its own.
    if (prior && prior.digest === sign.input.digest) {
      await this.#refused(sign.input, 'duplicate', now)
      return { status: 'duplicate', of: prior.status }
    }
    // A change to a sign-up that was queued goes into its item (the merge keeps the newer
    // values), not inline past it: delivered later, the older item would overwrite it at CC.
    return this.#accept(sign, prior?.status === 'queued')
  }

  /**
   * The duplicate window is written only once the sign-up is delivered or durably queued, in the
   * same step: a submission that failed (or whose object died mid-send) is never "remembered",
   * so the visitor's retry is attempted again rather than answered "thanks" for nothing.
   */
  async #accept(sign: Signup, behindQueued: boolean): Promise<SubmitResult> {
    const { clock, tally } = this.#deps
    const { input, dupKey } = sign
    const cap = this.#deps.config().OUTBOX_MAX_PENDING
    const straightToOutbox: Undelivered = { kind: 'no_slot', until: clock.now() }
    if (behindQueued || !(await this.#holdPlace(cap)))
      return this.#store(sign, straightToOutbox, cap - this.#placesHeld)
    let holding = true
    try {
      // The receipt first: with a place held, the sign-up will be delivered, dead lettered or
      // queued, and the consent was given whichever it is. Written after CC took the contact, a
      // failed write would leave a contact at CC with no receipt (and the visitor a 503).
      const receipt = receiptOf(sign)
      if (receipt) await this.#deps.consents.record(receipt)
      const apiBase = this.#deps.config().CC_API_BASE_URL
      // A visitor is never held for a refresh: without a valid token the sign-up is stored, due
      // at once, and the drain (which waits for the refresh) delivers it when the refresh lands.
      const attempt = await this.#deps.api.call(
        (token) => signupRequest(apiBase, token, input.payload),
        { waitForRefresh: false }
      )
      const after = clock.now()
      const result = attempt.kind === 'answered' ? attempt.outcome : attempt
      // Past the intake checks: accepted when it came in, whatever CC makes of it; counted in
      // the write below, with what became of it (delivered, dead lettered) when it did.
      if (result.kind === 'delivered') {
        const events = [event(sign, 'accepted'), event(sign, 'delivered', after)]
        const toTag = contactToTag(input, result.contactId)
        const record = async () => {
          await this.#deps.repo.delivered(null, after, tally(events), toTag)
          await this.#deps.repo.remember(dupKey, after, {
            status: 'delivered',
            digest: input.digest,
          })
          if (toTag) await this.#deps.wake(taggingDueAfter(after))
          await this.#deps.emit(signupDelivered(input, result, sign.received, after))
        }
        // The sign-up is at CC: the rest is bookkeeping, which need not delay the answer. Unless
        // it leaves a tagging: that must be stored before "delivered" is said, so that a crash
        // in between answers 503 and the visitor's retry (an upsert) records it again.
        if (toTag) await record()
        else await this.#deps.afterAnswer.run(record)
        return { status: 'delivered' }
      }
      if (result.kind === 'dead') {
        // Its receipt is written (above): the owner may replay it, and CC take it then.
        await recordDeadLetter(this.#deps, input, result, after, [
          event(sign, 'accepted'),
          event(sign, 'dead_lettered', after, ccReason(result.status, result.errorKey)),
        ])
        return { status: 'rejected', errorKey: result.errorKey }
      }
      if (attempt.kind === 'answered' && result.kind === 'forbidden') {
        await this.#deps.forbidden(attempt.accessToken, forbiddenMessage(result.message))
      }
      // The place this send held is the one it is stored in.
      this.#placesHeld--
      holding = false
      return await this.#store(sign, result, cap - this.#placesHeld, { receiptWritten: true })
    } finally {
      if (holding) this.#placesHeld--
    }
  }

  /**
   * Holds a place for an inline send, when the backlog and the places already held leave one.
   * The backlog is read before the check; enqueues that land meanwhile (each adds at most one)
   * are counted as if they had, so the check errs towards refusing, never past the cap.
   */
  async #holdPlace(cap: number): Promise<boolean> {
    const seen = this.#enqueues
    const backlog = await this.#deps.repo.backlog()
    if (backlog + (this.#enqueues - seen) + this.#placesHeld >= cap) return false
    this.#placesHeld++
    return true
  }

  /** `receiptWritten`: an inline send's, written before it was sent; else it goes with the item. */
  async #store(
    sign: Signup,
    undelivered: Undelivered,
    maxBacklog: number,
    { receiptWritten = false } = {}
  ): Promise<SubmitResult> {
    const { repo, clock, tally } = this.#deps
    const { input, dupKey } = sign
    const now = clock.now()
    const { nextAttemptAt, attempts } = retryPlan(undelivered, 0, now)
    const events = [event(sign, 'accepted')]
    if (isRetry(undelivered)) events.push(event(sign, 'retried', now, retryReason(undelivered)))
    this.#enqueues++
    const receipt = receiptWritten ? undefined : receiptOf(sign)
    const item = { ...input, attempts, nextAttemptAt, now, receipt }
    // The tally and the receipt are written only when the item is stored (or merged), in that
    // same step.
    const stored = await repo.enqueue(item, maxBacklog, tally(events))
    if (stored.outcome === 'full') {
      await this.#refused(input, 'outbox_full', now)
      return { status: 'outbox_full', retryAfterSeconds: OUTBOX_FULL_RETRY_SECONDS }
    }
    await repo.remember(dupKey, now, { status: 'queued', digest: input.digest })
    if (stored.outcome === 'stored') await watchBacklog(this.#deps)
    // Parked for the owner: reconnecting wakes the drain, nothing before it can send.
    if (!parksForOwner(undelivered)) await this.#deps.wake(Math.max(nextAttemptAt, now))
    return { status: 'queued' }
  }

  /** Counts an intake outcome decided here that writes nothing else (a write of its own). */
  #refused(input: Submission, outcome: EventOutcome, at: number): Promise<void> {
    return this.#deps.count([signupEvent(input.formId, outcome, at, input.payload.email_address)])
  }
}

/** A sign-up on its way through admission. */
interface Signup {
  input: Submission
  /** form + email hash: the key of the duplicate window and of queued merges. */
  dupKey: string
  /** When it reached the object: the `accepted` time, and the start of its latency. */
  received: number
}

/** The receipt of the consent a sign-up carries, given when the sign-up reached the object. */
function receiptOf(sign: Signup): ConsentReceipt | undefined {
  const { formId, payload, consent } = sign.input
  if (!consent) return undefined
  return {
    form: formId,
    email: payload.email_address.toLowerCase(),
    givenAt: sign.received,
    text: consent.text,
    textSha256: consent.textSha256,
    origin: consent.origin,
    page: consent.page,
    network: consent.network,
  }
}

/** A metric event of this sign-up: accepted when it came in, the rest when they happened. */
function event(sign: Signup, outcome: EventOutcome, at = sign.received, reason?: string) {
  const { formId, payload } = sign.input
  const latencyMs = outcome === 'delivered' ? at - sign.received : undefined
  return signupEvent(formId, outcome, at, payload.email_address, { latencyMs, reason })
}
