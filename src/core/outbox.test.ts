import { describe, expect, it } from 'vitest'
import { parksForOwner, payloadDigest, retryPlan } from './outbox.ts'

const T = Date.UTC(2031, 0, 6, 9)

describe('payloadDigest', () => {
  it('is the same for the same sign-up, and differs when a field does', async () => {
    const a = await payloadDigest({
      email_address: 'a@example.com',
      first_name: 'A',
      list_memberships: ['l1', 'l2'],
      street_address: { kind: 'home', city: 'X' },
    })
    const again = await payloadDigest({
      email_address: 'a@example.com',
      first_name: 'A',
      list_memberships: ['l1', 'l2'],
      street_address: { kind: 'home', city: 'X' },
    })
    expect(again).toBe(a)
    const renamed = await payloadDigest({
      email_address: 'a@example.com',
      first_name: 'B',
      list_memberships: ['l1', 'l2'],
      street_address: { kind: 'home', city: 'X' },
    })
    expect(renamed).not.toBe(a)
    expect(a).toMatch(/^[0-9a-f]{24}$/)
  })
})

describe('retryPlan and parking', () => {
  it('a 403 parks the item for the owner, due as soon as they act, with no attempt burned', () => {
    const forbidden = {
      kind: 'forbidden',
      status: 403,
      errorKey: 'forbidden',
      message: 'no',
    } as const
    expect(retryPlan(forbidden, 2, T)).toEqual({
      attempts: 2,
      nextAttemptAt: T,
      error: { status: 403, errorKey: 'forbidden', message: 'no', at: T },
    })
    expect(parksForOwner(forbidden)).toBe(true)
    expect(parksForOwner({ kind: 'no_token', code: 'needs_reauth' })).toBe(true)
    expect(parksForOwner({ kind: 'no_token', code: 'token_unavailable' })).toBe(false)
    expect(parksForOwner({ kind: 'throttled', status: 429 })).toBe(false)
  })
})
