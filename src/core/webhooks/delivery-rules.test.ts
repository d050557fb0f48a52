import { describe, expect, it } from 'vitest'
import { DISABLE_AFTER_MS, healthAfter, planAfter, RETRY_DELAYS_MS } from './delivery-rules.ts'

describe('planAfter', () => {
  it('retries at 5 s, 30 s, 5 min, 30 min, 2 h, 5 h and 10 h, then fails', () => {
    const waits = RETRY_DELAYS_MS.map((_, i) => planAfter(i + 1, false, 0).nextRetryAt)
    expect(waits).toEqual([5, 30, 300, 1800, 7200, 18_000, 36_000].map((s) => s * 1000))
    expect(planAfter(8, false, 0)).toEqual({ outcome: 'failed', nextRetryAt: null })
  })

  it('a success ends it, at any attempt', () => {
    expect(planAfter(3, true, 0)).toEqual({ outcome: 'delivered', nextRetryAt: null })
  })
})

describe('healthAfter', () => {
  const fresh = { failingSince: null, disabledAt: null }

  it('a failure starts the run; one 24 h after its start disables, once', () => {
    const first = healthAfter(fresh, false, 1000)
    expect(first).toEqual({ failingSince: 1000, disabledAt: null, newlyDisabled: false })
    const before = healthAfter(first, false, 1000 + DISABLE_AFTER_MS - 1)
    expect(before.disabledAt).toBe(null)
    const at = 1000 + DISABLE_AFTER_MS
    const off = healthAfter(before, false, at)
    expect(off).toEqual({ failingSince: 1000, disabledAt: at, newlyDisabled: true })
    expect(healthAfter(off, false, at + 1).newlyDisabled).toBe(false)
  })

  it('a success ends the run', () => {
    const failing = healthAfter(fresh, false, 0)
    expect(healthAfter(failing, true, DISABLE_AFTER_MS * 2).failingSince).toBe(null)
  })
})
