/**
 * The webhooks part of the storage contract (WebhookRepo), run against SQLite and Deno KV by the
 * same runners as storage-contract.ts.
 */
import assert from 'node:assert/strict'
import { RETRY_DELAYS_MS } from '../../src/core/webhooks/delivery-rules.ts'
import type { NewDelivery, WebhookAttempt } from '../../src/core/webhooks/repo.ts'
import type { ContractRunner, StoreUnderTest } from './storage-contract.ts'

const T = Date.UTC(2030, 0, 1, 12)
const H = 3600_000
const endpoint = {
  id: 'crm',
  url: 'https://r.test/h',
  events: ['signup.delivered' as const],
  forms: null,
}
const delivery = (n: number, endpointId = 'crm'): NewDelivery => ({
  endpointId,
  messageId: `msg_${n}`,
  type: 'signup.delivered',
  body: `{"n":${n}}`,
})
const attempt = (over: Partial<WebhookAttempt>): WebhookAttempt => ({
  messageId: 'msg_1',
  type: 'signup.delivered',
  at: T,
  status: 500,
  error: null,
  durationMs: 3,
  outcome: 'retrying',
  nextRetryAt: T + RETRY_DELAYS_MS[0],
  ...over,
})

export function webhookContract({ test, withStore }: ContractRunner): void {
  const contract = (name: string, body: (s: StoreUnderTest) => Promise<void>) =>
    test(`webhooks: ${name}`, () => withStore(body))

  contract(
    'save creates with the secret, an update keeps it; remove takes everything',
    async (s) => {
      assert.deepEqual(await s.webhooks.save(endpoint, 'whsec_a', T), { created: true })
      assert.deepEqual(await s.webhooks.save({ ...endpoint, forms: ['f'] }, 'whsec_b', T), {
        created: false,
      })
      const [saved] = await s.webhooks.endpoints()
      assert.equal(saved.secret, 'whsec_a')
      assert.deepEqual(saved.forms, ['f'])
      await s.webhooks.enqueue([delivery(1)], T, 10)
      assert.equal(await s.webhooks.remove('crm'), true)
      assert.equal(await s.webhooks.remove('crm'), false)
      assert.deepEqual(await s.webhooks.claimDue(T, T + 1, 10), [])
      assert.equal(await s.webhooks.nextDueAt(), null)
    }
  )

  contract('at maxPending an endpoint drops and counts; others still queue', async (s) => {
    await s.webhooks.save(endpoint, 'whsec_a', T)
    await s.webhooks.save({ ...endpoint, id: 'other' }, 'whsec_b', T)
    assert.deepEqual(await s.webhooks.enqueue([delivery(1), delivery(2)], T, 2), [])
    assert.deepEqual(await s.webhooks.enqueue([delivery(3), delivery(4, 'other')], T, 2), ['crm'])
    const byId = Object.fromEntries((await s.webhooks.endpoints()).map((e) => [e.id, e]))
    assert.deepEqual([byId.crm.pending, byId.crm.dropped], [2, 1])
    assert.deepEqual([byId.other.pending, byId.other.dropped], [1, 0])
  })

  contract('a claim leases; a retry is due at nextRetryAt; a success deletes', async (s) => {
    await s.webhooks.save(endpoint, 'whsec_a', T)
    await s.webhooks.enqueue([delivery(1)], T, 10)
    const [claimed] = await s.webhooks.claimDue(T, T + 30_000, 4)
    assert.equal(claimed.messageId, 'msg_1')
    assert.equal(claimed.attempts, 0)
    assert.deepEqual(await s.webhooks.claimDue(T + 1, T + 30_000, 4), [])
    assert.deepEqual(await s.webhooks.record('crm', claimed.id, attempt({})), { disabled: false })
    assert.equal(await s.webhooks.nextDueAt(), T + RETRY_DELAYS_MS[0])
    const [again] = await s.webhooks.claimDue(T + RETRY_DELAYS_MS[0], T + H, 4)
    assert.equal(again.attempts, 1)
    const ok = attempt({ status: 204, outcome: 'delivered', nextRetryAt: null, at: T + 6000 })
    await s.webhooks.record('crm', again.id, ok)
    const [e] = await s.webhooks.endpoints()
    assert.deepEqual([e.pending, e.failingSince, e.lastDelivery?.status], [0, null, 204])
    assert.equal(await s.webhooks.nextDueAt(), null)
    const log = await s.webhooks.attempts('crm', 50)
    assert.deepEqual(
      log.map((a) => a.outcome),
      ['delivered', 'retrying']
    )
  })

  contract(
    'failing 24 h disables once; a disabled endpoint is not claimed; saving re-enables',
    async (s) => {
      await s.webhooks.save(endpoint, 'whsec_a', T)
      await s.webhooks.enqueue([delivery(1)], T, 10)
      assert.deepEqual(await s.webhooks.record('crm', null, attempt({})), { disabled: false })
      const late = attempt({ at: T + 24 * H, nextRetryAt: T + 25 * H })
      assert.deepEqual(await s.webhooks.record('crm', null, late), { disabled: true })
      assert.deepEqual(await s.webhooks.claimDue(T + 48 * H, T + 49 * H, 4), [])
      assert.equal(await s.webhooks.nextDueAt(), null)
      await s.webhooks.save(endpoint, 'whsec_b', T + 48 * H)
      assert.equal((await s.webhooks.claimDue(T + 48 * H, T + 49 * H, 4)).length, 1)
    }
  )

  contract('the log keeps the last 50 attempts; a gone endpoint records nothing', async (s) => {
    await s.webhooks.save(endpoint, 'whsec_a', T)
    for (let i = 0; i < 55; i++) await s.webhooks.record('crm', null, attempt({ at: T + i }))
    const log = await s.webhooks.attempts('crm', 100)
    assert.equal(log.length, 50)
    assert.equal(log[0].at, T + 54)
    assert.equal(await s.webhooks.record('gone', null, attempt({})), null)
  })
}
