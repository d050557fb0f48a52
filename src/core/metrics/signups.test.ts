import { describe, expect, it } from 'vitest'
import { refusedOriginKey } from '../origins/refusals.ts'
import type { ActivityEntry } from './metrics.ts'
import { fieldsReason, type SignupRow, signupRows, statusOf, statusText } from './signups.ts'

const T = Date.UTC(2030, 0, 1, 12)
const line = (
  outcome: ActivityEntry['outcome'],
  at: number,
  more: Partial<ActivityEntry> = {}
): ActivityEntry => ({
  at,
  form: 'f',
  outcome,
  email: 'a•••z@example.com',
  latencyMs: null,
  reason: null,
  signup: null,
  ...more,
})

describe('signupRows', () => {
  it('makes a queued sign-up’s lines one row, at its start, with its last outcome', () => {
    // Newest first, as the stores read them; item 7 was queued, retried, then delivered.
    const rows = signupRows([
      line('delivered', T + 30, { signup: 7, latencyMs: 30 }),
      line('honeypot', T + 20),
      line('retried', T + 10, { signup: 7, reason: '503 server_error' }),
      line('delivered', T + 5, { latencyMs: 2 }),
      line('accepted', T, { signup: 7 }),
    ])
    expect(rows).toEqual<SignupRow[]>([
      {
        at: T + 20,
        form: 'f',
        email: 'a•••z@example.com',
        outcome: 'honeypot',
        reason: null,
        latencyMs: null,
        updatedAt: T + 20,
      },
      {
        at: T + 5,
        form: 'f',
        email: 'a•••z@example.com',
        outcome: 'delivered',
        reason: null,
        latencyMs: 2,
        updatedAt: T + 5,
      },
      {
        at: T,
        form: 'f',
        email: 'a•••z@example.com',
        outcome: 'delivered',
        reason: null,
        latencyMs: 30,
        updatedAt: T + 30,
      },
    ])
    expect(statusText(rows[2])).toBe('Sent to Constant Contact')
  })

  it('keeps a sign-up waiting until its item’s final line comes', () => {
    const [row] = signupRows([
      line('retried', T + 10, { signup: 3, reason: '429 throttled' }),
      line('accepted', T, { signup: 3 }),
    ])
    expect(statusOf(row.outcome)).toBe('waiting')
    expect(statusText(row)).toBe('Waiting to send (tried: Constant Contact answered 429 throttled)')
  })

  it('leaves lines without an item (before links, refusals) a row each', () => {
    const rows = signupRows([line('delivered', T + 1), line('accepted', T)])
    expect(rows.map((r) => r.outcome)).toEqual(['delivered', 'accepted'])
  })
})

describe('statusText: a refusal says which field and which check', () => {
  const refused = (outcome: ActivityEntry['outcome'], reason: string | null) =>
    statusText({ outcome, reason })

  it('names each refused field and what was wrong with it', () => {
    expect(refused('invalid_input', fieldsReason({ email: 'emailInvalid' }))).toBe(
      'Refused: email — not an email address'
    )
    expect(
      refused('invalid_input', fieldsReason({ list: 'unknownList', first_name: 'tooLong' }))
    ).toBe('Refused: list — not one of this form’s lists; first_name — too long')
    expect(refused('invalid_input', null)).toBe('Refused: invalid input')
  })

  it('names the origin, the bot trap and the challenge', () => {
    expect(refused('origin_not_allowed', refusedOriginKey('https://x.example'))).toBe(
      'Refused: origin https://x.example is not allowed'
    )
    expect(refused('honeypot', null)).toBe('Refused: bot trap (honeypot)')
    expect(refused('challenge_failed', 'timeout-or-duplicate')).toBe(
      'Refused: challenge failed (timeout-or-duplicate)'
    )
    expect(refused('dead_lettered', '400 json.field.invalid')).toBe(
      'Failed: Constant Contact answered 400 json.field.invalid'
    )
  })

  it('keeps a field name a visitor chose plain and short, never a value', () => {
    const reason = fieldsReason({ 'custom.a b<script>': 'unknownField', x: 'notAllowed' })
    expect(reason).toBe('custom.a_b_script_:unknownField x:notAllowed')
    expect(fieldsReason({ ['y'.repeat(99)]: 'tooLong' })).toBe(`${'y'.repeat(40)}:tooLong`)
  })
})
