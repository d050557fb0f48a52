/**
 * Zero lost sign-ups on Deno: the outbox in Deno KV, mirroring test/workers/outbox.test.ts.
 * Wake-ups are recorded rather than timed, and the tests call drain() (what a wake-up or the cron
 * would do) after moving the clock past the retry time.
 */
import assert from 'node:assert/strict'
import { maxPerSecond } from '../support/arrivals.ts'
import { replayKeepsToTheCap } from '../support/dead-letter-replay.ts'
import {
  connect,
  type Instance,
  instance,
  network,
  removeKv,
  status,
  submit,
  tempKvPath,
  withConfiguredRelay,
  withInstance,
  withTwoInstances,
} from '../support/deno-relay.ts'
import { LIST_1, LIST_2 } from '../support/network.ts'

async function outbox(i: Instance) {
  return (await status(i)).outbox as { pending: number; dead: number; delivered_today: number }
}

async function keys(kv: Deno.Kv, prefix: Deno.KvKey): Promise<Deno.KvKey[]> {
  return (await Array.fromAsync(kv.list({ prefix }))).map((e) => e.key)
}

Deno.test('outbox: CC 503 → queued (202) → delivered after recovery, payload gone', async () => {
  await withInstance(async ({ relay, cc, net, clock, kv }) => {
    assert.equal((await connect(relay, net)).status, 303)
    cc.down = true
    const res = await submit(relay, 'storm@example.com')
    assert.equal(res.status, 202) // stored, never "delivered"
    assert.equal((await outbox(relay)).pending, 1)
    assert.ok(relay.wakes.length > 0) // the service asked to be woken for the retry
    assert.equal(await relay.relay.service.drain(), 0) // not due yet: nothing sent
    assert.equal(cc.signupCalls.length, 1)

    clock.advance(10 * 60_000)
    assert.equal(await relay.relay.service.drain(), 0) // due, but CC is still down
    assert.equal(cc.signupCalls.length, 2)
    assert.equal((await outbox(relay)).pending, 1)

    cc.down = false
    clock.advance(10 * 60_000)
    assert.equal(await relay.relay.service.drain(), 1)
    assert.deepEqual([...cc.contacts.keys()], ['storm@example.com'])
    const figures = await outbox(relay)
    assert.equal(figures.pending, 0)
    assert.equal(figures.delivered_today, 1)
    // Privacy: a delivered sign-up leaves no payload (no address) behind in KV.
    assert.deepEqual(await keys(kv, ['outbox']), [])
    assert.deepEqual(await keys(kv, ['outbox_due']), [])
    assert.deepEqual(await keys(kv, ['outbox_key']), [])
  })
})

Deno.test('outbox: a queued sign-up survives a restart and is delivered by the new process', async () => {
  const path = await tempKvPath()
  const { net, cc, clock } = network()
  try {
    const kv1 = await Deno.openKv(path)
    const first = instance(kv1, net)
    assert.equal((await connect(first, net)).status, 303)
    cc.down = true
    assert.equal((await submit(first, 'restart@example.com')).status, 202)
    // The process goes away: its timers, its memory, its KV handle.
    first.relay.close()
    kv1.close()

    cc.down = false
    clock.advance(10 * 60_000)
    const kv2 = await Deno.openKv(path)
    const second = instance(kv2, net)
    try {
      assert.equal((await outbox(second)).pending, 1)
      assert.equal(await second.relay.service.drain(), 1)
      assert.ok(cc.contacts.has('restart@example.com'))
      assert.equal((await outbox(second)).pending, 0)
      assert.equal(cc.tokenCalls.length, 1) // the stored token set came back too
    } finally {
      second.relay.close()
      kv2.close()
    }
  } finally {
    await removeKv(path)
  }
})

Deno.test('outbox: two instances draining at once send every item once, 4 a second in all', async () => {
  await withTwoInstances(async ({ a, b, cc, net, clock }) => {
    assert.equal((await connect(a, net)).status, 303)
    cc.down = true
    const emails = Array.from({ length: 8 }, (_, i) => `both${i}@example.com`)
    const answers = await Promise.all(
      emails.map((e, i) => submit(i % 2 ? a : b, e, `192.0.2.${20 + i}`))
    )
    assert.ok(answers.every((r) => r.status === 202))
    cc.down = false
    cc.signupCalls = []
    // CC's own limit stays at 4 a second: the instances share the pacing slots in KV.
    clock.advance(10 * 60_000)
    const [sentA, sentB] = await Promise.all([a.relay.service.drain(), b.relay.service.drain()])
    assert.equal(sentA + sentB, 8)
    assert.equal(cc.signupCalls.length, 8) // no item was leased to both, none was throttled
    assert.equal(new Set(cc.signupCalls.map((c) => c.body.email_address)).size, 8)
    assert.ok(cc.signupCalls.every((c) => c.answered === 200 || c.answered === 201))
    assert.equal(maxPerSecond(cc.signupCalls.map((c) => c.at)), 4)
    assert.equal((await outbox(b)).pending, 0)
  })
})

Deno.test('outbox: queued duplicates of one email merge into one delivery with both lists', async () => {
  const kv = await Deno.openKv(':memory:')
  const { net, cc, clock } = network()
  const relay = instance(kv, net)
  const list1 = LIST_1
  const list2 = LIST_2
  const post = (list: string, name: string, ip: string) =>
    relay.call(
      '/subscribe/newsletter',
      {
        method: 'POST',
        headers: { origin: 'https://site.test', 'content-type': 'application/json' },
        body: JSON.stringify({ email: 'merge@example.com', list: [list], first_name: name }),
      },
      ip
    )
  try {
    assert.equal((await connect(relay, net)).status, 303)
    cc.down = true
    assert.equal((await post(list1, 'Old', '192.0.2.251')).status, 202)
    // The duplicate window would absorb the resubmission: clear it, as the Workers test does.
    for (const key of await keys(kv, ['recent_submissions'])) await kv.delete(key)
    assert.equal((await post(list2, 'New', '192.0.2.252')).status, 202)
    assert.equal((await outbox(relay)).pending, 1)
    cc.down = false
    clock.advance(10 * 60_000)
    assert.equal(await relay.relay.service.drain(), 1)
    assert.deepEqual(cc.contacts.get('merge@example.com')?.body, {
      email_address: 'merge@example.com',
      first_name: 'New',
      list_memberships: [list1, list2],
    })
  } finally {
    relay.relay.close()
    kv.close()
  }
})

Deno.test('outbox: a 400 becomes a dead letter; Retry delivers it; Delete removes one', async () => {
  const kv = await Deno.openKv(':memory:')
  const { net, cc } = network()
  const relay = instance(kv, net)
  const { service } = relay.relay
  try {
    assert.equal((await connect(relay, net)).status, 303)
    cc.signupFaults = ['400']
    assert.equal((await submit(relay, 'deadletter@example.com', '192.0.2.31')).status, 502)
    const [letter] = await service.deadLetters()
    assert.equal(letter.email_masked, 'd•••r@example.com')
    assert.equal(letter.error?.error_key, 'contacts.api.validation.error')
    assert.equal((await outbox(relay)).dead, 1)
    assert.deepEqual(net.alertEvents(), ['dead_letter'])

    assert.deepEqual(await service.retryDeadLetter(letter.id), { revived: 1, waiting: 0 })
    assert.deepEqual(await service.retryDeadLetter(letter.id), { revived: 0, waiting: 0 }) // once, not twice
    assert.equal(await service.drain(), 1)
    assert.ok(cc.contacts.has('deadletter@example.com'))
    const after = await outbox(relay)
    assert.equal(after.pending, 0)
    assert.equal(after.dead, 0)

    cc.signupFaults = ['400']
    assert.equal((await submit(relay, 'delete-me@example.com', '192.0.2.32')).status, 502)
    const [doomed] = await service.deadLetters()
    assert.equal(await service.deleteDeadLetter(doomed.id), true)
    assert.equal(await service.deleteDeadLetter(doomed.id), false)
    assert.equal((await outbox(relay)).dead, 0)
    assert.deepEqual(await keys(kv, ['outbox']), [])
  } finally {
    relay.relay.close()
    kv.close()
  }
})

Deno.test('outbox: Retry all replays only what fits under OUTBOX_MAX_PENDING, and says what waits', () =>
  withConfiguredRelay({ OUTBOX_MAX_PENDING: '10' }, replayKeepsToTheCap))
