import { describe, expect, it } from 'vitest'
import { lockedFor, SIGN_IN_FAILURES, SIGN_IN_WINDOW_MS, withFailure } from './sign-in-rules.ts'

const T = Date.UTC(2031, 0, 6, 9)

/** `n` failures, one a second, the last at `last`. */
const failures = (n: number, last = T) =>
  Array.from({ length: n }, (_, i) => last - (n - 1 - i) * 1000)

describe('the sign-in throttle', () => {
  it('allows up to the limit of failures, then locks the client out', () => {
    expect(lockedFor([], T)).toBe(0)
    expect(lockedFor(failures(SIGN_IN_FAILURES - 1), T)).toBe(0)
    expect(lockedFor(failures(SIGN_IN_FAILURES), T)).toBe(SIGN_IN_WINDOW_MS / 1000 - 9)
  })

  it('is a sliding window: the lockout ends when the oldest counted failure leaves it', () => {
    const ten = failures(SIGN_IN_FAILURES)
    const oldest = ten[0]
    expect(lockedFor(ten, oldest + SIGN_IN_WINDOW_MS - 1)).toBe(1)
    expect(lockedFor(ten, oldest + SIGN_IN_WINDOW_MS)).toBe(0)
    // Still nine inside the window: one more failure locks again at once.
    const next = oldest + SIGN_IN_WINDOW_MS
    expect(lockedFor(withFailure(ten, next), next)).toBe(1)
  })

  it('stores only failures inside the window, and never more than the limit', () => {
    expect(withFailure([T - SIGN_IN_WINDOW_MS, T - 1000], T)).toEqual([T - 1000, T])
    const many = withFailure(failures(SIGN_IN_FAILURES), T + 1)
    expect(many).toHaveLength(SIGN_IN_FAILURES)
    expect(many.at(-1)).toBe(T + 1)
  })
})
