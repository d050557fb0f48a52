/**
 * @module core/cc/api
 * The only way to call Constant Contact's API, for inline sign-ups, the outbox and the dashboard's
 * reads. Each call first checks for a pause (CC answered `throttled`) or a hold (the daily quota is
 * spent), then takes a pacing slot and one request of the daily quota (send-gate.ts),
 * then sends with a fresh access token; on a 401 it refreshes once and tries once more.
 */

import type { Config } from '../app/config.ts'
import type { ErrorCode, Outcome } from '../app/errors.ts'
import type { AccessToken } from '../connection/connection.ts'
import type { Clock } from '../lib/clock.ts'
import { nextUtcMidnight } from '../lib/utc-day.ts'
import type { DeliveryBlocks, OutboxRepo } from '../outbox/repo.ts'
import { THROTTLE_PAUSE_MS } from '../outbox/retry-plan.ts'
import { apiGetRequest, type CcOutcome, exchange, processApiResponse } from './client.ts'
import type { SendGate } from './send-gate.ts'

export type ApiAttempt =
  /** CC answered; `accessToken` is the token the request carried. */
  | { kind: 'answered'; outcome: CcOutcome; body: unknown; accessToken: string }
  /** No usable access token (not connected, needs a reconnect, or refresh backing off). */
  | { kind: 'no_token'; code: ErrorCode; message: string }
  /** Nothing was sent: a pause, a park, the quota or the pacing holds until `until`. */
  | { kind: 'no_slot'; until: number }

/** CC's answer to a request the owner waits for, or why none came (CcApi `forOwner`). */
export type OwnerAnswer =
  | { ok: true; outcome: CcOutcome; body: unknown }
  | { ok: false; code: ErrorCode; message: string }

/** What the owner reads when CC did not do what they asked (`status` 0: no answer). */
export function ownerRefusal(status: number): string {
  return status === 0
    ? 'Constant Contact did not answer'
    : status === 403
      ? // A read refused is not a sign-up refused: only sign_up_form's 403 parks the outbox.
        'Constant Contact answered 403: reconnect with contact_data, as a user who can manage contacts'
      : `Constant Contact answered ${status}`
}

export interface CcApiDeps {
  repo: Pick<OutboxRepo, 'blocks' | 'setBlocks'>
  gate: SendGate
  config: () => Config
  fetch: typeof fetch
  clock: Clock
  accessToken: (options?: { rejected?: string; wait?: boolean }) => Promise<Outcome<AccessToken>>
}

/** The longest one request to CC's API may take; a send gate's slot lease outlives it. */
export const SEND_TIMEOUT_MS = 10_000
/** The dashboard waits this long at most for a slot rather than overshooting CC's limit. */
const READ_WAIT_MS = 1500

export class CcApi {
  readonly #deps: CcApiDeps

  constructor(deps: CcApiDeps) {
    this.#deps = deps
  }

  /** No token to send with until the owner acts (not connected, or a reconnect needed). */
  async waitsForOwner(): Promise<boolean> {
    const token = await this.#deps.accessToken()
    return !token.ok && token.code !== 'token_unavailable'
  }

  /**
   * One attempt: a token, the gates, the request; on a 401 one refresh and one more try.
   * `waitForRefresh: false` (a visitor's inline send): with no valid token, a refresh is started
   * and the attempt ends `no_token` (`token_refreshing`) instead of waiting for it.
   */
  async call(
    build: (accessToken: string) => Request,
    options: { waitForRefresh?: boolean } = {}
  ): Promise<ApiAttempt> {
    const wait = options.waitForRefresh
    const token = await this.#deps.accessToken({ wait })
    if (!token.ok) return { kind: 'no_token', code: token.code, message: token.message }
    const first = await this.#send(build(token.value.token), token.value.token)
    if (first.kind !== 'answered' || first.outcome.kind !== 'unauthorized') return first
    const renewed = await this.#deps.accessToken({ rejected: token.value.token, wait })
    if (!renewed.ok) return { kind: 'no_token', code: renewed.code, message: renewed.message }
    const second = await this.#send(build(renewed.value.token), renewed.value.token)
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
    const answer = await this.forOwner((token) => apiGetRequest(url, token))
    if (!answer.ok) return answer
    if (answer.outcome.kind === 'delivered') return { ok: true, value: answer.body }
    return { ok: false, code: 'unavailable', message: ownerRefusal(answer.outcome.status) }
  }

  /**
   * A request the owner waits for (a dashboard read, a new tag): a slot is waited for briefly;
   * CC's answer, whatever it is, is the caller's to read.
   */
  async forOwner(build: (accessToken: string) => Request): Promise<OwnerAnswer> {
    const { clock } = this.#deps
    for (let tries = 0; tries < 8; tries++) {
      const attempt = await this.call(build)
      if (attempt.kind === 'no_token')
        return { ok: false, code: attempt.code, message: attempt.message }
      if (attempt.kind === 'no_slot') {
        const wait = attempt.until - clock.now()
        if (wait > READ_WAIT_MS) break
        await clock.sleep(Math.max(wait, 50))
        continue
      }
      return { ok: true, outcome: attempt.outcome, body: attempt.body }
    }
    return { ok: false, code: 'unavailable', message: 'CC rate limit or quota in force' }
  }

  /** Until when sends are paused or parked (`now` when they are not). */
  async blockedUntil(now: number): Promise<number> {
    const blocks = await this.#deps.repo.blocks()
    return Math.max(blocks.pausedUntil ?? 0, blocks.parkedUntil ?? 0, now)
  }

  availableSlots(now: number): Promise<number> {
    return this.#deps.gate.available(now)
  }

  /** When a pacing slot is next free (an estimate while every slot waits for its answer). */
  nextSlotAt(now: number): Promise<number> {
    return this.#deps.gate.nextFreeAt(now)
  }

  async #send(request: Request, accessToken: string): Promise<ApiAttempt> {
    const { clock, gate } = this.#deps
    const now = clock.now()
    const blockedUntil = await this.blockedUntil(now)
    if (blockedUntil > now) return { kind: 'no_slot', until: blockedUntil }
    const taken = await gate.take(clock.now())
    if (!taken.ok) {
      if (taken.reason === 'quota') await this.#setBlocks({ parkedUntil: taken.until })
      return { kind: 'no_slot', until: taken.until }
    }
    let answer: Awaited<ReturnType<typeof exchange>>
    try {
      answer = await exchange(this.#deps.fetch, request, SEND_TIMEOUT_MS)
    } finally {
      await gate.release(taken.ticket, clock.now())
    }
    const after = clock.now()
    const { outcome, body } = processApiResponse(answer)
    if (outcome.kind === 'throttled')
      await this.#setBlocks({ pausedUntil: after + THROTTLE_PAUSE_MS })
    if (outcome.kind === 'quota_exceeded')
      await this.#setBlocks({ parkedUntil: nextUtcMidnight(after) })
    return { kind: 'answered', outcome, body, accessToken }
  }

  async #setBlocks(change: Partial<DeliveryBlocks>) {
    const blocks = await this.#deps.repo.blocks()
    await this.#deps.repo.setBlocks({ ...blocks, ...change })
  }
}
