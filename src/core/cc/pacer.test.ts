import { describe, expect, it } from 'vitest'
import { maxPerSecond } from '../../../test/support/arrivals.ts'
import { Pacer, SLOT_REST_MS } from './pacer.ts'

/** A small deterministic generator (mulberry32), so a failure can be replayed from its seed. */
function random(seed: number) {
  let a = seed
  return () => {
    a = (a + 0x6d2b79f5) | 0
    let t = Math.imul(a ^ (a >>> 15), 1 | a)
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

describe('Pacer', () => {
  it('hands out perSecond slots, then none until a released slot has rested a second', () => {
    const pacer = new Pacer(4)
    const slots = [0, 1, 2, 3].map(() => pacer.take(0))
    expect(slots).toEqual([0, 1, 2, 3])
    expect(pacer.take(0)).toBeNull()
    expect(pacer.nextFreeAt(0)).toBeNull() // every slot waits for its answer
    pacer.release(2, 30)
    expect(pacer.nextFreeAt(40)).toBe(30 + SLOT_REST_MS)
    expect(pacer.take(30 + SLOT_REST_MS - 1)).toBeNull()
    expect(pacer.take(30 + SLOT_REST_MS)).toBe(2)
  })

  it('a slow answer keeps its slot: the rest starts at the answer, not at the send', () => {
    const pacer = new Pacer(1)
    expect(pacer.take(0)).toBe(0)
    // Answered after 9 s (a slow CC): the slot is busy all that time and rests 1 s after.
    expect(pacer.take(5000)).toBeNull()
    pacer.release(0, 9000)
    expect(pacer.take(9999)).toBeNull()
    expect(pacer.take(10_000)).toBe(0)
  })

  it.each([1, 2, 3, 4, 5, 6, 7, 8])(
    'never lets more than 4 requests arrive in any second, whatever the delays (seed %i)',
    (seed) => {
      const rand = random(seed)
      const pacer = new Pacer(4)
      const arrivals: number[] = []
      // Requests in flight: the slot they hold, and when their answer comes back.
      let inFlight: { slot: number; answerAt: number }[] = []
      let now = 0
      for (let step = 0; step < 12_000; step++) {
        now += Math.floor(rand() * 120)
        for (const r of inFlight.filter((r) => r.answerAt <= now)) pacer.release(r.slot, r.answerAt)
        inFlight = inFlight.filter((r) => r.answerAt > now)
        const slot = pacer.take(now)
        if (slot === null) continue
        // Our side runs late by up to 1.5 s between taking the slot and the request leaving;
        // the network takes up to 0.8 s each way; CC takes up to 0.4 s to answer.
        const sentAt = now + rand() * 1500
        const arrivedAt = sentAt + rand() * 800
        const answerAt = arrivedAt + rand() * 400 + rand() * 800
        arrivals.push(arrivedAt)
        inFlight.push({ slot, answerAt })
      }
      expect(arrivals.length).toBeGreaterThan(1000)
      expect(maxPerSecond(arrivals)).toBeLessThanOrEqual(4)
    }
  )

  it('with prompt answers it sustains nearly the full rate', () => {
    const pacer = new Pacer(4)
    let sent = 0
    // 20 ms answers, a check every 10 ms for 60 s.
    const pending: { slot: number; answerAt: number }[] = []
    for (let now = 0; now < 60_000; now += 10) {
      for (let i = pending.length - 1; i >= 0; i--) {
        if (pending[i].answerAt <= now) {
          pacer.release(pending[i].slot, pending[i].answerAt)
          pending.splice(i, 1)
        }
      }
      for (let slot = pacer.take(now); slot !== null; slot = pacer.take(now)) {
        pending.push({ slot, answerAt: now + 20 })
        sent++
      }
    }
    expect(sent / 60).toBeGreaterThanOrEqual(0.9 * 4)
  })
})
