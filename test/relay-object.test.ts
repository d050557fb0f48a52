/**
 * The Relay Durable Object addressed directly, one object name per test (as the workers-sdk
 * fixtures do): alarms over backdated rows, and what survives an eviction. Everything else about
 * the object is tested through the worker's routes.
 */
import { evictDurableObject, runDurableObjectAlarm, runInDurableObject } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { describe, expect, it } from 'vitest'
import { pkceChallenge, randomToken } from '../src/core/oauth.ts'
import { cc, clock, net } from './edge.ts'
import { AUTHORIZE_URL, LIST_1 } from './support/network.ts'

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
