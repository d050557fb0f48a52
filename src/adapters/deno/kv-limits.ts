/**
 * @module adapters/deno/kv-limits
 * The limits that all Deno instances sharing one KV enforce together, as atomic KV commits: the
 * pacing to Constant Contact with the daily quota (`KvSendGate`) and the per-client sign-up limit
 * (`KvClientLimiter`). On Workers the one Durable Object keeps both in memory; here each
 * instance's memory would multiply them. Keys and reasoning: docs/deno.md.
 */

import type { Config } from '../../core/app/config.ts'
import { SEND_TIMEOUT_MS } from '../../core/cc/api.ts'
import { SLOT_REST_MS } from '../../core/cc/pacer.ts'
import {
  quotaRefusal,
  type SendGate,
  type SendTicket,
  type Taken,
} from '../../core/cc/send-gate.ts'
import { utcDay } from '../../core/lib/utc-day.ts'
import { admitHit, type ClientLimiter } from '../../core/outbox/client-limiter.ts'
import { requestCountKey } from './kv/keys.ts'
import { CONFLICT, expiresIn, transact } from './kv/transact.ts'

interface Slot {
  /** The ticket holding it, or null once its answer came. */
  holder: string | null
  /** Held: the lease's end. Resting: when it may be taken again. */
  until: number
}

const slotKey = (n: number): Deno.KvKey => ['send_slot', n]

/**
 * How long a taken slot stays held if its holder never releases it (the instance died): the send
 * is aborted at SEND_TIMEOUT_MS, and the slot then rests as after any answer, plus a margin for
 * the moments between the take and the fetch. Only then may another instance reuse it, so even a
 * request a dead instance left in flight counts against its second at CC.
 */
export const SLOT_LEASE_MS = SEND_TIMEOUT_MS + SLOT_REST_MS + 2_000

/**
 * The send gate shared through KV. A take reads every slot and the day's count and commits the
 * slot's lease and the count + 1 together, checked against both: of two instances racing for one
 * slot, or for the last request of the quota, one commit wins and the other reads again. Slot
 * times come from each instance's clock, so instances must agree on the time (Deno Deploy's are
 * synchronised): the spacing at CC is as good as their agreement.
 */
export class KvSendGate implements SendGate {
  readonly #kv: Deno.Kv
  readonly #config: () => Config

  constructor(kv: Deno.Kv, config: () => Config) {
    this.#kv = kv
    this.#config = config
  }

  /** Every slot in use (entries for slots never taken are absent: free). */
  async #slots(): Promise<Map<number, Deno.KvEntry<Slot>>> {
    const slots = new Map<number, Deno.KvEntry<Slot>>()
    const perSecond = this.#config().CC_RATE_PER_SECOND
    for await (const entry of this.#kv.list<Slot>({ prefix: ['send_slot'] })) {
      const n = entry.key[1] as number
      if (n < perSecond) slots.set(n, entry)
    }
    return slots
  }

  /** When slot `n` is free: now if it is; while held, a second from now at the earliest. */
  #freeAt(slot: Slot | undefined, now: number): number {
    if (!slot || slot.until <= now) return now
    return slot.holder === null ? slot.until : now + SLOT_REST_MS
  }

  take(now: number): Promise<Taken> {
    const { CC_RATE_PER_SECOND: perSecond, CC_DAILY_QUOTA: quota } = this.#config()
    const day = utcDay(now)
    return transact(async () => {
      const slots = await this.#slots()
      const count = await this.#kv.get<Deno.KvU64>(requestCountKey(day))
      const used = Number(count.value?.value ?? 0n)
      const refused = quotaRefusal(used, quota, now)
      if (refused) return refused
      let free = -1
      let until = Number.POSITIVE_INFINITY
      for (let n = 0; n < perSecond && free === -1; n++) {
        const at = this.#freeAt(slots.get(n)?.value, now)
        if (at <= now) free = n
        until = Math.min(until, at)
      }
      if (free === -1) return { ok: false, reason: 'pace', until }
      const holder = crypto.randomUUID()
      const current = slots.get(free) ?? { key: slotKey(free), versionstamp: null }
      const committed = await this.#kv
        .atomic()
        .check(current, count)
        .set(slotKey(free), { holder, until: now + SLOT_LEASE_MS } satisfies Slot)
        .set(requestCountKey(day), new Deno.KvU64(BigInt(used + 1)))
        .commit()
      return committed.ok ? { ok: true, ticket: { slot: free, day, holder } } : CONFLICT
    })
  }

  /** Rests the slot from the answer on, unless its lease lapsed and another holder has it. */
  release(ticket: SendTicket, at: number): Promise<void> {
    const key = slotKey(ticket.slot)
    return transact(async () => {
      const entry = await this.#kv.get<Slot>(key)
      if (entry.value?.holder !== ticket.holder) return undefined
      const rest: Slot = { holder: null, until: at + SLOT_REST_MS }
      const committed = await this.#kv.atomic().check(entry).set(key, rest).commit()
      return committed.ok ? undefined : CONFLICT
    })
  }

  async available(now: number): Promise<number> {
    const slots = await this.#slots()
    let free = 0
    for (let n = 0; n < this.#config().CC_RATE_PER_SECOND; n++)
      if (this.#freeAt(slots.get(n)?.value, now) <= now) free++
    return free
  }

  async nextFreeAt(now: number): Promise<number> {
    const slots = await this.#slots()
    let at = Number.POSITIVE_INFINITY
    for (let n = 0; n < this.#config().CC_RATE_PER_SECOND; n++)
      at = Math.min(at, this.#freeAt(slots.get(n)?.value, now))
    return at
  }
}

const budgetKey = (key: string): Deno.KvKey => ['client_limit', key]

/**
 * The per-client limit shared through KV: one entry per network, checked and set atomically, so
 * that a network's budget is the same whichever instance its requests reach. An entry expires
 * when its budget is full again, so the keys of quiet networks go by themselves.
 */
export class KvClientLimiter implements ClientLimiter {
  readonly #kv: Deno.Kv

  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  hit(key: string, now: number, perMinute: number): Promise<number> {
    return transact(async () => {
      const entry = await this.#kv.get<number>(budgetKey(key))
      const verdict = admitHit(entry.value, now, perMinute)
      if (!verdict.allowed) return verdict.retryAfter
      const committed = await this.#kv
        .atomic()
        .check(entry)
        // fullAt is fractional whenever the per-minute limit does not divide 60,000 ms.
        .set(budgetKey(key), verdict.fullAt, expiresIn(verdict.fullAt - now))
        .commit()
      return committed.ok ? 0 : CONFLICT
    })
  }
}
