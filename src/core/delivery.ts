/**
 * @module delivery
 * Sends sign-ups to Constant Contact, and owns the outbox: nothing accepted is ever lost.
 *
 * - Fast path: a healthy, unthrottled sign-up is sent inline and answered `delivered`.
 * - Otherwise it is stored (durably, before the answer leaves) and answered `queued`; the outbox
 *   drains through a wake-up (a Durable Object alarm on Workers) with the cron as a watchdog.
 * - Every send to CC, inline or queued, takes a slot from one pacer (CC_RATE_PER_SECOND) and the
 *   daily quota (CC_DAILY_QUOTA, reset at 00:00 UTC). `throttled` pauses briefly,
 *   `quota_exceeded` parks until midnight UTC, `needs_reauth` parks until the owner reconnects.
 * - Sends are at-least-once: an item is leased while in flight, and a crash mid-send makes it due
 *   again after the lease. sign_up_form is an upsert by email, so a redelivery is harmless.
 */
import type { Alert } from './alerts.ts'
import type { Config } from './config.ts'
import type { AccessToken } from './connection.ts'
import type { Outcome } from './errors.ts'
import {
  type CcOutcome,
  classifyCcResponse,
  nextUtcMidnight,
  Pacer,
  retryDelay,
  utcDay,
} from './outbox.ts'
import type { SignUpFormBody } from './signup.ts'
import type { AcceptedStatus, DeliveryBlocks, OutboxItem, OutboxRepo } from './store.ts'

export interface DeliveryDeps {
  repo: OutboxRepo
  accessToken: (options?: { rejected?: string }) => Promise<Outcome<AccessToken>>
  config: () => Config
  fetch: typeof fetch
  now: () => number
  sleep: (ms: number) => Promise<void>
  alert: (alert: Alert) => Promise<unknown>
  /** Asks the runtime to call drain() at `at` (a Durable Object alarm on Workers). */
  wake: (at: number) => Promise<void>
}

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

type Attempt =
  | CcOutcome
  /** No usable token: needs_reauth or not_connected park; token_unavailable retries soon. */
  | { kind: 'no_token'; code: string }
  /** No pacing slot, or a pause/park is in force. */
  | { kind: 'no_slot'; until: number }

/**
 * Outlives the slowest attempt (a refresh of 3 × (1.1 s + 8 s), a 10 s send, a 401, another
 * refresh and send), so only a crash lets a lease lapse; a new Durable Object instance releases
 * its predecessor's leases at once (sql-store.ts `migrate`).
 */
const LEASE_MS = 90_000
const THROTTLE_PAUSE_MS = 2_000
const SEND_TIMEOUT_MS = 10_000
const DRAIN_BUDGET_MS = 25_000
const TOKEN_RETRY_MS = 30_000
const RATE_WINDOW_MS = 60_000

export class Delivery {
  readonly #deps: DeliveryDeps
  #pacer: Pacer | null = null
  #draining: Promise<number> | null = null
  readonly #clientHits = new Map<string, number[]>()
  /** Submissions in progress by form+email, so a concurrent duplicate shares the outcome. */
  readonly #submitting = new Map<string, Promise<SubmitResult>>()

  constructor(deps: DeliveryDeps) {
    this.#deps = deps
  }

  get #pace(): Pacer {
    this.#pacer ??= new Pacer(this.#deps.config().CC_RATE_PER_SECOND)
    return this.#pacer
  }

  async submit(input: Submission): Promise<SubmitResult> {
    const config = this.#deps.config()
    const now = this.#deps.now()
    const retryAfter = this.#rateLimit(input.clientKey, now, config.SUBMIT_RATE_LIMIT_PER_MINUTE)
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
    const attempt = await this.#attempt(input.payload)
    const after = this.#deps.now()
    switch (attempt.kind) {
      case 'delivered':
        await this.#deps.repo.delivered(null, after)
        await this.#deps.repo.remember(dupKey, after, 'delivered')
        return { status: 'delivered' }
      case 'dead':
        await this.#deadLetter(input, attempt, after)
        return { status: 'rejected', errorKey: attempt.errorKey }
      default: {
        const { nextAttemptAt, attempts } = this.#retryPlan(attempt, 0, after)
        await this.#deps.repo.enqueue({ ...input, attempts, nextAttemptAt, now: after })
        await this.#deps.repo.remember(dupKey, after, 'queued')
        await this.#deps.wake(Math.max(nextAttemptAt, after))
        return { status: 'queued' }
      }
    }
  }

  /** Sends what is due, within the pace, for up to DRAIN_BUDGET_MS; then schedules the next wake. */
  drain(): Promise<number> {
    if (!this.#draining) {
      this.#draining = this.#drain().finally(() => {
        this.#draining = null
      })
    }
    return this.#draining
  }

  async figures() {
    const now = this.#deps.now()
    const [figures, blocks] = await Promise.all([
      this.#deps.repo.figures(now),
      this.#deps.repo.blocks(),
    ])
    const config = this.#deps.config()
    return {
      ...figures,
      quotaLimit: config.CC_DAILY_QUOTA,
      ratePerSecond: config.CC_RATE_PER_SECOND,
      pausedUntil:
        blocks.pausedUntil !== null && blocks.pausedUntil > now ? blocks.pausedUntil : null,
      parkedUntil:
        blocks.parkedUntil !== null && blocks.parkedUntil > now ? blocks.parkedUntil : null,
    }
  }

  /**
   * A GET to CC's API for the owner's dashboard (lists, custom fields). It spends the same pace
   * and quota as sign-ups, waiting briefly for a slot rather than overshooting CC's limit.
   */
  async apiGet(url: string): Promise<Outcome<unknown>> {
    let token = await this.#deps.accessToken()
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!token.ok) return token
      const slot = await this.#waitForSlot()
      if (!slot)
        return { ok: false, code: 'unavailable', message: 'CC rate limit or quota in force' }
      let res: Response
      try {
        res = await this.#deps.fetch(url, {
          headers: { authorization: `Bearer ${token.value.token}`, accept: 'application/json' },
          signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
        })
        await this.#countRequest()
      } catch (err) {
        await this.#countRequest()
        return {
          ok: false,
          code: 'unavailable',
          message: `Constant Contact did not answer: ${err}`,
        }
      }
      if (res.status === 401 && attempt === 0) {
        token = await this.#deps.accessToken({ rejected: token.value.token })
        continue
      }
      const body = await res.json().catch(() => undefined)
      if (!res.ok) {
        return {
          ok: false,
          code: 'unavailable',
          message: `Constant Contact answered ${res.status}`,
        }
      }
      return { ok: true, value: body }
    }
    return { ok: false, code: 'unavailable', message: 'Constant Contact rejected a fresh token' }
  }

  async #waitForSlot(): Promise<boolean> {
    for (let i = 0; i < 4; i++) {
      const slot = await this.#acquire()
      if (slot === true) return true
      const wait = slot.until - this.#deps.now()
      if (wait > 1500) return false
      await this.#deps.sleep(wait)
    }
    return false
  }

  /** The owner's Retry: dead letters back to the queue, then deliver. */
  async retryDead(id: number | 'all'): Promise<number> {
    const revived = await this.#deps.repo.revive(id, this.#deps.now())
    if (revived > 0) await this.#deps.wake(this.#deps.now())
    return revived
  }

  async purge(): Promise<number> {
    const days = this.#deps.config().DEAD_LETTER_RETENTION_DAYS
    return this.#deps.repo.purgeDead(this.#deps.now() - days * 86_400_000)
  }

  async #drain(): Promise<number> {
    const started = this.#deps.now()
    let sent = 0
    let parkedForAuth = false
    while (this.#deps.now() - started < DRAIN_BUDGET_MS) {
      const now = this.#deps.now()
      const blockedUntil = await this.#blockedUntil(now)
      if (blockedUntil > now) break
      const slots = this.#pace.available(now)
      if (slots === 0) {
        const wait = this.#pace.nextFreeAt(now) - now
        if (wait > 2000) break
        await this.#deps.sleep(wait)
        continue
      }
      const items = await this.#deps.repo.claimDue(now, slots, now + LEASE_MS)
      if (items.length === 0) break
      const outcomes = await Promise.all(items.map((item) => this.#deliverQueued(item)))
      sent += outcomes.filter((o) => o === 'delivered').length
      if (outcomes.includes('parked')) {
        parkedForAuth = true
        break
      }
    }
    // Parked for a reconnect: no wake-ups (no attempts are burned); reconnecting wakes us.
    if (!parkedForAuth) await this.#scheduleWake()
    return sent
  }

  async #deliverQueued(item: OutboxItem): Promise<'delivered' | 'parked' | 'later'> {
    const attempt = await this.#attempt(item.payload)
    const now = this.#deps.now()
    if (attempt.kind === 'delivered') {
      await this.#deps.repo.delivered(item.id, now)
      return 'delivered'
    }
    if (attempt.kind === 'dead') {
      await this.#deadLetter(item, attempt, now)
      return 'later'
    }
    const { nextAttemptAt, attempts, error } = this.#retryPlan(attempt, item.attempts, now)
    await this.#deps.repo.reschedule(item.id, nextAttemptAt, attempts, error)
    const parked = attempt.kind === 'no_token' && attempt.code !== 'token_unavailable'
    return parked ? 'parked' : 'later'
  }

  /** One delivery attempt: token, pace slot, send; on 401 refresh once and retry once. */
  async #attempt(payload: SignUpFormBody): Promise<Attempt> {
    const token = await this.#deps.accessToken()
    if (!token.ok) return { kind: 'no_token', code: token.code }
    const slot = await this.#acquire()
    if (slot !== true) return slot
    const first = await this.#send(payload, token.value.token)
    if (first.kind !== 'unauthorized') return first
    const renewed = await this.#deps.accessToken({ rejected: token.value.token })
    if (!renewed.ok) return { kind: 'no_token', code: renewed.code }
    const again = await this.#acquire()
    if (again !== true) return again
    const second = await this.#send(payload, renewed.value.token)
    return second.kind === 'unauthorized'
      ? {
          kind: 'retry',
          status: 401,
          errorKey: 'unauthorized',
          message: 'CC rejected a fresh token',
        }
      : second
  }

  async #acquire(): Promise<true | { kind: 'no_slot'; until: number }> {
    const now = this.#deps.now()
    const blockedUntil = await this.#blockedUntil(now)
    if (blockedUntil > now) return { kind: 'no_slot', until: blockedUntil }
    // Synchronous check-and-take: no await between reading the window and taking the slot.
    if (!this.#pace.tryAcquire(now)) return { kind: 'no_slot', until: this.#pace.nextFreeAt(now) }
    if ((await this.#deps.repo.requestsOn(utcDay(now))) >= this.#deps.config().CC_DAILY_QUOTA) {
      const midnight = nextUtcMidnight(now)
      await this.#setBlocks({ parkedUntil: midnight })
      return { kind: 'no_slot', until: midnight }
    }
    return true
  }

  /**
   * Counted once the request has left, not before: a write before an outbound fetch would hold
   * the fetch behind the output gate on every sign-up. A crash mid-send undercounts by one at
   * most, and CC's own quota_exceeded answer parks us anyway.
   */
  async #countRequest(): Promise<void> {
    await this.#deps.repo.countRequest(utcDay(this.#deps.now()))
  }

  async #send(payload: SignUpFormBody, token: string): Promise<CcOutcome> {
    const url = `${this.#deps.config().CC_API_BASE_URL}/contacts/sign_up_form`
    try {
      const res = await this.#deps.fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          accept: 'application/json',
        },
        body: JSON.stringify(payload),
        signal: AbortSignal.timeout(SEND_TIMEOUT_MS),
      })
      let body: unknown
      try {
        body = await res.json()
      } catch {
        body = undefined
      }
      // After the body: this write then shares one commit with the outcome's writes.
      await this.#countRequest()
      const outcome = classifyCcResponse(res.status, body)
      const now = this.#deps.now()
      if (outcome.kind === 'throttled')
        await this.#setBlocks({ pausedUntil: now + THROTTLE_PAUSE_MS })
      if (outcome.kind === 'quota_exceeded')
        await this.#setBlocks({ parkedUntil: nextUtcMidnight(now) })
      return outcome
    } catch (err) {
      await this.#countRequest()
      return { kind: 'retry', status: 0, errorKey: 'network_error', message: String(err) }
    }
  }

  #retryPlan(
    attempt: Exclude<Attempt, { kind: 'delivered' | 'dead' }>,
    attempts: number,
    now: number
  ) {
    switch (attempt.kind) {
      case 'retry': {
        const error = {
          status: attempt.status,
          errorKey: attempt.errorKey,
          message: attempt.message,
          at: now,
        }
        return { attempts: attempts + 1, nextAttemptAt: now + retryDelay(attempts + 1), error }
      }
      case 'unauthorized':
        return {
          attempts: attempts + 1,
          nextAttemptAt: now + retryDelay(attempts + 1),
          error: null,
        }
      case 'throttled':
        return { attempts, nextAttemptAt: now + THROTTLE_PAUSE_MS, error: null }
      case 'quota_exceeded':
        return { attempts, nextAttemptAt: nextUtcMidnight(now), error: null }
      case 'no_slot':
        return { attempts, nextAttemptAt: attempt.until, error: null }
      case 'no_token':
        // Parked items are due as soon as a token exists again; reconnecting wakes the drain.
        return {
          attempts,
          nextAttemptAt: attempt.code === 'token_unavailable' ? now + TOKEN_RETRY_MS : now,
          error: null,
        }
    }
  }

  async #deadLetter(
    item: { id?: number; formId: string; emailHash?: string; payload: SignUpFormBody },
    attempt: Extract<CcOutcome, { kind: 'dead' }>,
    now: number
  ) {
    const error = {
      status: attempt.status,
      errorKey: attempt.errorKey,
      message: attempt.message,
      at: now,
    }
    await this.#deps.repo.kill(item, error, now)
    console.log(
      JSON.stringify({
        msg: 'dead_letter',
        form: item.formId,
        cc_status: attempt.status,
        error_key: attempt.errorKey,
      })
    )
    await this.#deps.alert({
      event: 'dead_letter',
      state: 'dead_letter',
      reason: {
        code: attempt.errorKey,
        message: `Constant Contact answered ${attempt.status} for a sign-up to form "${item.formId}": ${attempt.message}`,
      },
      at: new Date(now).toISOString(),
    })
  }

  async #blockedUntil(now: number): Promise<number> {
    const blocks = await this.#deps.repo.blocks()
    return Math.max(blocks.pausedUntil ?? 0, blocks.parkedUntil ?? 0, now)
  }

  async #setBlocks(change: Partial<DeliveryBlocks>) {
    const blocks = await this.#deps.repo.blocks()
    await this.#deps.repo.setBlocks({ ...blocks, ...change })
  }

  async #scheduleWake() {
    const next = await this.#deps.repo.nextDueAt()
    if (next === null) return
    const now = this.#deps.now()
    const at = Math.max(next, await this.#blockedUntil(now), this.#pace.nextFreeAt(now))
    await this.#deps.wake(at)
  }

  /** Seconds until this client may submit again, or 0. In memory: a restart forgives. */
  #rateLimit(clientKey: string, now: number, perMinute: number): number {
    if (this.#clientHits.size > 10_000) this.#clientHits.clear()
    const hits = (this.#clientHits.get(clientKey) ?? []).filter((t) => t > now - RATE_WINDOW_MS)
    if (hits.length >= perMinute) {
      this.#clientHits.set(clientKey, hits)
      return Math.max(1, Math.ceil((hits[0] + RATE_WINDOW_MS - now) / 1000))
    }
    hits.push(now)
    this.#clientHits.set(clientKey, hits)
    return 0
  }
}
