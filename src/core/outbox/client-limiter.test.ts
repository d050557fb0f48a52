import { describe, expect, it } from 'vitest'
import { admitHit, MAX_NETWORKS, MemoryClientLimiter } from './client-limiter.ts'

const T = 1_000_000

describe('admitHit (the budget rule)', () => {
  it('allows a burst of N, then one every 60/N seconds', () => {
    let fullAt: number | null = null
    for (let i = 0; i < 10; i++) {
      const verdict = admitHit(fullAt, T, 10)
      expect(verdict.allowed).toBe(true)
      if (verdict.allowed) fullAt = verdict.fullAt
    }
    expect(admitHit(fullAt, T, 10)).toEqual({ allowed: false, retryAfter: 6 })
    expect(admitHit(fullAt, T + 5_999, 10)).toEqual({ allowed: false, retryAfter: 1 })
    expect(admitHit(fullAt, T + 6_000, 10).allowed).toBe(true)
  })

  it('a budget whose time has passed is full again', () => {
    expect(admitHit(T - 1, T, 1)).toEqual({ allowed: true, fullAt: T + 60_000 })
    expect(admitHit(T + 60_000, T, 1)).toEqual({ allowed: false, retryAfter: 60 })
  })
})

describe('MemoryClientLimiter', () => {
  it('limits each key on its own', async () => {
    const limiter = new MemoryClientLimiter()
    for (let i = 0; i < 3; i++) expect(await limiter.hit('a', T, 3)).toBe(0)
    expect(await limiter.hit('a', T, 3)).toBe(20)
    expect(await limiter.hit('b', T, 3)).toBe(0)
  })

  it('forgets expired budgets as it goes, so a quiet limiter holds little', async () => {
    const limiter = new MemoryClientLimiter()
    for (let i = 0; i < 1000; i++) await limiter.hit(`k${i}`, T, 10)
    expect(limiter.size).toBe(1000)
    // Six seconds later every one-hit budget is full again: the next hit sweeps them out.
    await limiter.hit('late', T + 6_000, 10)
    expect(limiter.size).toBe(1)
  })

  it('past its bound, forgets the network quiet longest, one at a time, never everyone', async () => {
    const limiter = new MemoryClientLimiter()
    // The attacker's network spends its whole budget first…
    for (let i = 0; i < 10; i++) await limiter.hit('attacker', T, 10)
    // …then a crowd of other networks fills the limiter within the same second.
    for (let i = 0; i < MAX_NETWORKS; i++) await limiter.hit(`crowd${i}`, T + 1, 10)
    expect(limiter.size).toBe(MAX_NETWORKS)
    // Only the stalest key went (the attacker's: a fresh budget); the crowd keeps theirs.
    expect(await limiter.hit('crowd0', T + 1, 1)).toBeGreaterThan(0)
    expect(await limiter.hit(`crowd${MAX_NETWORKS - 1}`, T + 1, 1)).toBeGreaterThan(0)
    expect(await limiter.hit('attacker', T + 1, 10)).toBe(0)
  })
})
