/**
 * The KV repos' atomicity, one guarantee at a time, with two KV handles on one file (as two
 * processes would have) racing each other. These are what the Durable Object gets for free.
 * What every adapter must do is test/contract/storage-contract.ts (storage-contract.test.ts).
 */
import assert from 'node:assert/strict'
import { KvAuthStateRepo } from '../../src/adapters/deno/kv/auth-state-repo.ts'
import { migrate, SCHEMA_VERSION } from '../../src/adapters/deno/kv/migrations.ts'
import { KvOutboxRepo } from '../../src/adapters/deno/kv/outbox-repo.ts'
import { KvTokenRepo } from '../../src/adapters/deno/kv/token-repo.ts'
import { withTwoHandles } from '../support/deno-relay.ts'

const payload = (email: string, list = '9e2f7d10-1111-4c3b-8e42-000000000001') => ({
  email_address: email,
  list_memberships: [list],
})

Deno.test('kv: the refresh lease has one holder; it renews, releases and lapses', () =>
  withTwoHandles(async (kvA, kvB) => {
    const a = new KvTokenRepo(kvA)
    const b = new KvTokenRepo(kvB)
    const now = 1_000_000
    const wins = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? a : b).acquireRefreshLease(`h${i}`, now, 60_000)
      )
    )
    assert.equal(wins.filter(Boolean).length, 1)
    const holder = `h${wins.indexOf(true)}`
    assert.equal(await a.acquireRefreshLease(holder, now + 1, 60_000), true) // its own: renewed
    assert.equal(await b.acquireRefreshLease('other', now + 2, 60_000), false)
    await b.releaseRefreshLease('other') // not the holder: no effect
    assert.equal(await b.acquireRefreshLease('other', now + 3, 60_000), false)
    await a.releaseRefreshLease(holder)
    assert.equal(await b.acquireRefreshLease('other', now + 4, 60_000), true)
    // A holder that never releases loses the lease when it lapses.
    assert.equal(await a.acquireRefreshLease('late', now + 60_003, 60_000), false)
    assert.equal(await a.acquireRefreshLease('late', now + 60_004, 60_000), true)
  }))

Deno.test('kv: an OAuth state is claimed once, ever, across handles', () =>
  withTwoHandles(async (kvA, kvB) => {
    const a = new KvAuthStateRepo(kvA)
    const b = new KvAuthStateRepo(kvB)
    const now = Date.now()
    await a.put({ state: 's1', redirectUri: 'https://r/cb', codeVerifier: 'v', expiresAt: now + 1 })
    const claims = await Promise.all(
      Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).claim('s1', now))
    )
    assert.equal(claims.filter((c) => c.status === 'ok').length, 1)
    assert.equal(claims.filter((c) => c.status === 'used').length, 9)
    assert.equal((await b.claim('nope', now)).status, 'unknown')
    await b.put({ state: 's2', redirectUri: 'https://r/cb', codeVerifier: null, expiresAt: now })
    assert.equal((await a.claim('s2', now)).status, 'expired')
    assert.equal((await a.claim('s2', now)).status, 'used') // burned even though expired
  }))

Deno.test('kv: two handles claiming due items never lease the same one', () =>
  withTwoHandles(async (kvA, kvB) => {
    const a = new KvOutboxRepo(kvA)
    const b = new KvOutboxRepo(kvB)
    const now = 5_000
    const ids = await Promise.all(
      Array.from({ length: 30 }, async (_, i) => {
        const stored = await (i % 2 ? a : b).enqueue(
          {
            formId: 'f',
            emailHash: `h${i}`,
            payload: payload(`c${i}@example.com`),
            attempts: 0,
            nextAttemptAt: now,
            now,
          },
          1_000
        )
        return stored.outcome === 'stored' ? stored.id : -1
      })
    )
    assert.equal(new Set(ids).size, 30) // unique ids under concurrent inserts
    assert.ok(!ids.includes(-1))
    const batches = await Promise.all(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? a : b).claimDue(now, 30, now + 15_000))
    )
    const claimed = batches.flat().map((item) => item.id)
    assert.equal(claimed.length, 30)
    assert.equal(new Set(claimed).size, 30)
    assert.deepEqual(await a.claimDue(now + 14_999, 30, now + 30_000), []) // all leased
    assert.equal((await b.claimDue(now + 15_000, 30, now + 30_000)).length, 30) // lease lapsed
    assert.equal(await a.nextDueAt(), now + 30_000)
  }))

Deno.test('kv: concurrent enqueues of one form+email make one merged item', () =>
  withTwoHandles(async (kvA, kvB) => {
    const a = new KvOutboxRepo(kvA)
    const b = new KvOutboxRepo(kvB)
    const lists = Array.from({ length: 8 }, (_, i) => `9e2f7d10-1111-4c3b-8e42-00000000000${i}`)
    const results = await Promise.all(
      lists.map((list, i) =>
        (i % 2 ? a : b).enqueue(
          {
            formId: 'f',
            emailHash: 'same',
            payload: payload('same@example.com', list),
            attempts: 0,
            nextAttemptAt: 100 + i,
            now: 100,
          },
          1_000
        )
      )
    )
    assert.equal(new Set(results.map((r) => r.outcome !== 'full' && r.id)).size, 1)
    assert.equal(results.filter((r) => r.outcome === 'stored').length, 1)
    const figures = await a.figures(100)
    assert.equal(figures.pending, 1)
    const [item] = await b.claimDue(1_000, 10, 20_000)
    assert.deepEqual([...item.payload.list_memberships].sort(), lists)
    // In flight, it takes no merges: a new submission becomes a new item.
    const again = await a.enqueue(
      {
        formId: 'f',
        emailHash: 'same',
        payload: payload('same@example.com'),
        attempts: 0,
        nextAttemptAt: 1_000,
        now: 1_000,
      },
      1_000
    )
    assert.equal(again.outcome, 'stored')
    assert.equal(again.backlog, 2)
  }))

Deno.test('kv: concurrent enqueues from two handles never store past the cap', () =>
  withTwoHandles(async (kvA, kvB) => {
    const a = new KvOutboxRepo(kvA)
    const b = new KvOutboxRepo(kvB)
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) =>
        (i % 2 ? a : b).enqueue(
          {
            formId: 'f',
            emailHash: `h${i}`,
            payload: payload(`u${i}@example.com`),
            attempts: 0,
            nextAttemptAt: 100,
            now: 100,
          },
          10
        )
      )
    )
    assert.equal(results.filter((r) => r.outcome === 'stored').length, 10)
    assert.equal(results.filter((r) => r.outcome === 'full').length, 14)
    assert.equal(await b.backlog(), 10)
    assert.equal((await Array.fromAsync(kvA.list({ prefix: ['outbox'] }))).length, 10)
  }))

Deno.test('kv: the duplicate window remembers accepted outcomes only; counters are exact', () =>
  withTwoHandles(async (kvA, kvB) => {
    const a = new KvOutboxRepo(kvA)
    const b = new KvOutboxRepo(kvB)
    assert.equal(await a.recentOutcome('f:h', 1_000, 60_000), null) // checking records nothing
    assert.equal(await b.recentOutcome('f:h', 1_000, 60_000), null)
    await a.remember('f:h', 1_000, { status: 'queued', digest: 'd' })
    assert.deepEqual(await b.recentOutcome('f:h', 2_000, 60_000), { status: 'queued', digest: 'd' })
    assert.equal(await b.recentOutcome('f:h', 70_000, 60_000), null) // outside the window
    const counts = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).countRequest('2030-01-01'))
    )
    assert.deepEqual(
      [...counts].sort((x, y) => x - y),
      Array.from({ length: 20 }, (_, i) => i + 1)
    )
    assert.equal(await b.requestsOn('2030-01-01'), 20)
  }))

Deno.test('kv: migrate adopts a store from before versioning, once, from two handles at once', () =>
  withTwoHandles(async (kvA, kvB) => {
    const record = { state: 'connected', accessToken: 'kept' }
    await kvA.set(['connection'], record) // what a deployment from before versioning holds
    await Promise.all([migrate(kvA), migrate(kvB), migrate(kvA), migrate(kvB)])
    assert.equal((await kvB.get(['schema_version'])).value, SCHEMA_VERSION)
    assert.deepEqual((await kvB.get(['connection'])).value, record)
    // Again: nothing is written (the versionstamps stay as they were).
    const before = await Array.fromAsync(kvA.list({ prefix: [] }))
    await migrate(kvB)
    assert.deepEqual(await Array.fromAsync(kvA.list({ prefix: [] })), before)
  }))

Deno.test('kv: migration 3 counts the items already stored and indexes the pending ones', () =>
  withTwoHandles(async (kvA, kvB) => {
    // A store at version 2: two pending items (indexed as then), one dead letter.
    const item = (id: number, status: 'pending' | 'dead', createdAt: number) => ({
      id,
      formId: 'f',
      emailHash: `h${id}`,
      payload: payload(`i${id}@example.com`),
      status,
      attempts: 0,
      createdAt,
      nextAttemptAt: createdAt,
      leaseUntil: null,
      lastError: null,
      deadAt: status === 'dead' ? createdAt : null,
    })
    await kvA.set(['schema_version'], 2)
    await kvA.set(['outbox_seq'], 3)
    for (const r of [item(1, 'pending', 500), item(2, 'dead', 400), item(3, 'pending', 300)]) {
      await kvA.set(['outbox', r.id], r)
      if (r.status === 'dead') await kvA.set(['outbox_dead', r.createdAt, r.id], 1)
      else await kvA.set(['outbox_due', r.createdAt, r.id], r.createdAt)
    }
    await Promise.all([migrate(kvA), migrate(kvB)])
    const outbox = new KvOutboxRepo(kvB)
    const figures = await outbox.figures(1_000)
    assert.deepEqual([figures.pending, figures.dead, figures.oldestPendingAt], [2, 1, 300])
    // From here the counts follow every write.
    const [first] = await outbox.claimDue(1_000, 1, 90_000)
    await outbox.delivered(first.id, 1_000)
    assert.deepEqual(
      [(await outbox.figures(1_000)).pending, (await outbox.figures(1_000)).oldestPendingAt],
      [1, 500]
    )
  }))
