/**
 * The storage contract (`Stores`, src/core/relay/stores.ts, and each domain's repo.ts), written
 * once and run against both adapters: SQLite inside the Durable Object
 * (test/workers/storage-contract.test.ts, in workerd) and Deno KV
 * (test/deno/storage-contract.test.ts). It asserts through the repos' methods only, plus a dump
 * of everything stored for "nothing is left" checks, so it holds for any adapter. Runtime
 * neutral on purpose: node:assert/strict works in workerd (nodejs_compat) and in Deno.
 */
import assert from 'node:assert/strict'
import type { Alert } from '../../src/core/alerts/alert-webhook.ts'
import type { FormChange } from '../../src/core/forms/repo.ts'
import { utcDay } from '../../src/core/lib/utc-day.ts'
import type { ContactToTag, DeliveryError, NewOutboxItem } from '../../src/core/outbox/repo.ts'
import {
  MAX_SESSIONS,
  SIGN_IN_FAILURES,
  SIGN_IN_WINDOW_MS,
} from '../../src/core/owner/sign-in-rules.ts'
import {
  ALERT_WINDOW_MS,
  FORM_AUDIT_KEEP,
  STATE_RETENTION_MS,
} from '../../src/core/relay/store-rules.ts'
import type { Stores } from '../../src/core/relay/stores.ts'
import type { SignupFormBody } from '../../src/core/signup/validate-signup.ts'
import { TAGGING_GATHER_MS } from '../../src/core/tagging/queue-rules.ts'
import type { TaggingBatch } from '../../src/core/tagging/repo.ts'

/** Fresh repos over one empty, migrated store (the runtime's `Stores` factory). */
export interface StoreUnderTest extends Stores {
  /** Everything the store holds, as text. */
  dump(): Promise<string>
}

export interface ContractRunner {
  /** Registers one case with the runtime's test runner. */
  test(name: string, fn: () => Promise<void>): void
  /** Runs `body` over a fresh store (for SQLite: inside its own Durable Object). */
  withStore(body: (store: StoreUnderTest) => Promise<void>): Promise<void>
}

/** Noon, so that ± a few hours stays on one UTC day. */
const T = Date.UTC(2030, 0, 1, 12)
/** No backlog cap, for the cases about something else. */
const NO_CAP = Number.POSITIVE_INFINITY
const LIST_1 = '9e2f7d10-1111-4c3b-8e42-000000000001'
const LIST_2 = '9e2f7d10-1111-4c3b-8e42-000000000002'
const ERROR: DeliveryError = {
  status: 400,
  errorKey: 'contacts.api.validation.error',
  message: 'bad',
  at: T,
}

const payload = (email: string, extra: Partial<SignupFormBody> = {}): SignupFormBody => ({
  email_address: email,
  list_memberships: [LIST_1],
  ...extra,
})

/** A sign-up to enqueue: form "f", the email's own hash, due at T unless said otherwise. */
const signup = (email: string, over: Partial<NewOutboxItem> = {}): NewOutboxItem => ({
  formId: 'f',
  emailHash: `hash:${email}`,
  payload: payload(email),
  attempts: 0,
  nextAttemptAt: T,
  now: T,
  ...over,
})

/** Enqueues with no cap and returns the item's id (stored or merged into). */
async function enqueue(s: StoreUnderTest, item: NewOutboxItem): Promise<number> {
  const result = await s.outbox.enqueue(item, NO_CAP)
  assert.notEqual(result.outcome, 'full')
  return result.outcome === 'full' ? -1 : result.id
}

const pending = (state: string, expiresAt: number, codeVerifier: string | null = 'verifier') => ({
  state,
  redirectUri: 'https://relay.test/oauth/callback',
  codeVerifier,
  expiresAt,
})

export function storageContract({ test, withStore }: ContractRunner): void {
  const contract = (name: string, body: (store: StoreUnderTest) => Promise<void>) =>
    test(name, () => withStore(body))

  // ── TokenRepo ──────────────────────────────────────────────────────────────────────────────────

  contract('tokens: load is null before any save, then the document saved last', async (s) => {
    assert.equal(await s.tokens.load(), null)
    const first = {
      state: 'connected',
      generation: 1,
      accessToken: 'a1',
      expiresAt: T,
      lastError: null,
      account: { organization_name: 'Org' },
      scopes: ['contact_data', 'offline_access'],
    }
    await s.tokens.save(first)
    assert.deepEqual(await s.tokens.load(), first)
    const second = { state: 'not_connected', generation: 2, accessToken: null }
    await s.tokens.save(second)
    assert.deepEqual(await s.tokens.load(), second)
  })

  // ── AuthStateRepo ──────────────────────────────────────────────────────────────────────────────

  contract('states: a state is claimed once: ok with what was put, then used', async (s) => {
    await s.states.put(pending('s1', T + 600_000))
    await s.states.put(pending('s2', T + 600_000, null))
    assert.deepEqual(await s.states.claim('s1', T), {
      status: 'ok',
      pending: pending('s1', T + 600_000),
    })
    assert.deepEqual(await s.states.claim('s1', T + 1), { status: 'used' })
    assert.deepEqual(await s.states.claim('s2', T), {
      status: 'ok',
      pending: pending('s2', T + 600_000, null),
    })
  })

  contract('states: unknown; expired at its expiry time, and burned by the claim', async (s) => {
    assert.deepEqual(await s.states.claim('never-issued', T), { status: 'unknown' })
    await s.states.put(pending('late', T))
    assert.deepEqual(await s.states.claim('late', T), { status: 'expired' })
    // Burned: even a claim that (with a skewed clock) reads it as unexpired finds it used.
    assert.deepEqual(await s.states.claim('late', T - 1), { status: 'used' })
  })

  contract(
    'states: a put purges states over a day past their expiry, and only those',
    async (s) => {
      await s.states.put(pending('stale-unused', T))
      await s.states.put(pending('stale-used', T))
      await s.states.claim('stale-used', T - 1)
      await s.states.put(pending('at-cutoff', T + 1))
      await s.states.put(pending('recent-used', T + 2))
      await s.states.claim('recent-used', T + 1)
      // Expires at T + 1 + retention: the cutoff is T + 1, and only what expired before it goes.
      await s.states.put(pending('new', T + 1 + STATE_RETENTION_MS))
      const later = T + STATE_RETENTION_MS
      assert.deepEqual(await s.states.claim('stale-unused', later), { status: 'unknown' })
      assert.deepEqual(await s.states.claim('stale-used', later), { status: 'unknown' })
      assert.deepEqual(await s.states.claim('at-cutoff', later), { status: 'expired' })
      assert.deepEqual(await s.states.claim('recent-used', later), { status: 'used' })
      assert.equal((await s.states.claim('new', later)).status, 'ok')
    }
  )

  contract('states: an issued state is never put again (it would reset a used one)', async (s) => {
    await s.states.put(pending('s1', T + 600_000))
    assert.equal((await s.states.claim('s1', T)).status, 'ok')
    await assert.rejects(s.states.put(pending('s1', T + 600_000)))
    assert.deepEqual(await s.states.claim('s1', T), { status: 'used' })
  })

  // ── OutboxRepo: enqueue ────────────────────────────────────────────────────────────────────────

  contract('outbox: enqueue stores a pending item that claimDue returns as given', async (s) => {
    const id = await enqueue(s, signup('a@example.com', { attempts: 2, now: T - 5 }))
    const figures = await s.outbox.figures(T)
    assert.equal(figures.pending, 1)
    assert.equal(figures.oldestPendingAt, T - 5)
    assert.deepEqual(await s.outbox.claimDue(T, 10, T + 90_000), [
      { id, formId: 'f', payload: payload('a@example.com'), attempts: 2, createdAt: T - 5 },
    ])
  })

  contract(
    'outbox: a sign-up merges into an unleased pending item of its form+email',
    async (s) => {
      const older = signup('m@example.com', {
        payload: payload('m@example.com', {
          first_name: 'Old',
          last_name: 'Kept',
          custom_fields: [{ custom_field_id: 'c1', value: 'old' }],
        }),
        attempts: 3,
        nextAttemptAt: T + 500,
      })
      const newer = signup('m@example.com', {
        payload: payload('m@example.com', {
          first_name: 'New',
          list_memberships: [LIST_2, LIST_1],
          custom_fields: [
            { custom_field_id: 'c1', value: 'new' },
            { custom_field_id: 'c2', value: 'two' },
          ],
        }),
        nextAttemptAt: T + 200,
        now: T + 100,
      })
      const id = await enqueue(s, older)
      assert.equal(await enqueue(s, newer), id)
      const figures = await s.outbox.figures(T)
      assert.equal(figures.pending, 1)
      assert.equal(figures.oldestPendingAt, T) // the first acceptance time stays
      assert.equal(await s.outbox.nextDueAt(), T + 200) // the earlier due time wins
      assert.deepEqual(await s.outbox.claimDue(T + 199, 10, T + 90_000), [])
      // Later scalars win; lists and custom fields are unioned; attempts stay the item's.
      assert.deepEqual(await s.outbox.claimDue(T + 200, 10, T + 90_000), [
        {
          id,
          formId: 'f',
          payload: {
            email_address: 'm@example.com',
            first_name: 'New',
            last_name: 'Kept',
            list_memberships: [LIST_1, LIST_2],
            custom_fields: [
              { custom_field_id: 'c1', value: 'new' },
              { custom_field_id: 'c2', value: 'two' },
            ],
          },
          attempts: 3,
          createdAt: T,
        },
      ])
    }
  )

  contract('outbox: never merges into a leased item (lapsed or not) or a dead one', async (s) => {
    const first = await enqueue(s, signup('x@example.com'))
    await s.outbox.claimDue(T, 10, T + 1_000)
    const second = await enqueue(s, signup('x@example.com'))
    assert.notEqual(second, first)
    await s.outbox.claimDue(T, 10, T + 1_000)
    // Both leases lapsed, but their sends may still be in flight: still no merge.
    const third = await enqueue(s, signup('x@example.com', { now: T + 5_000 }))
    assert.equal(new Set([first, second, third]).size, 3)
    // Once reschedule ends a lease, that item takes merges again.
    await s.outbox.reschedule(first, T + 10_000, 1, null)
    assert.equal(await enqueue(s, signup('x@example.com')), first)
    // A dead letter takes none: the next unleased pending item does.
    await s.outbox.kill({ id: first, formId: 'f', payload: payload('x@example.com') }, ERROR, T)
    assert.equal(await enqueue(s, signup('x@example.com')), third)
    const figures = await s.outbox.figures(T)
    assert.deepEqual([figures.pending, figures.dead], [2, 1])
  })

  contract('outbox: another form or another email is another item', async (s) => {
    const a = await enqueue(s, signup('a@example.com'))
    const otherForm = await enqueue(s, signup('a@example.com', { formId: 'g' }))
    const otherEmail = await enqueue(s, signup('b@example.com'))
    assert.equal(new Set([a, otherForm, otherEmail]).size, 3)
    assert.equal((await s.outbox.figures(T)).pending, 3)
  })

  // ── OutboxRepo: claimDue, delivered, reschedule ────────────────────────────────────────────────

  contract('outbox: claimDue leases due items only, earliest first, up to the limit', async (s) => {
    const late = await enqueue(s, signup('late@example.com', { nextAttemptAt: T + 30 }))
    const early1 = await enqueue(s, signup('e1@example.com', { nextAttemptAt: T + 10 }))
    const early2 = await enqueue(s, signup('e2@example.com', { nextAttemptAt: T + 10 }))
    await enqueue(s, signup('future@example.com', { nextAttemptAt: T + 1_000 }))
    const ids = async (limit: number) =>
      (await s.outbox.claimDue(T + 100, limit, T + 90_000)).map((item) => item.id)
    assert.deepEqual(await ids(0), [])
    assert.deepEqual(await ids(-1), [])
    assert.deepEqual(await ids(2), [early1, early2])
    assert.deepEqual(await ids(10), [late])
    assert.deepEqual(await ids(10), [])
    assert.equal((await s.outbox.figures(T)).pending, 4)
  })

  contract('outbox: a leased item is not claimed again until its lease passes', async (s) => {
    const id = await enqueue(s, signup('a@example.com'))
    assert.equal((await s.outbox.claimDue(T, 10, T + 90_000)).length, 1)
    assert.deepEqual(await s.outbox.claimDue(T + 89_999, 10, T + 200_000), [])
    assert.equal(await s.outbox.nextDueAt(), T + 90_000)
    const [again] = await s.outbox.claimDue(T + 90_000, 10, T + 200_000)
    assert.equal(again.id, id)
    assert.equal(again.attempts, 0)
    assert.equal(await s.outbox.nextDueAt(), T + 200_000)
  })

  contract('outbox: an item whose lease lapsed is due from the lease’s end', async (s) => {
    const lapsed = await enqueue(s, signup('lapsed@example.com'))
    await s.outbox.claimDue(T, 1, T + 50)
    const later = await enqueue(s, signup('later@example.com', { nextAttemptAt: T + 20 }))
    const claimed = await s.outbox.claimDue(T + 100, 10, T + 90_000)
    assert.deepEqual(
      claimed.map((item) => item.id),
      [later, lapsed]
    )
  })

  contract('outbox: delivered deletes the item, payload and all, and counts the day', async (s) => {
    const day = Date.UTC(2030, 0, 1, 23, 59, 59, 999)
    const id = await enqueue(s, signup('gone@example.com', { now: day, nextAttemptAt: day }))
    await s.outbox.claimDue(day, 1, day + 90_000)
    await s.outbox.delivered(id, day)
    assert.ok(!(await s.dump()).includes('gone@example.com'), 'no copy of the address is left')
    assert.deepEqual(await s.outbox.claimDue(day + 90_000, 10, day + 180_000), [])
    assert.equal(await s.outbox.nextDueAt(), null)
    // An inline delivery (no id) only counts; the count is per UTC day.
    await s.outbox.delivered(null, day)
    await s.outbox.delivered(null, day + 1)
    const today = await s.outbox.figures(day)
    assert.deepEqual([today.pending, today.deliveredToday], [0, 2])
    assert.equal((await s.outbox.figures(day + 1)).deliveredToday, 1)
  })

  contract('outbox: reschedule ends the lease and sets the next attempt and count', async (s) => {
    const id = await enqueue(s, signup('a@example.com'))
    await s.outbox.claimDue(T, 1, T + 90_000)
    await s.outbox.reschedule(id, T + 5_000, 3, { ...ERROR, status: 503, errorKey: 'unavailable' })
    assert.equal(await s.outbox.nextDueAt(), T + 5_000)
    assert.deepEqual(await s.outbox.claimDue(T + 4_999, 10, T + 90_000), [])
    // Due before the old lease would have passed: the lease is over.
    const [item] = await s.outbox.claimDue(T + 5_000, 10, T + 95_000)
    assert.deepEqual([item.id, item.attempts], [id, 3])
    await s.outbox.reschedule(id, T + 6_000, 3, null)
    assert.equal(await s.outbox.nextDueAt(), T + 6_000)
  })

  // ── OutboxRepo: dead letters ───────────────────────────────────────────────────────────────────

  contract('outbox: kill takes a queued item off the queue as a dead letter', async (s) => {
    const id = await enqueue(s, signup('dead@example.com', { now: T - 100 }))
    await s.outbox.claimDue(T, 1, T + 90_000)
    await s.outbox.kill({ id, formId: 'f', payload: payload('dead@example.com') }, ERROR, T + 10)
    assert.deepEqual(await s.outbox.claimDue(T + 100_000, 10, T + 200_000), [])
    assert.equal(await s.outbox.nextDueAt(), null)
    const figures = await s.outbox.figures(T)
    assert.deepEqual([figures.pending, figures.dead, figures.oldestPendingAt], [0, 1, null])
    assert.deepEqual(await s.outbox.deadLetters(10), [
      {
        id,
        formId: 'f',
        email: 'dead@example.com',
        createdAt: T - 100,
        deadAt: T + 10,
        error: ERROR,
        // The refusal is an attempt: a dead letter shows every one it had.
        attempts: 1,
        lists: payload('dead@example.com').list_memberships,
      },
    ])
  })

  contract('outbox: kill without an id stores an inline send CC refused', async (s) => {
    await s.outbox.kill(
      { formId: 'f', emailHash: 'h1', payload: payload('inline@example.com') },
      ERROR,
      T
    )
    await s.outbox.kill({ formId: 'g', payload: payload('nohash@example.com') }, ERROR, T + 1)
    const letters = await s.outbox.deadLetters(10)
    assert.deepEqual(
      letters.map((d) => [d.formId, d.email, d.createdAt, d.deadAt, d.error]),
      [
        ['g', 'nohash@example.com', T + 1, T + 1, ERROR],
        ['f', 'inline@example.com', T, T, ERROR],
      ]
    )
    const figures = await s.outbox.figures(T)
    assert.deepEqual([figures.pending, figures.dead], [0, 2])
  })

  contract('outbox: revive brings one dead letter back, due now, attempts reset', async (s) => {
    const id = await enqueue(s, signup('r@example.com', { attempts: 4 }))
    await s.outbox.claimDue(T, 1, T + 90_000)
    await s.outbox.kill({ id, formId: 'f', payload: payload('r@example.com') }, ERROR, T + 10)
    const other = await enqueue(s, signup('pending@example.com'))
    assert.deepEqual(await s.outbox.revive(id, T + 1_000, NO_CAP), { revived: 1, waiting: 0 })
    // Pending now, pending all along, never there: nothing to revive, nothing waiting.
    for (const not of [id, other, 999_999])
      assert.deepEqual(await s.outbox.revive(not, T + 1_000, NO_CAP), { revived: 0, waiting: 0 })
    assert.deepEqual(await s.outbox.deadLetters(10), [])
    await s.outbox.claimDue(T, 10, T + 90_000) // takes `other` out of the way
    assert.deepEqual(await s.outbox.claimDue(T + 999, 10, T + 90_000), [])
    const [item] = await s.outbox.claimDue(T + 1_000, 10, T + 90_000)
    assert.deepEqual([item.id, item.attempts, item.createdAt], [id, 0, T])
  })

  contract('outbox: revive all brings back every dead letter', async (s) => {
    const queued = await enqueue(s, signup('q@example.com'))
    await s.outbox.kill({ id: queued, formId: 'f', payload: payload('q@example.com') }, ERROR, T)
    await s.outbox.kill(
      { formId: 'f', emailHash: 'h', payload: payload('i@example.com') },
      ERROR,
      T
    )
    await enqueue(s, signup('p@example.com'))
    assert.deepEqual(await s.outbox.revive('all', T + 1, NO_CAP), { revived: 2, waiting: 0 })
    const figures = await s.outbox.figures(T)
    assert.deepEqual([figures.pending, figures.dead], [3, 0])
    const claimed = await s.outbox.claimDue(T + 1, 10, T + 90_000)
    assert.deepEqual(claimed.map((item) => item.payload.email_address).sort(), [
      'i@example.com',
      'p@example.com',
      'q@example.com',
    ])
  })

  contract(
    'outbox: revive stops at the cap, oldest first, and counts what is left waiting',
    async (s) => {
      const dead: number[] = []
      for (let i = 0; i < 5; i++) {
        const id = await enqueue(s, signup(`d${i}@example.com`))
        await s.outbox.kill(
          { id, formId: 'f', payload: payload(`d${i}@example.com`) },
          ERROR,
          T - i
        )
        dead.push(id)
      }
      await enqueue(s, signup('p@example.com'))
      // One pending, a cap of 4: room for three, the oldest; the two newest stay dead letters.
      assert.deepEqual(await s.outbox.revive('all', T, 4), { revived: 3, waiting: 2 })
      const figures = await s.outbox.figures(T)
      assert.deepEqual([figures.pending, figures.dead], [4, 2])
      assert.deepEqual(
        (await s.outbox.deadLetters(10)).map((d) => d.id).sort((a, b) => a - b),
        dead.slice(3)
      )
      // At the cap, one asked for by id stays too; a pending one is no dead letter at all.
      assert.deepEqual(await s.outbox.revive(dead[4], T, 4), { revived: 0, waiting: 1 })
      assert.deepEqual(await s.outbox.revive(dead[0], T, 4), { revived: 0, waiting: 0 })
      assert.deepEqual(await s.outbox.revive('all', T, 5), { revived: 1, waiting: 1 })
      assert.deepEqual(await s.outbox.revive('all', T, NO_CAP), { revived: 1, waiting: 0 })
      assert.equal((await s.outbox.figures(T)).pending, 6)
    }
  )

  contract('outbox: removeDead deletes a dead letter, and nothing else', async (s) => {
    const live = await enqueue(s, signup('live@example.com'))
    const dead = await enqueue(s, signup('dead@example.com'))
    await s.outbox.kill({ id: dead, formId: 'f', payload: payload('dead@example.com') }, ERROR, T)
    assert.equal(await s.outbox.removeDead(live), false)
    assert.equal(await s.outbox.removeDead(999_999), false)
    assert.equal(await s.outbox.removeDead(dead), true)
    assert.equal(await s.outbox.removeDead(dead), false)
    assert.ok(!(await s.dump()).includes('dead@example.com'), 'no copy of the address is left')
    const figures = await s.outbox.figures(T)
    assert.deepEqual([figures.pending, figures.dead], [1, 0])
  })

  contract(
    'outbox: deadLetters lists the newest first (ties: higher id), up to the limit',
    async (s) => {
      for (const [email, at] of [
        ['t0@example.com', T],
        ['t20@example.com', T + 20],
        ['t10@example.com', T + 10],
        ['t30a@example.com', T + 30],
        ['t30b@example.com', T + 30],
      ] as const) {
        await s.outbox.kill({ formId: 'f', payload: payload(email) }, ERROR, at)
      }
      const emails = async (limit: number) =>
        (await s.outbox.deadLetters(limit)).map((d) => d.email.split('@')[0])
      assert.deepEqual(await emails(10), ['t30b', 't30a', 't20', 't10', 't0'])
      assert.deepEqual(await emails(2), ['t30b', 't30a'])
    }
  )

  contract(
    'outbox: purgeDead drops dead letters and remembered submissions before the cutoff',
    async (s) => {
      await s.outbox.kill({ formId: 'f', payload: payload('old@example.com') }, ERROR, T)
      await s.outbox.kill({ formId: 'f', payload: payload('new@example.com') }, ERROR, T + 10)
      await enqueue(s, signup('ancient@example.com', { now: T - 1_000_000 }))
      await s.outbox.remember('f:old', T, { status: 'queued', digest: 'd1' })
      await s.outbox.remember('f:new', T + 10, { status: 'delivered', digest: 'd2' })
      assert.equal(await s.outbox.purgeDead(T + 10), 1)
      assert.deepEqual(
        (await s.outbox.deadLetters(10)).map((d) => d.email),
        ['new@example.com']
      )
      assert.equal((await s.outbox.figures(T)).pending, 1) // pending items are never purged
      const window = 86_400_000
      assert.equal(await s.outbox.recentOutcome('f:old', T + 10, window), null)
      assert.deepEqual(await s.outbox.recentOutcome('f:new', T + 10, window), {
        status: 'delivered',
        digest: 'd2',
      })
      assert.equal(await s.outbox.purgeDead(T + 10), 0)
    }
  )

  // ── OutboxRepo: due times, figures, counters, blocks, the duplicate window ─────────────────────

  contract('outbox: nextDueAt is the earliest due pending item, a lease included', async (s) => {
    assert.equal(await s.outbox.nextDueAt(), null)
    await s.outbox.kill({ formId: 'f', payload: payload('dead@example.com') }, ERROR, T)
    assert.equal(await s.outbox.nextDueAt(), null) // dead letters are never due
    await enqueue(s, signup('a@example.com', { nextAttemptAt: T + 50 }))
    await enqueue(s, signup('b@example.com', { nextAttemptAt: T + 20 }))
    assert.equal(await s.outbox.nextDueAt(), T + 20)
    await s.outbox.claimDue(T + 20, 1, T + 100)
    assert.equal(await s.outbox.nextDueAt(), T + 50)
    await s.outbox.claimDue(T + 50, 1, T + 90)
    assert.equal(await s.outbox.nextDueAt(), T + 90)
  })

  contract('outbox: figures count pending and dead, the oldest pending, the day', async (s) => {
    assert.deepEqual(await s.outbox.figures(T), {
      pending: 0,
      dead: 0,
      oldestPendingAt: null,
      deliveredToday: 0,
      quotaUsedToday: 0,
    })
    await enqueue(s, signup('a@example.com', { now: T - 20 }))
    await enqueue(s, signup('b@example.com', { now: T - 30 }))
    await s.outbox.kill({ formId: 'f', payload: payload('c@example.com') }, ERROR, T - 40)
    await s.outbox.delivered(null, T)
    await s.outbox.countRequest(utcDay(T))
    await s.outbox.countRequest(utcDay(T))
    assert.deepEqual(await s.outbox.figures(T), {
      pending: 2,
      dead: 1,
      oldestPendingAt: T - 30,
      deliveredToday: 1,
      quotaUsedToday: 2,
    })
  })

  contract('outbox: countRequest counts per UTC day and returns the day’s count', async (s) => {
    assert.equal(await s.outbox.requestsOn('2030-01-01'), 0)
    assert.equal(await s.outbox.countRequest('2030-01-01'), 1)
    assert.equal(await s.outbox.countRequest('2030-01-01'), 2)
    assert.equal(await s.outbox.countRequest('2030-01-02'), 1)
    assert.equal(await s.outbox.requestsOn('2030-01-01'), 2)
    assert.equal(await s.outbox.requestsOn('2030-01-02'), 1)
    assert.equal(await s.outbox.requestsOn('2030-01-03'), 0)
  })

  contract('outbox: blocks are none until set; setBlocks replaces both', async (s) => {
    assert.deepEqual(await s.outbox.blocks(), { pausedUntil: null, parkedUntil: null })
    await s.outbox.setBlocks({ pausedUntil: T, parkedUntil: T + 1 })
    assert.deepEqual(await s.outbox.blocks(), { pausedUntil: T, parkedUntil: T + 1 })
    await s.outbox.setBlocks({ pausedUntil: null, parkedUntil: T + 2 })
    assert.deepEqual(await s.outbox.blocks(), { pausedUntil: null, parkedUntil: T + 2 })
    // Stored, not only remembered by the repo (the SQLite one keeps the row it wrote).
    assert.match(await s.dump(), new RegExp(`\\b${T + 2}\\b`))
    assert.doesNotMatch(await s.dump(), new RegExp(`\\b${T + 1}\\b`))
  })

  contract('outbox: recentOutcome answers within the window only; remember replaces', async (s) => {
    const window = 600_000
    assert.equal(await s.outbox.recentOutcome('f:h', T, window), null)
    assert.equal(await s.outbox.recentOutcome('f:h', T, window), null) // asking records nothing
    await s.outbox.remember('f:h', T, { status: 'queued', digest: 'first' })
    assert.deepEqual(await s.outbox.recentOutcome('f:h', T + window - 1, window), {
      status: 'queued',
      digest: 'first',
    })
    assert.equal(await s.outbox.recentOutcome('f:h', T + window, window), null)
    assert.equal(await s.outbox.recentOutcome('f:other', T, window), null)
    // A newer sign-up replaces what is remembered: its status and what it said.
    await s.outbox.remember('f:h', T + window, { status: 'delivered', digest: 'second' })
    assert.deepEqual(await s.outbox.recentOutcome('f:h', T + window, window), {
      status: 'delivered',
      digest: 'second',
    })
    await s.outbox.remember('f:h', T + window, { status: 'queued', digest: null })
    assert.deepEqual(await s.outbox.recentOutcome('f:h', T + window, window), {
      status: 'queued',
      digest: null,
    })
  })

  // ── OutboxRepo: the backlog: its cap, its running count, its alarm ─────────────────────────────

  contract('outbox: enqueue refuses a new item at the cap, and still merges', async (s) => {
    const cap = 3
    const ids: number[] = []
    for (const [n, email] of ['a@example.com', 'b@example.com', 'c@example.com'].entries()) {
      const stored = await s.outbox.enqueue(signup(email), cap)
      assert.equal(stored.outcome, 'stored')
      if (stored.outcome === 'stored') ids.push(stored.id)
      assert.equal(stored.backlog, n + 1)
    }
    assert.deepEqual(await s.outbox.enqueue(signup('d@example.com'), cap), {
      outcome: 'full',
      backlog: 3,
    })
    assert.ok(!(await s.dump()).includes('d@example.com'), 'nothing of a refused item is kept')
    // A change to a queued sign-up needs no new place: merged, even at the cap.
    const merged = await s.outbox.enqueue(
      signup('a@example.com', { payload: payload('a@example.com', { first_name: 'A' }) }),
      cap
    )
    assert.deepEqual(merged, { outcome: 'merged', id: ids[0], backlog: 3 })
    assert.equal(await s.outbox.backlog(), 3)
    // One delivered: a place again.
    const [first] = await s.outbox.claimDue(T, 1, T + 90_000)
    await s.outbox.delivered(first.id, T)
    const stored = await s.outbox.enqueue(signup('d@example.com'), cap)
    assert.deepEqual([stored.outcome, stored.backlog], ['stored', 3])
    assert.equal((await s.outbox.enqueue(signup('e@example.com'), cap)).outcome, 'full')
  })

  contract('outbox: the running counts follow every write, as a full count would', async (s) => {
    const counted = async () => {
      const f = await s.outbox.figures(T)
      assert.equal(await s.outbox.backlog(), f.pending)
      return [f.pending, f.dead]
    }
    assert.deepEqual(await counted(), [0, 0])
    const ids = []
    for (let i = 0; i < 6; i++) ids.push(await enqueue(s, signup(`n${i}@example.com`)))
    await enqueue(s, signup('n0@example.com')) // merged: no new item
    assert.deepEqual(await counted(), [6, 0])
    await s.outbox.claimDue(T, 6, T + 90_000) // leased items are still pending
    await s.outbox.reschedule(ids[5], T + 10, 1, null)
    assert.deepEqual(await counted(), [6, 0])
    await s.outbox.delivered(ids[0], T)
    await s.outbox.delivered(ids[0], T) // twice: nothing left to delete the second time
    await s.outbox.delivered(null, T) // an inline delivery: never counted as pending
    assert.deepEqual(await counted(), [5, 0])
    for (const id of ids.slice(1, 4))
      await s.outbox.kill({ id, formId: 'f', payload: payload('x@example.com') }, ERROR, T)
    await s.outbox.kill({ formId: 'f', payload: payload('inline@example.com') }, ERROR, T)
    assert.deepEqual(await counted(), [2, 4])
    assert.equal((await s.outbox.revive(ids[1], T, NO_CAP)).revived, 1)
    assert.deepEqual(await counted(), [3, 3])
    assert.equal(await s.outbox.removeDead(ids[2]), true)
    assert.equal(await s.outbox.removeDead(ids[4]), false) // pending: not a dead letter
    assert.deepEqual(await counted(), [3, 2])
    assert.equal(await s.outbox.purgeDead(T + 1), 2)
    assert.deepEqual(await counted(), [3, 0])
    assert.equal((await s.outbox.revive('all', T, NO_CAP)).revived, 0)
    assert.deepEqual(await counted(), [3, 0])
  })

  contract('outbox: figures name the oldest pending item, whatever its due time', async (s) => {
    const late = await enqueue(s, signup('late@example.com', { now: T - 50, nextAttemptAt: T + 9 }))
    await enqueue(s, signup('young@example.com', { now: T - 10, nextAttemptAt: T }))
    assert.equal((await s.outbox.figures(T)).oldestPendingAt, T - 50)
    await s.outbox.claimDue(T + 9, 10, T + 90_000)
    await s.outbox.delivered(late, T + 9)
    assert.equal((await s.outbox.figures(T)).oldestPendingAt, T - 10)
  })

  contract(
    'outbox: the backlog alarm crosses 50 % and 90 % once, re-arming below 25 %',
    async (s) => {
      const cap = 20
      const ids: number[] = []
      const fill = async (to: number) => {
        while (ids.length < to) ids.push(await enqueue(s, signup(`b${ids.length}@example.com`)))
      }
      const drainTo = async (to: number) => {
        while (ids.length > to) {
          const id = ids.pop() as number
          await s.outbox.claimDue(T + 1_000_000, 1_000, T + 2_000_000)
          await s.outbox.delivered(id, T)
        }
      }
      const alarm = async () => {
        const a = await s.outbox.backlogAlarm(cap)
        return [a.pending, a.level, a.crossed]
      }
      await fill(9)
      assert.deepEqual(await alarm(), [9, 0, null])
      await fill(10)
      assert.deepEqual(await alarm(), [10, 50, 50])
      assert.deepEqual(await alarm(), [10, 50, null]) // once per crossing
      await fill(17)
      assert.deepEqual(await alarm(), [17, 50, null])
      await fill(18)
      assert.deepEqual(await alarm(), [18, 90, 90])
      await drainTo(9) // below half, not yet below a quarter: still armed at 90
      assert.deepEqual(await alarm(), [9, 90, null])
      await fill(19)
      assert.deepEqual(await alarm(), [19, 90, null])
      await drainTo(4)
      assert.deepEqual(await alarm(), [4, 0, null]) // re-armed
      await fill(20) // both levels at once: one alarm, at 90
      assert.deepEqual(await alarm(), [20, 90, 90])
    }
  )

  // ── TaggingRepo, and the outbox's tags ───────────────────────────────────────────────────────

  const TAG_A = 'c6915956-fde3-4081-977e-00000000000a'
  const TAG_B = 'c6915956-fde3-4081-977e-00000000000b'
  const TAG_C = 'c6915956-fde3-4081-977e-00000000000c'
  const toTag = (contactId: string, tagIds = [TAG_B, TAG_A]): ContactToTag => ({
    formId: 'f',
    contactId,
    tagIds,
    emailMasked: `${contactId[0]}•••@example.com`,
  })
  /** A sign-up delivered inline at `at` whose form has `tagIds`: its tagging is pending. */
  const taggedDelivery = (s: StoreUnderTest, contactId: string, at: number, tagIds?: string[]) =>
    s.outbox.delivered(null, at, undefined, toTag(contactId, tagIds))
  const contacts = (batch: TaggingBatch | null) => batch?.items.map((item) => item.contactId)
  const LEASE = T + 90_000

  contract('outbox: a sign-up keeps its tags queued, merged, claimed and dead', async (s) => {
    const id = await enqueue(s, signup('t@example.com', { tags: [TAG_A] }))
    assert.equal(await enqueue(s, signup('t@example.com', { tags: [TAG_B, TAG_A] })), id)
    const [item] = await s.outbox.claimDue(T, 10, LEASE)
    assert.deepEqual(item.tags, [TAG_A, TAG_B])
    await s.outbox.kill({ ...item, id }, ERROR, T)
    await s.outbox.revive(id, T, NO_CAP)
    assert.deepEqual((await s.outbox.claimDue(T, 10, LEASE))[0].tags, [TAG_A, TAG_B])
    // An inline send CC refused keeps them too; a form without tags leaves no such key.
    await s.outbox.kill({ formId: 'f', payload: payload('i@example.com'), tags: [TAG_C] }, ERROR, T)
    await enqueue(s, signup('none@example.com'))
    await s.outbox.revive('all', T + 1, NO_CAP)
    const claimed = await s.outbox.claimDue(T + 1, 10, LEASE)
    assert.deepEqual(
      claimed.map((c) => [c.payload.email_address, c.tags]),
      [
        ['none@example.com', undefined],
        ['i@example.com', [TAG_C]],
      ]
    )
    assert.ok(!('tags' in claimed[0]))
  })

  contract(
    'taggings: a delivery with tags leaves a tagging, due after the gathering window',
    async (s) => {
      const id = await enqueue(s, signup('d@example.com'))
      await s.outbox.claimDue(T, 1, LEASE)
      await s.outbox.delivered(id, T, undefined, toTag('d-contact'))
      assert.ok(!(await s.dump()).includes('d@example.com'), 'only the masked address is kept')
      assert.equal((await s.outbox.figures(T)).pending, 0) // not in the backlog
      assert.deepEqual(await s.taggings.counts(), { pending: 1, dead: 0 })
      assert.equal(await s.taggings.nextDueAt(), T + TAGGING_GATHER_MS)
      assert.equal(
        await s.taggings.claimBatch(T + TAGGING_GATHER_MS - 1, T + 5_000, LEASE, 9),
        null
      )
      const batch = await s.taggings.claimBatch(T + TAGGING_GATHER_MS, T + 5_000, LEASE, 9)
      // The tag set is sorted: taggings of one set share one key whatever order a form gave.
      assert.deepEqual(batch, {
        tagIds: [TAG_A, TAG_B],
        items: [
          {
            id: batch?.items[0].id,
            formId: 'f',
            contactId: 'd-contact',
            attempts: 0,
            createdAt: T,
          },
        ],
      })
    }
  )

  contract(
    'taggings: a claim takes the earliest due tag set, with its taggings due by the window end',
    async (s) => {
      const G = TAGGING_GATHER_MS
      await taggedDelivery(s, 'a1', T)
      await taggedDelivery(s, 'c1', T + 10, [TAG_C])
      await taggedDelivery(s, 'a2', T + 500, [TAG_A, TAG_B])
      await taggedDelivery(s, 'a3', T + 2 * G) // due after the window below
      await taggedDelivery(s, 'a4', T + 600)
      const now = T + G
      const first = await s.taggings.claimBatch(now, now + G, LEASE, 500)
      assert.deepEqual(first?.tagIds, [TAG_A, TAG_B])
      assert.deepEqual(contacts(first), ['a1', 'a2', 'a4'])
      // Leased: not claimed again; the other set is next, and then nothing is due.
      const second = await s.taggings.claimBatch(now + 10, now + 10 + G, LEASE, 500)
      assert.deepEqual([second?.tagIds, contacts(second)], [[TAG_C], ['c1']])
      assert.equal(await s.taggings.claimBatch(now + 10, now + 10 + G, LEASE, 500), null)
      assert.equal(await s.taggings.nextDueAt(), T + 3 * G) // a3
      // At most `limit` a batch, earliest first.
      const later = T + 3 * G
      await taggedDelivery(s, 'a5', T + 2 * G + 1)
      assert.deepEqual(contacts(await s.taggings.claimBatch(later, later, LEASE, 1)), ['a3'])
      assert.deepEqual(await s.taggings.counts(), { pending: 6, dead: 0 })
    }
  )

  contract('taggings: applied deletes; reschedule ends the lease and sets the retry', async (s) => {
    await taggedDelivery(s, 'x', T)
    await taggedDelivery(s, 'y', T)
    const due = T + TAGGING_GATHER_MS
    const batch = await s.taggings.claimBatch(due, due, LEASE, 500)
    const [x, y] = batch?.items.map((item) => item.id) ?? []
    await s.taggings.applied([x])
    await s.taggings.reschedule([y], due + 5_000, 2, { ...ERROR, status: 503 })
    assert.deepEqual(await s.taggings.counts(), { pending: 1, dead: 0 })
    assert.equal(await s.taggings.nextDueAt(), due + 5_000) // before the lease would end
    assert.equal(await s.taggings.claimBatch(due + 4_999, due + 4_999, LEASE, 500), null)
    const again = await s.taggings.claimBatch(due + 5_000, due + 5_000, LEASE, 500)
    assert.deepEqual(
      again?.items.map((item) => [item.id, item.attempts]),
      [[y, 2]]
    )
  })

  contract(
    'taggings: kill makes dead letters, newest first; revive, removeDead and purgeDead',
    async (s) => {
      for (const [contact, at] of [
        ['k1', T],
        ['k2', T],
        ['k3', T],
      ] as const)
        await taggedDelivery(s, contact, at)
      const due = T + TAGGING_GATHER_MS
      const ids = (await s.taggings.claimBatch(due, due, LEASE, 500))?.items.map((i) => i.id) ?? []
      await s.taggings.kill([ids[0]], ERROR, T + 10)
      await s.taggings.kill([ids[1], ids[2]], ERROR, T + 20)
      assert.deepEqual(await s.taggings.counts(), { pending: 0, dead: 3 })
      assert.equal(await s.taggings.nextDueAt(), null)
      const letters = await s.taggings.deadLetters(10)
      assert.deepEqual(
        letters.map((d) => [d.id, d.emailMasked, d.tagIds, d.deadAt]),
        [
          [ids[2], 'k•••@example.com', [TAG_A, TAG_B], T + 20],
          [ids[1], 'k•••@example.com', [TAG_A, TAG_B], T + 20],
          [ids[0], 'k•••@example.com', [TAG_A, TAG_B], T + 10],
        ]
      )
      assert.deepEqual(letters[0].error, ERROR)
      assert.equal((await s.taggings.deadLetters(1)).length, 1)
      // Revived: pending, due now, attempts reset.
      assert.equal(await s.taggings.revive(ids[1], T + 30), 1)
      assert.equal(await s.taggings.revive(ids[1], T + 30), 0)
      const back = await s.taggings.claimBatch(T + 30, T + 30, LEASE, 500)
      assert.deepEqual(
        back?.items.map((i) => [i.id, i.attempts]),
        [[ids[1], 0]]
      )
      assert.equal(await s.taggings.removeDead(ids[1]), false) // pending, not dead
      assert.equal(await s.taggings.removeDead(ids[2]), true)
      assert.equal(await s.taggings.removeDead(ids[2]), false)
      assert.equal(await s.taggings.purgeDead(T + 10), 0)
      assert.equal(await s.taggings.purgeDead(T + 11), 1)
      assert.deepEqual(await s.taggings.counts(), { pending: 1, dead: 0 })
      // Revive all takes every dead letter back.
      await s.taggings.kill([ids[1]], ERROR, T + 40)
      assert.equal(await s.taggings.revive('all', T + 50), 1)
      assert.deepEqual(await s.taggings.deadLetters(10), [])
    }
  )

  contract('taggings: more than 50 tags become taggings of at most 50 each', async (s) => {
    const tags = Array.from(
      { length: 60 },
      (_, i) => `c6915956-fde3-4081-977e-${String(i).padStart(12, '0')}`
    )
    await taggedDelivery(s, 'many', T, tags)
    const due = T + TAGGING_GATHER_MS
    const first = await s.taggings.claimBatch(due, due, LEASE, 500)
    const second = await s.taggings.claimBatch(due, due, LEASE, 500)
    assert.deepEqual([first?.tagIds, second?.tagIds].map((set) => set?.length).sort(), [10, 50])
    assert.deepEqual(new Set([...(first?.tagIds ?? []), ...(second?.tagIds ?? [])]), new Set(tags))
  })

  // ── AlertRepo ────────────────────────────────────────────────────────────────────────────────

  contract('alerts: one of a kind per window; the next carries the count held back', async (s) => {
    const alert = (event: Alert['event'], n: number): Alert => ({
      event,
      state: event,
      reason: { code: `c${n}`, message: `m${n}` },
      at: new Date(T + n).toISOString(),
    })
    assert.deepEqual(await s.alerts.records(), [])
    assert.deepEqual(await s.alerts.coalesce(alert('dead_letter', 1), T), alert('dead_letter', 1))
    assert.equal(await s.alerts.coalesce(alert('dead_letter', 2), T + 1), null)
    assert.equal(await s.alerts.coalesce(alert('dead_letter', 3), T + 2), null)
    // Another kind is not held back by this one.
    assert.deepEqual(await s.alerts.coalesce(alert('backlog', 4), T + 3), alert('backlog', 4))
    assert.deepEqual(await s.alerts.releaseHeld(T + ALERT_WINDOW_MS - 1), [])
    assert.deepEqual(await s.alerts.coalesce(alert('dead_letter', 5), T + ALERT_WINDOW_MS), {
      ...alert('dead_letter', 5),
      suppressed: 2,
    })
    assert.deepEqual(await s.alerts.records(), [
      { event: 'backlog', lastSentAt: T + 3, held: 0, latest: null, heldTotal: 0 },
      {
        event: 'dead_letter',
        lastSentAt: T + ALERT_WINDOW_MS,
        held: 0,
        latest: null,
        heldTotal: 2,
      },
    ])
  })

  contract('alerts: once the window is over, the latest held alert is released', async (s) => {
    const alert = (n: number): Alert => ({ event: 'degraded', state: 'degraded', at: `t${n}` })
    await s.alerts.coalesce(alert(1), T)
    await s.alerts.coalesce(alert(2), T + 10)
    await s.alerts.coalesce(alert(3), T + 20)
    assert.deepEqual(await s.alerts.releaseHeld(T + ALERT_WINDOW_MS - 1), [])
    assert.deepEqual(await s.alerts.releaseHeld(T + ALERT_WINDOW_MS), [
      { ...alert(3), suppressed: 1 },
    ])
    assert.deepEqual(await s.alerts.releaseHeld(T + 2 * ALERT_WINDOW_MS), []) // released once
    // The release counts as the kind's last alert sent.
    assert.equal(await s.alerts.coalesce(alert(4), T + ALERT_WINDOW_MS + 1), null)
    const [record] = await s.alerts.records()
    assert.deepEqual([record.held, record.heldTotal, record.latest], [1, 3, alert(4)])
  })

  // ── FormRepo ───────────────────────────────────────────────────────────────────────────────────

  const profile = (lists: string[] = [LIST_1]) => ({
    lists,
    origins: ['https://site.test'],
    honeypot: '_gotcha',
  })
  const change = (formId: string, over: Partial<FormChange> = {}): FormChange => ({
    formId,
    form: { profile: profile(), types: {} },
    action: 'created',
    changes: [`lists: +${LIST_1}`],
    at: T,
    ...over,
  })

  contract('forms: a write stores the form with its revision, and its audit entry', async (s) => {
    assert.equal(await s.forms.get('a'), null)
    const types = { [LIST_2]: { type: 'number', decimal_places: 1 } }
    const first = await s.forms.write(change('a', { form: { profile: profile(), types } }))
    assert.deepEqual(await s.forms.get('a'), {
      id: 'a',
      profile: profile(),
      types,
      revision: first,
      updatedAt: T,
    })
    const second = await s.forms.write(
      change('a', {
        form: { profile: profile([LIST_2]), types: {} },
        action: 'updated',
        changes: ['lists: x'],
        at: T + 1,
      })
    )
    assert.ok(second > first)
    assert.deepEqual(await s.forms.get('a'), {
      id: 'a',
      profile: profile([LIST_2]),
      types: {},
      revision: second,
      updatedAt: T + 1,
    })
    assert.deepEqual(await s.forms.audit(10), [
      { revision: second, at: T + 1, formId: 'a', action: 'updated', changes: ['lists: x'] },
      { revision: first, at: T, formId: 'a', action: 'created', changes: [`lists: +${LIST_1}`] },
    ])
  })

  contract(
    'forms: list by id; a delete removes the form, and a re-made one is a new revision',
    async (s) => {
      const b = await s.forms.write(change('b'))
      await s.forms.write(change('a'))
      assert.deepEqual(
        (await s.forms.list()).map((f) => f.id),
        ['a', 'b']
      )
      await s.forms.write(change('b', { form: null, action: 'deleted', changes: [] }))
      assert.equal(await s.forms.get('b'), null)
      assert.deepEqual(
        (await s.forms.list()).map((f) => f.id),
        ['a']
      )
      const again = await s.forms.write(change('b'))
      assert.ok(again > b + 1, 'a revision names one version of one form, ever')
      assert.deepEqual((await s.forms.audit(1))[0].action, 'created')
      assert.equal((await s.forms.audit(10)).length, 4)
    }
  )

  contract('forms: the audit trail keeps the newest FORM_AUDIT_KEEP entries', async (s) => {
    let last = 0
    for (let i = 0; i < FORM_AUDIT_KEEP + 5; i++) {
      last = await s.forms.write(
        change('busy', { action: i === 0 ? 'created' : 'updated', at: T + i })
      )
    }
    const trail = await s.forms.audit(FORM_AUDIT_KEEP + 10)
    assert.equal(trail.length, FORM_AUDIT_KEEP)
    assert.equal(trail[0].revision, last)
    assert.equal(trail.at(-1)?.revision, last - FORM_AUDIT_KEEP + 1)
    // The form itself is untouched by the trimming, and revisions keep growing.
    assert.equal((await s.forms.get('busy'))?.revision, last)
    assert.ok((await s.forms.write(change('busy'))) > last)
  })

  // ── OwnerRepo: sessions and the sign-in throttle ───────────────────────────────────────────────

  contract('owner: a session lives until it expires or is removed', async (s) => {
    assert.equal(await s.owner.hasSession('s1', T), false)
    await s.owner.addSession('s1', T + 1000, T)
    await s.owner.addSession('s2', T + 2000, T)
    assert.equal(await s.owner.hasSession('s1', T + 999), true)
    assert.equal(await s.owner.hasSession('s1', T + 1000), false) // expired
    await s.owner.removeSession('s2')
    assert.equal(await s.owner.hasSession('s2', T), false)
    await s.owner.removeSession('never-added') // harmless
    // Adding a session ends the expired ones: nothing of s1 is left.
    await s.owner.addSession('s3', T + 5000, T + 1000)
    assert.ok(!(await s.dump()).includes('"s1"'))
    assert.equal(await s.owner.hasSession('s3', T + 1000), true)
  })

  contract(`owner: at most ${MAX_SESSIONS} sessions live; a new one ends the oldest`, async (s) => {
    for (let i = 0; i <= MAX_SESSIONS; i++) {
      await s.owner.addSession(`s${i}`, T + 3_600_000 + i, T + i)
    }
    const now = T + MAX_SESSIONS
    assert.equal(await s.owner.hasSession('s0', now), false)
    for (let i = 1; i <= MAX_SESSIONS; i++)
      assert.equal(await s.owner.hasSession(`s${i}`, now), true)
  })

  contract('owner: a client is locked out after its failures, alone, until they age', async (s) => {
    for (let i = 0; i < SIGN_IN_FAILURES; i++) {
      assert.equal(await s.owner.signInLockout('net-a', T + i), 0)
      assert.equal(await s.owner.countSignInFailure('net-a', T + i), 0)
    }
    const locked = SIGN_IN_WINDOW_MS / 1000
    assert.equal(await s.owner.signInLockout('net-a', T + 10), locked)
    // Refused attempts while locked out are not counted: the lockout ends on time.
    assert.equal(await s.owner.countSignInFailure('net-a', T + 10), locked)
    assert.equal(await s.owner.countSignInFailure('net-a', T + 1000), locked - 1)
    assert.equal(await s.owner.signInLockout('net-b', T + 10), 0) // other clients: unaffected
    assert.equal(await s.owner.countSignInFailure('net-b', T + 10), 0)
    // The first failure leaves the window: one more attempt may be made (and counted).
    assert.equal(await s.owner.signInLockout('net-a', T + SIGN_IN_WINDOW_MS), 0)
    assert.equal(await s.owner.countSignInFailure('net-a', T + SIGN_IN_WINDOW_MS), 0)
    assert.ok((await s.owner.signInLockout('net-a', T + SIGN_IN_WINDOW_MS)) > 0)
    assert.equal(await s.owner.signInLockout('net-a', T + 2 * SIGN_IN_WINDOW_MS), 0)
  })
}
