/**
 * @module cc-api
 * The one way out to Constant Contact's API. Every call (a sign-up sent inline or from the
 * outbox, the dashboard's list reads) passes the same gates, in this order:
 *   1. a pause (CC answered `throttled`) or a park (the daily quota is spent) in force;
 *   2. CC_DAILY_QUOTA: requests counted per UTC day, the day CC's quota resets;
 *   3. a pacing slot (pacer.ts), held until the answer and rested a second after it;
 * then it sends with a fresh access token, and on a 401 refreshes once and tries once more.
 */
import { apiGetRequest, type CcOutcome, exchange, processApiResponse } from './cc-client.ts'
import type { Clock } from './clock.ts'
import type { Config } from './config.ts'
import type { AccessToken } from './connection.ts'
import type { ErrorCode, Outcome } from './errors.ts'
import { nextUtcMidnight, THROTTLE_PAUSE_MS, utcDay } from './outbox.ts'
import { Pacer, SLOT_REST_MS } from './pacer.ts'
import type { DeliveryBlocks, OutboxRepo } from './store.ts'

export type ApiAttempt =
  | { kind: 'answered'; outcome: CcOutcome; body: unknown }
  /** No usable access token (not connected, needs a reconnect, or refresh backing off). */
  | { kind: 'no_token'; code: ErrorCode; message: string }
  /** Nothing was sent: a pause, a park, the quota or the pacing holds until `until`. */
  | { kind: 'no_slot'; until: number }

export interface CcApiDeps {
  repo: Pick<OutboxRepo, 'countRequest' | 'requestsOn' | 'blocks' | 'setBlocks'>
  config: () => Config
  fetch: typeof fetch
  clock: Clock
  accessToken: (options?: { rejected?: string }) => Promise<Outcome<AccessToken>>
}

export const SEND_TIMEOUT_MS = 10_000
/** The dashboard waits this long at most for a slot rather than overshooting CC's limit. */
const READ_WAIT_MS = 1500

export class CcApi {
  readonly #deps: CcApiDeps
  #pacer: Pacer | null = null

  constructor(deps: CcApiDeps) {
    this.#deps = deps
  }

  get #pace(): Pacer {
    this.#pacer ??= new Pacer(this.#deps.config().CC_RATE_PER_SECOND)
    return this.#pacer
  }

  /** One attempt: a token, the gates, the request; on a 401 one refresh and one more try. */
  async call(build: (accessToken: string) => Request): Promise<ApiAttempt> {
    const token = await this.#deps.accessToken()
    if (!token.ok) return { kind: 'no_token', code: token.code, message: token.message }
    const first = await this.#send(build(token.value.token))
    if (first.kind !== 'answered' || first.outcome.kind !== 'unauthorized') return first
    const renewed = await this.#deps.accessToken({ rejected: token.value.token })
    if (!renewed.ok) return { kind: 'no_token', code: renewed.code, message: renewed.message }
    const second = await this.#send(build(renewed.value.token))
    if (second.kind === 'answered' && second.outcome.kind === 'unauthorized') {
      const outcome: CcOutcome = {
        kind: 'retry',
        status: 401,
        errorKey: 'unauthorized',
        message: 'CC rejected a fresh token',
      }
      return { ...second, outcome }
    }
    return second
  }

  /** A GET for the owner's dashboard, waiting briefly for a slot. */
  async get(url: string): Promise<Outcome<unknown>> {
    const { clock } = this.#deps
    for (let tries = 0; tries < 8; tries++) {
      const attempt = await this.call((token) => apiGetRequest(url, token))
      if (attempt.kind === 'no_token')
        return { ok: false, code: attempt.code, message: attempt.message }
      if (attempt.kind === 'no_slot') {
        const wait = attempt.until - clock.now()
        if (wait > READ_WAIT_MS) break
        await clock.sleep(Math.max(wait, 50))
        continue
      }
      if (attempt.outcome.kind === 'delivered') return { ok: true, value: attempt.body }
      const { status } = attempt.outcome
      return {
        ok: false,
        code: 'unavailable',
        message:
          status === 0 ? 'Constant Contact did not answer' : `Constant Contact answered ${status}`,
      }
    }
    return { ok: false, code: 'unavailable', message: 'CC rate limit or quota in force' }
  }

  /** Until when sends are paused or parked (`now` when they are not). */
  async blockedUntil(now: number): Promise<number> {
    const blocks = await this.#deps.repo.blocks()
    return Math.max(blocks.pausedUntil ?? 0, blocks.parkedUntil ?? 0, now)
  }

  availableSlots(now: number): number {
    return this.#pace.available(now)
  }

  /** When a pacing slot is next free (an estimate while every slot waits for its answer). */
  nextSlotAt(now: number): number {
    return this.#pace.nextFreeAt(now) ?? now + SLOT_REST_MS
  }

  async #send(request: Request): Promise<ApiAttempt> {
    const { clock, repo } = this.#deps
    const now = clock.now()
    const blockedUntil = await this.blockedUntil(now)
    if (blockedUntil > now) return { kind: 'no_slot', until: blockedUntil }
    if ((await repo.requestsOn(utcDay(now))) >= this.#deps.config().CC_DAILY_QUOTA) {
      const midnight = nextUtcMidnight(now)
      await this.#setBlocks({ parkedUntil: midnight })
      return { kind: 'no_slot', until: midnight }
    }
    // Synchronous check-and-take: no await between reading the slots and taking one.
    const slot = this.#pace.take(clock.now())
    if (slot === null) return { kind: 'no_slot', until: this.nextSlotAt(clock.now()) }
    let answer: Awaited<ReturnType<typeof exchange>>
    try {
      answer = await exchange(this.#deps.fetch, request, SEND_TIMEOUT_MS)
    } finally {
      this.#pace.release(slot, clock.now())
    }
    // Counted once the request has left, not before: a write before an outbound fetch would hold
    // the fetch behind the Durable Object's output gate on every sign-up. A crash mid-send
    // undercounts by one at most, and CC's own quota_exceeded answer parks us anyway.
    const after = clock.now()
    await repo.countRequest(utcDay(after))
    const { outcome, body } = await processApiResponse(answer)
    if (outcome.kind === 'throttled')
      await this.#setBlocks({ pausedUntil: after + THROTTLE_PAUSE_MS })
    if (outcome.kind === 'quota_exceeded')
      await this.#setBlocks({ parkedUntil: nextUtcMidnight(after) })
    return { kind: 'answered', outcome, body }
  }

  async #setBlocks(change: Partial<DeliveryBlocks>) {
    const blocks = await this.#deps.repo.blocks()
    await this.#deps.repo.setBlocks({ ...blocks, ...change })
  }
}
