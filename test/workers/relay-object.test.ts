/**
 * The Relay Durable Object addressed directly, one object name per test (as the workers-sdk
 * fixtures do): alarms over backdated rows, what survives an eviction, and how many rows its
 * status reads. Everything else about the object is tested through the worker's routes.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { SqlOutboxRepo } from '../../src/adapters/workers/sqlite/outbox-repo.ts'
import { pkceChallenge, randomToken } from '../../src/core/connection/oauth.ts'
import type { RelayStatus } from '../../src/core/relay/backend.ts'
import { cc, clock, net } from '../support/edge.ts'
import { AUTHORIZE_URL, LIST_1 } from '../support/network.ts'

let objects = 0
const REDIRECT_URI = 'https://relay.test/oauth/callback'

/** A fresh Relay object, connected through the same RPC calls the worker's OAuth routes make. */
async function connectedObject() {
  const stub = env.RELAY.getByName(`relay-object-test-${++objects}`)
  const state = randomToken()
  const codeVerifier = randomToken(48)
  await stub.beginAuthorization({
    state,
    redirectUri: REDIRECT_URI,
    codeVerifier,
    expiresAt: clock.now() + 600_000,
  })
  const authorize = new URL(AUTHORIZE_URL)
  authorize.search = new URLSearchParams({
    client_id: '0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10',
    redirect_uri: REDIRECT_URI,
    state,
    code_challenge: await pkceChallenge(codeVerifier),
    scope: 'contact_data offline_access',
  }).toString()
  const code = (await net.consent(authorize)).searchParams.get('code') ?? undefined
  expect(await stub.completeAuthorization({ state, code })).toMatchObject({ ok: true })
  net.reset()
  return stub
}

function insertPending(
  stub: DurableObjectStub,
  email: string,
  nextAttemptAt: number
): Promise<void> {
  return runInDurableObject(stub, (_i, state) => {
    state.storage.sql.exec(
      `INSERT INTO outbox (form_id, email_hash, payload, status, attempts, created_at, next_attempt_at)
       VALUES ('newsletter', ?, ?, 'pending', 2, ?, ?)`,
      `hash-${email}`,
      JSON.stringify({ email_address: email, list_memberships: [LIST_1] }),
      nextAttemptAt,
      nextAttemptAt
    )
  })
}

const alarmOf = (stub: DurableObjectStub) =>
  runInDurableObject(stub, (_i, state) => state.storage.getAlarm())

describe('alarms', () => {
  it('an alarm sends the due rows, leaves the others, and wakes again when they are due', async () => {
    const stub = await connectedObject()
    await insertPending(stub, 'due1@example.com', clock.now() - 60_000)
    await insertPending(stub, 'due2@example.com', clock.now() - 1)
    const later = clock.now() + 3_600_000
    await insertPending(stub, 'later@example.com', later)
    await runInDurableObject(stub, (_i, state) => state.storage.setAlarm(clock.now()))
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect([...cc.contacts.keys()].sort()).toEqual(['due1@example.com', 'due2@example.com'])
    expect(await alarmOf(stub)).toBe(later)
    clock.set(later)
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(cc.contacts.has('later@example.com')).toBe(true)
    expect(await alarmOf(stub)).toBeNull() // nothing left: no wake-up asked for
  })
})

describe('eviction', () => {
  it('a queued sign-up and its wake-up survive an eviction; the alarm then delivers it', async () => {
    const stub = await connectedObject()
    cc.down = true
    const queued = await stub.submit({
      formId: 'newsletter',
      payload: { email_address: 'evicted@example.com', list_memberships: [LIST_1] },
      emailHash: 'hash-evicted',
      clientKey: 'client-1',
      digest: 'digest-evicted',
    })
    expect(queued).toEqual({ status: 'queued' })
    const wakeAt = await alarmOf(stub)
    expect(wakeAt).not.toBeNull()
    await evictDurableObject(stub)
    cc.down = false
    expect(await alarmOf(stub)).toBe(wakeAt)
    clock.set(wakeAt as number)
    expect(await runDurableObjectAlarm(stub)).toBe(true)
    expect(cc.contacts.has('evicted@example.com')).toBe(true)
    expect((await stub.status()).outbox.pending).toBe(0)
  })
})

// O(1) health and status (issue #13 item 3): /healthz and /admin/status read running counts, kept
// in the same statement as the rows they count (migration 3's triggers), and never scan the
// outbox. Measured with SQLite's own count of the rows each statement read (`rowsRead`).

const DEAD = { status: 400, errorKey: 'bad', message: 'bad', at: 0 }
type RelayStub = ReturnType<typeof env.RELAY.getByName>

/** Rows SQLite read for every statement `run` executes on `sql`, and what `run` returned. */
async function rowsReadBy<T>(sql: SqlStorage, run: () => Promise<T>): Promise<[number, T]> {
  const exec = sql.exec
  const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = []
  sql.exec = ((query: string, ...params: SqlStorageValue[]) => {
    const cursor = exec.call(sql, query, ...params)
    cursors.push(cursor)
    return cursor
  }) as typeof sql.exec
  try {
    const result = await run()
    return [cursors.reduce((sum, c) => sum + c.rowsRead, 0), result]
  } finally {
    sql.exec = exec
  }
}

/** Adds `pending` queued items and `dead` dead letters to an object's outbox. */
function fill(stub: RelayStub, pending: number, dead: number) {
  return runInDurableObject(stub, async (_r, state) => {
    const outbox = new SqlOutboxRepo(state.storage.sql)
    const now = clock.now()
    for (let i = 0; i < pending + dead; i++) {
      const email = `count${i}@example.com`
      const payload = { email_address: email, list_memberships: [LIST_1] }
      const item = { formId: 'newsletter', emailHash: email, payload, attempts: 0, now }
      const stored = await outbox.enqueue({ ...item, nextAttemptAt: now + 3_600_000 }, 1e9)
      if (i >= pending && stored.outcome === 'stored')
        await outbox.kill({ id: stored.id, formId: 'newsletter', payload }, DEAD, now)
    }
  })
}

/** Rows read by the object's status() (what /healthz and /admin/status call). */
function statusRowsRead(stub: RelayStub): Promise<[number, RelayStatus]> {
  return runInDurableObject(stub, (instance, state) =>
    rowsReadBy(state.storage.sql, () => instance.status())
  )
}

describe('running counts', () => {
  it('status reads the same few rows with 3,000 items as with none', async () => {
    const stub = await connectedObject()
    await stub.status() // the delivery blocks row is read once, then kept (sqlite/outbox-repo.ts)
    const [emptyRows, empty] = await statusRowsRead(stub)
    expect([empty.outbox.pending, empty.outbox.dead]).toEqual([0, 0])
    await fill(stub, 2_950, 50)
    const [fullRows, full] = await statusRowsRead(stub)
    expect([full.outbox.pending, full.outbox.dead]).toEqual([2_950, 50])
    expect(full.outbox.oldest_pending_age_seconds).toBe(0)
    expect(fullRows).toBe(emptyRows)
    expect(fullRows).toBeLessThan(20)
  })

  it('the counts follow rows written outside the repos too (the triggers count every row)', async () => {
    const stub = await connectedObject()
    await fill(stub, 150, 0)
    await runInDurableObject(stub, (_r, state) => {
      const sql = state.storage.sql
      sql.exec(
        `INSERT INTO outbox (form_id, email_hash, payload, status, attempts, created_at, next_attempt_at)
         VALUES ('newsletter', 'h-raw', '{}', 'pending', 0, 0, 0)`
      )
      sql.exec(`UPDATE outbox SET status = 'dead', dead_at = 1 WHERE email_hash = 'h-raw'`)
      sql.exec(`DELETE FROM outbox WHERE status = 'pending' AND id IN
                  (SELECT id FROM outbox WHERE status = 'pending' LIMIT 100)`)
    })
    const after = (await statusRowsRead(stub))[1].outbox
    expect([after.pending, after.dead]).toEqual([50, 1])
  })

  it('finds the oldest pending item by an index seek, not a scan', async () => {
    const stub = await connectedObject()
    const plan = await runInDurableObject(stub, (_r, state) =>
      state.storage.sql
        .exec<{ detail: string }>(
          `EXPLAIN QUERY PLAN SELECT MIN(created_at) AS oldest FROM outbox WHERE status = 'pending'`
        )
        .toArray()
        .map((row) => row.detail)
        .join('; ')
    )
    expect(plan).toContain('outbox_pending_since')
    expect(plan).not.toMatch(/SCAN outbox(?! USING)/)
  })
})
