/**
 * The limits several Deno instances share through KV (src/adapters/deno/kv-limits.ts), with two KV
 * handles on one file racing each other as two processes would: the send gate (the pacing to CC
 * and the daily quota) and the per-client limit.
 */
import assert from 'node:assert/strict'
import { KvClientLimiter, KvSendGate, SLOT_LEASE_MS } from '../../src/adapters/deno/kv-limits.ts'
import { configFrom } from '../../src/core/app/config.ts'
import { SLOT_REST_MS } from '../../src/core/cc/pacer.ts'
import type { SendTicket } from '../../src/core/cc/send-gate.ts'
import { ENV, withTwoHandles } from '../support/deno-relay.ts'

const config = (over: Record<string, string>) => {
  const env = { ...ENV, ...over }
  return () => configFrom(env)
}
const T = Date.UTC(2031, 0, 6, 9)

Deno.test('kv gate: CC_RATE_PER_SECOND slots between two handles, each resting after its answer', () =>
  withTwoHandles(async (kvA, kvB) => {
    const settings = config({ CC_RATE_PER_SECOND: '4' })
    const a = new KvSendGate(kvA, settings)
    const b = new KvSendGate(kvB, settings)
    const takes = await Promise.all(Array.from({ length: 12 }, (_, i) => (i % 2 ? a : b).take(T)))
    const tickets = takes.flatMap((t) => (t.ok ? [t.ticket] : []))
    assert.equal(tickets.length, 4)
    assert.deepEqual(tickets.map((t) => t.slot).sort(), [0, 1, 2, 3])
    assert.equal(await b.available(T), 0)
    // Answered at T + 300: each slot rests a second from its own answer, not from the send.
    for (const ticket of tickets) await (ticket.slot % 2 ? a : b).release(ticket, T + 300)
    assert.equal(await a.available(T + 300 + SLOT_REST_MS - 1), 0)
    assert.equal(await a.nextFreeAt(T + 301), T + 300 + SLOT_REST_MS)
    const refused = await b.take(T + 301)
    assert.deepEqual(refused, { ok: false, reason: 'pace', until: T + 300 + SLOT_REST_MS })
    assert.equal(await a.available(T + 300 + SLOT_REST_MS), 4)
  }))

Deno.test('kv gate: a holder that dies keeps its slot until the lease lapses', () =>
  withTwoHandles(async (kvA, kvB) => {
    const settings = config({ CC_RATE_PER_SECOND: '1' })
    const dead = new KvSendGate(kvA, settings)
    const alive = new KvSendGate(kvB, settings)
    const taken = await dead.take(T)
    assert.ok(taken.ok) // …and its instance never answers
    assert.equal((await alive.take(T + SLOT_LEASE_MS - 1)).ok, false)
    const after = await alive.take(T + SLOT_LEASE_MS)
    assert.ok(after.ok)
    // The dead holder's late release does not free the slot its successor holds.
    await dead.release((taken as { ticket: SendTicket }).ticket, T + SLOT_LEASE_MS + 1)
    assert.equal(await alive.available(T + SLOT_LEASE_MS + 5_000), 0)
  }))

Deno.test('kv gate: the daily quota is one count for every handle, taken with the slot', () =>
  withTwoHandles(async (kvA, kvB) => {
    const settings = config({ CC_RATE_PER_SECOND: '10', CC_DAILY_QUOTA: '5' })
    const a = new KvSendGate(kvA, settings)
    const b = new KvSendGate(kvB, settings)
    const takes = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).take(T)))
    assert.equal(takes.filter((t) => t.ok).length, 5)
    const midnight = Date.UTC(2031, 0, 7)
    assert.ok(takes.some((t) => !t.ok && t.reason === 'quota' && t.until === midnight))
    // Counted once taken, whatever became of the send.
    assert.equal(
      Number(
        (await kvA.get<Deno.KvU64>(['daily_stats', '2031-01-06', 'cc_requests'])).value?.value
      ),
      5
    )
    // A new UTC day, a new count.
    assert.equal((await b.take(midnight)).ok, true)
  }))

Deno.test('kv limiter: one budget per network, whichever handle counts the hit', () =>
  withTwoHandles(async (kvA, kvB) => {
    const a = new KvClientLimiter(kvA)
    const b = new KvClientLimiter(kvB)
    const hits = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? a : b).hit('net-1', T, 10))
    )
    assert.equal(hits.filter((h) => h === 0).length, 10)
    assert.ok(hits.filter((h) => h > 0).every((h) => h === 6))
    assert.equal(await a.hit('net-2', T, 10), 0) // another network is unaffected
    assert.equal(await b.hit('net-1', T + 6_000, 10), 0) // one more every 6 s
  }))
