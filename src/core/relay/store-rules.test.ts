import { describe, expect, it } from 'vitest'
import type { Alert } from '../alerts/alert-webhook.ts'
import { payloadDigest } from '../outbox/repeats.ts'
import type { DeliveryError } from '../outbox/repo.ts'
import { parksForOwner, retryPlan } from '../outbox/retry-plan.ts'
import {
  ALERT_WINDOW_MS,
  backlogAlarm,
  canMergeInto,
  claimVerdict,
  coalesce,
  countChange,
  dueAt,
  inlineDeadRecord,
  isDue,
  isRecent,
  killed,
  mergedInto,
  newAlertRecord,
  type OutboxRecord,
  queuedRecord,
  releaseHeld,
  rescheduled,
  revived,
  STATE_RETENTION_MS,
  type StoredState,
  stateRetentionCutoff,
  toDeadLetter,
  toOutboxItem,
} from './store-rules.ts'

const T = Date.UTC(2030, 0, 1, 12)
const ERROR: DeliveryError = { status: 400, errorKey: 'bad', message: 'no', at: T }

const state = (over: Partial<StoredState> = {}): StoredState => ({
  redirectUri: 'https://relay.test/oauth/callback',
  codeVerifier: 'v',
  expiresAt: T + 600_000,
  usedAt: null,
  ...over,
})

const record = (over: Partial<OutboxRecord> = {}): OutboxRecord => ({
  id: 7,
  formId: 'f',
  emailHash: 'h',
  payload: { email_address: 'a@example.com', list_memberships: ['l1'] },
  status: 'pending',
  attempts: 2,
  createdAt: T - 1_000,
  nextAttemptAt: T,
  leaseUntil: null,
  lastError: null,
  deadAt: null,
  ...over,
})

describe('claimVerdict', () => {
  it('checks unknown, then used, then expired, then ok', () => {
    expect(claimVerdict('s', null, T)).toEqual({ result: { status: 'unknown' }, markUsed: false })
    // Used wins over expired: a replay of a spent state says so whatever its age.
    expect(claimVerdict('s', state({ usedAt: T, expiresAt: T - 1 }), T)).toEqual({
      result: { status: 'used' },
      markUsed: false,
    })
    expect(claimVerdict('s', state({ expiresAt: T }), T)).toEqual({
      result: { status: 'expired' },
      markUsed: true,
    })
    expect(claimVerdict('s', state(), T)).toEqual({
      result: {
        status: 'ok',
        pending: {
          state: 's',
          redirectUri: 'https://relay.test/oauth/callback',
          codeVerifier: 'v',
          expiresAt: T + 600_000,
        },
      },
      markUsed: true,
    })
  })
})

it('stateRetentionCutoff: a day before the new state expires', () => {
  expect(STATE_RETENTION_MS).toBe(86_400_000)
  expect(stateRetentionCutoff(T)).toBe(T - 86_400_000)
})

describe('new records', () => {
  it('queuedRecord: pending, unleased, as given', () => {
    const payload = { email_address: 'a@example.com', list_memberships: ['l1'] }
    const item = { formId: 'f', emailHash: 'h', payload, attempts: 1, nextAttemptAt: T + 5, now: T }
    expect(queuedRecord(item)).toEqual({
      formId: 'f',
      emailHash: 'h',
      payload,
      status: 'pending',
      attempts: 1,
      createdAt: T,
      nextAttemptAt: T + 5,
      leaseUntil: null,
      lastError: null,
      deadAt: null,
    })
  })

  it('inlineDeadRecord: dead at once, one attempt spent, no hash when none was given', () => {
    const payload = { email_address: 'a@example.com', list_memberships: ['l1'] }
    expect(inlineDeadRecord({ formId: 'f', payload }, ERROR, T)).toEqual({
      formId: 'f',
      emailHash: '',
      payload,
      status: 'dead',
      attempts: 1,
      createdAt: T,
      nextAttemptAt: T,
      leaseUntil: null,
      lastError: ERROR,
      deadAt: T,
    })
  })
})

describe('merging', () => {
  it('canMergeInto: a pending item that holds no lease, even a lapsed one', () => {
    expect(canMergeInto(record())).toBe(true)
    expect(canMergeInto(record({ leaseUntil: T + 90_000 }))).toBe(false)
    expect(canMergeInto(record({ leaseUntil: 1 }))).toBe(false)
    expect(canMergeInto(record({ status: 'dead', deadAt: T }))).toBe(false)
  })

  it('mergedInto: payloads merged, the earlier due time, the rest of the item kept', () => {
    const older = record({ nextAttemptAt: T + 500 })
    const merged = mergedInto(older, {
      formId: 'f',
      emailHash: 'h',
      payload: { email_address: 'a@example.com', list_memberships: ['l2'], first_name: 'A' },
      attempts: 0,
      nextAttemptAt: T + 200,
      now: T + 100,
    })
    expect(merged).toEqual({
      ...older,
      payload: { email_address: 'a@example.com', list_memberships: ['l1', 'l2'], first_name: 'A' },
      nextAttemptAt: T + 200,
    })
    expect(mergedInto(record({ nextAttemptAt: T }), { ...merged, now: T }).nextAttemptAt).toBe(T)
  })

  it('mergedInto: both sign-ups’ tags, once each; none at all leaves no tags key', () => {
    const newer = { formId: 'f', emailHash: 'h', payload: record().payload, attempts: 0, now: T }
    const merged = mergedInto(record({ tags: ['t1', 't2'] }), {
      ...newer,
      nextAttemptAt: T,
      tags: ['t2', 't3'],
    })
    expect(merged.tags).toEqual(['t1', 't2', 't3'])
    expect(mergedInto(record(), { ...newer, nextAttemptAt: T, tags: ['t3'] }).tags).toEqual(['t3'])
    expect('tags' in mergedInto(record(), { ...newer, nextAttemptAt: T })).toBe(false)
    expect('tags' in queuedRecord({ ...newer, nextAttemptAt: T, tags: [] })).toBe(false)
  })
})

describe('due', () => {
  it('dueAt: the later of the retry time and the lease end', () => {
    expect(dueAt(record())).toBe(T)
    expect(dueAt(record({ leaseUntil: T + 50 }))).toBe(T + 50)
    expect(dueAt(record({ nextAttemptAt: T + 90, leaseUntil: T + 50 }))).toBe(T + 90)
  })

  it('isDue: pending and dueAt reached (inclusive); a dead letter never is', () => {
    expect(isDue(record(), T)).toBe(true)
    expect(isDue(record(), T - 1)).toBe(false)
    expect(isDue(record({ leaseUntil: T + 50 }), T + 49)).toBe(false)
    expect(isDue(record({ leaseUntil: T + 50 }), T + 50)).toBe(true)
    expect(isDue(record({ status: 'dead', deadAt: T }), T + 1_000)).toBe(false)
  })
})

describe('transitions', () => {
  it('rescheduled: ends the lease; a null error keeps the last one', () => {
    const leased = record({ leaseUntil: T + 90_000, lastError: ERROR })
    expect(rescheduled(leased, T + 5, 3, null)).toEqual({
      ...leased,
      leaseUntil: null,
      nextAttemptAt: T + 5,
      attempts: 3,
    })
    const newer = { ...ERROR, status: 503, errorKey: 'unavailable' }
    expect(rescheduled(leased, T + 5, 3, newer).lastError).toEqual(newer)
  })

  it('killed: dead now, lease ended, with the error; the refusal counts as an attempt', () => {
    const leased = record({ leaseUntil: T + 90_000 })
    expect(killed(leased, ERROR, T + 1)).toEqual({
      ...leased,
      status: 'dead',
      attempts: 3,
      leaseUntil: null,
      deadAt: T + 1,
      lastError: ERROR,
    })
  })

  it('revived: a dead letter only, due now with no attempts; its last error stays', () => {
    const dead = killed(record({ attempts: 9 }), ERROR, T)
    expect(revived(dead, T + 10)).toEqual({
      ...dead,
      status: 'pending',
      deadAt: null,
      attempts: 0,
      nextAttemptAt: T + 10,
    })
    expect(revived(record(), T + 10)).toBeNull()
  })
})

describe('views', () => {
  it('toOutboxItem: what a sender needs', () => {
    expect(toOutboxItem(record())).toEqual({
      id: 7,
      formId: 'f',
      payload: { email_address: 'a@example.com', list_memberships: ['l1'] },
      attempts: 2,
      createdAt: T - 1_000,
    })
  })

  it('toDeadLetter: the address from the payload, the death time (else acceptance)', () => {
    expect(toDeadLetter(killed(record(), ERROR, T))).toEqual({
      id: 7,
      formId: 'f',
      email: 'a@example.com',
      createdAt: T - 1_000,
      deadAt: T,
      error: ERROR,
      attempts: 3,
      lists: ['l1'],
    })
    expect(toDeadLetter(record({ status: 'dead' })).deadAt).toBe(T - 1_000)
  })
})

it('isRecent: seen within the window, the far end excluded', () => {
  expect(isRecent(T, T, 600_000)).toBe(true)
  expect(isRecent(T, T + 599_999, 600_000)).toBe(true)
  expect(isRecent(T, T + 600_000, 600_000)).toBe(false)
})

describe('running counts', () => {
  it('countChange: what a write does to the pending and dead counts', () => {
    const pending = { status: 'pending' as const }
    const dead = { status: 'dead' as const }
    expect(countChange(null, pending)).toEqual({ pending: 1, dead: 0 })
    expect(countChange(pending, pending)).toEqual({ pending: 0, dead: 0 })
    expect(countChange(pending, dead)).toEqual({ pending: -1, dead: 1 })
    expect(countChange(dead, pending)).toEqual({ pending: 1, dead: -1 })
    expect(countChange(pending, null)).toEqual({ pending: -1, dead: 0 })
    expect(countChange(dead, null)).toEqual({ pending: 0, dead: -1 })
    expect(countChange(null, null)).toEqual({ pending: 0, dead: 0 })
  })

  it('backlogAlarm: 50 % and 90 % once each (a jump past both: once, at 90), re-armed below 25 %', () => {
    expect(backlogAlarm(0, 499, 1000)).toEqual({ level: 0, crossed: null, recovered: false })
    expect(backlogAlarm(0, 500, 1000)).toEqual({ level: 50, crossed: 50, recovered: false })
    expect(backlogAlarm(50, 899, 1000)).toEqual({ level: 50, crossed: null, recovered: false })
    expect(backlogAlarm(50, 900, 1000)).toEqual({ level: 90, crossed: 90, recovered: false })
    expect(backlogAlarm(90, 1000, 1000)).toEqual({ level: 90, crossed: null, recovered: false })
    expect(backlogAlarm(90, 250, 1000)).toEqual({ level: 90, crossed: null, recovered: false })
    expect(backlogAlarm(90, 249, 1000)).toEqual({ level: 0, crossed: null, recovered: true })
    expect(backlogAlarm(0, 950, 1000)).toEqual({ level: 90, crossed: 90, recovered: false })
  })
})

describe('alert coalescing', () => {
  const alert = (n: number): Alert => ({ event: 'dead_letter', state: 'dead_letter', at: `t${n}` })

  it('coalesce: the first of a kind goes; the next within the window is held, then counted', () => {
    let r = newAlertRecord('dead_letter')
    let out = coalesce(r, alert(1), T)
    expect(out.send).toEqual(alert(1))
    r = out.record
    out = coalesce(r, alert(2), T + ALERT_WINDOW_MS - 1)
    expect(out.send).toBeNull()
    expect(out.record).toMatchObject({ held: 1, heldTotal: 1, latest: alert(2), lastSentAt: T })
    out = coalesce(out.record, alert(3), T + ALERT_WINDOW_MS)
    expect(out.send).toEqual({ ...alert(3), suppressed: 1 })
    expect(out.record).toMatchObject({ held: 0, latest: null, lastSentAt: T + ALERT_WINDOW_MS })
  })

  it('releaseHeld: the latest held goes once the window is over, counting the others', () => {
    let r = coalesce(newAlertRecord('dead_letter'), alert(1), T).record
    expect(releaseHeld(r, T + ALERT_WINDOW_MS)).toBeNull() // nothing held
    r = coalesce(r, alert(2), T + 1).record
    expect(releaseHeld(r, T + ALERT_WINDOW_MS)).toEqual({
      record: { ...r, held: 0, latest: null, lastSentAt: T + ALERT_WINDOW_MS },
      send: alert(2),
    })
    r = coalesce(r, alert(3), T + 2).record
    expect(releaseHeld(r, T + ALERT_WINDOW_MS - 1)).toBeNull()
    expect(releaseHeld(r, T + ALERT_WINDOW_MS)?.send).toEqual({ ...alert(3), suppressed: 1 })
  })
})

// The outbox policy these rules store (retry-plan.ts).
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

  it('a refresh under way: due at once (the drain waits for it), not parked, no attempt burned', () => {
    const refreshing = { kind: 'no_token', code: 'token_refreshing' } as const
    expect(retryPlan(refreshing, 1, T)).toEqual({ attempts: 1, nextAttemptAt: T, error: null })
    expect(parksForOwner(refreshing)).toBe(false)
  })
})
