/**
 * @module core/cc/send-gate
 * What a request to Constant Contact's API must take before it leaves (cc/api.ts): a pacing slot
 * (pacer.ts) and one request of CC_DAILY_QUOTA for the UTC day.
 * On Workers the Durable Object is the only sender, so `MemorySendGate` keeps both in memory and
 * stores the count only after the answer: a write before the send would hold the fetch behind the
 * Durable Object's output gate. On Deno the check is shared in KV (adapters/deno/kv-limits.ts).
 */

import type { Config } from '../app/config.ts'
import { nextUtcMidnight, utcDay } from '../lib/utc-day.ts'
import type { OutboxRepo } from '../outbox/repo.ts'
import type { AfterAnswer } from '../relay/after-answer.ts'
import { Pacer, SLOT_REST_MS } from './pacer.ts'

/** One request's hold on a slot and on a request of `day`'s quota. */
export interface SendTicket {
  slot: number
  day: string
  /** Which holder took it (gates shared by several instances check it on release). */
  holder: string
}

export type Taken =
  | { ok: true; ticket: SendTicket }
  /** No slot before `until` (pace), or the day's quota is spent until midnight UTC (quota). */
  | { ok: false; reason: 'pace' | 'quota'; until: number }

export interface SendGate {
  /** Takes a slot and one request of today's quota, both or neither. */
  take(now: number): Promise<Taken>
  /** The request holding `ticket` was answered, failed or timed out at `at`. */
  release(ticket: SendTicket, at: number): Promise<void>
  /** How many slots are free at `now` (how many sends a drain may start together). */
  available(now: number): Promise<number>
  /** When a slot is next free: `now` if one is; an estimate while every slot awaits its answer. */
  nextFreeAt(now: number): Promise<number>
}

/** The quota verdict both gates apply: a send may take request number `used + 1` of the day. */
export function quotaRefusal(used: number, quota: number, now: number): Taken | null {
  return used >= quota ? { ok: false, reason: 'quota', until: nextUtcMidnight(now) } : null
}

export interface MemorySendGateDeps {
  repo: Pick<OutboxRepo, 'countRequest' | 'requestsOn'>
  config: () => Config
  /** Where the stored count is written: it is the answer's bookkeeping (after-answer.ts). */
  afterAnswer: AfterAnswer
}

/**
 * The gate of the one sender (the Durable Object). Exact because nothing else sends: the day's
 * count is read once per day and then kept here, counted when a send takes its slot, so two
 * sends in flight can never both take the last request of the quota; the stored count follows
 * each answer from CC, as bookkeeping (a crash mid-send undercounts by the sends in flight, and
 * CC's own quota_exceeded answer parks the outbox anyway).
 */
export class MemorySendGate implements SendGate {
  readonly #deps: MemorySendGateDeps
  #pacer: Pacer | null = null
  #today: { day: string; used: number } | null = null

  constructor(deps: MemorySendGateDeps) {
    this.#deps = deps
  }

  get #pace(): Pacer {
    this.#pacer ??= new Pacer(this.#deps.config().CC_RATE_PER_SECOND)
    return this.#pacer
  }

  async take(now: number): Promise<Taken> {
    const day = utcDay(now)
    if (this.#today?.day !== day) {
      const used = await this.#deps.repo.requestsOn(day)
      // Another take may have loaded the day meanwhile: keep its count, which may be ahead.
      if (this.#today?.day !== day) this.#today = { day, used }
    }
    // Synchronous from here: nothing interleaves between the checks and the takes.
    const today = this.#today as { day: string; used: number }
    const refused = quotaRefusal(today.used, this.#deps.config().CC_DAILY_QUOTA, now)
    if (refused) return refused
    const slot = this.#pace.take(now)
    if (slot === null) return { ok: false, reason: 'pace', until: await this.nextFreeAt(now) }
    today.used++
    return { ok: true, ticket: { slot, day, holder: 'memory' } }
  }

  async release(ticket: SendTicket, at: number): Promise<void> {
    this.#pace.release(ticket.slot, at)
    await this.#deps.afterAnswer.run(async () => {
      await this.#deps.repo.countRequest(ticket.day)
    })
  }

  async available(now: number): Promise<number> {
    return this.#pace.available(now)
  }

  async nextFreeAt(now: number): Promise<number> {
    return this.#pace.nextFreeAt(now) ?? now + SLOT_REST_MS
  }
}
