/**
 * Safe to leave running on the open internet, on Deno (issue #13 items 1, 2, 3, 5, 6, 7 and 8):
 * the same guarantees as on Workers, and with several instances sharing one KV (two "instances"
 * on one KV file, as on Deno Deploy) the same limits in all: the pacing to CC, the daily quota,
 * the per-client limit and the backlog cap, enforced with atomic KV operations. Every case
 * counts what the model of CC and the alert webhook received.
 */
import assert from 'node:assert/strict'
import { KvOutboxRepo } from '../../src/adapters/deno/kv/outbox-repo.ts'
import { ALERT_WINDOW_MS } from '../../src/core/relay/store-rules.ts'
import { maxPerSecond } from '../support/arrivals.ts'
import {
  connect,
  ENV,
  type Instance,
  instance,
  network,
  status,
  submit,
  withInstance,
  withTwoInstances,
} from '../support/deno-relay.ts'

async function outbox(i: Instance) {
  return (await status(i)).outbox as { pending: number; dead: number; parked: number }
}

function post(i: Instance, fields: Record<string, unknown>, ip: string) {
  return i.call(
    '/subscribe/newsletter',
    {
      method: 'POST',
      headers: { origin: 'https://site.test', 'content-type': 'application/json' },
      body: JSON.stringify(fields),
    },
    ip
  )
}

Deno.test('limits: two instances share one per-network budget; an IPv6 /64 is one network', () =>
  withTwoInstances(async ({ a, b, net }) => {
    assert.equal((await connect(a, net)).status, 303)
    const answers = []
    for (let i = 0; i < 10; i++) {
      // Alternate instances, addresses inside one /64, and spellings of them.
      const ip = i % 3 === 0 ? `2001:db8:9:1::${i + 1}` : `2001:0DB8:0009:0001:${i}:0:0:1`
      answers.push((await submit(i % 2 ? a : b, `budget${i}@example.com`, ip)).status)
    }
    assert.ok(answers.every((s) => s === 200 || s === 202))
    const reached = net.cc.signupCalls.length
    assert.equal((await submit(a, 'over-a@example.com', '2001:db8:9:1:abcd::1')).status, 429)
    assert.equal((await submit(b, 'over-b@example.com', '2001:db8:9:1::ffff')).status, 429)
    assert.equal(net.cc.signupCalls.length, reached)
    assert.notEqual((await submit(b, 'other@example.com', '2001:db8:9:2::1')).status, 429)
    // An IPv4 peer seen through a dual-stack socket is its IPv4 address.
    for (let i = 0; i < 10; i++) await submit(i % 2 ? a : b, `v4-${i}@example.com`, '192.0.2.9')
    assert.equal((await submit(a, 'v4-over@example.com', '::ffff:192.0.2.9')).status, 429)
  }))

Deno.test('limits: two instances never pass the backlog cap together; nothing refused reaches CC', () =>
  withTwoInstances(
    async ({ a, b, net }) => {
      // Not connected: every sign-up is kept for later (parked), none is sent.
      const answers = await Promise.all(
        Array.from({ length: 16 }, (_, i) =>
          submit(i % 2 ? a : b, `cap${i}@example.com`, `198.51.100.${i + 1}`)
        )
      )
      const statuses = answers.map((r) => r.status)
      const stored = statuses.filter((s) => s === 202).length
      // Racing, the instances may refuse early (each counts only its own sign-ups in flight),
      // never late: the cap is one atomic check in KV.
      assert.ok(stored <= 10)
      assert.equal(statuses.filter((s) => s === 503).length, 16 - stored)
      assert.equal((await outbox(b)).pending, stored)
      // One at a time, the backlog fills to exactly the cap.
      for (let i = 0; (await outbox(a)).pending < 10; i++)
        assert.equal(
          (await submit(i % 2 ? a : b, `more${i}@example.com`, `10.0.0.${i}`)).status,
          202
        )
      const refused = await submit(a, 'eleventh@example.com', '10.0.1.1')
      assert.equal(refused.status, 503)
      assert.equal(((await refused.json()) as { error: string }).error, 'outbox_full')
      assert.ok(Number(refused.headers.get('retry-after')) > 0)
      assert.equal((await outbox(b)).pending, 10)
      assert.equal(net.cc.signupCalls.length, 0)
      // Nothing accepted is dropped: the owner connects and all ten are delivered.
      assert.equal((await connect(a, net)).status, 303)
      for (let round = 0; round < 5 && (await outbox(a)).pending > 0; round++) {
        net.clock.advance(1_100)
        await Promise.all([a.relay.service.drain(), b.relay.service.drain()])
      }
      assert.equal(net.cc.contacts.size, 10)
      assert.ok(maxPerSecond(net.cc.signupCalls.map((c) => c.at)) <= 4)
      // The backlog alarm went off at 90 %, once, whichever instance crossed it; and at 50 % once
      // before it, unless the racing sign-ups took the backlog past both between two checks (an
      // alarm reports the highest level it finds crossed: store-rules.ts `backlogAlarm`).
      const codes = () =>
        net.alerts
          .filter((x) => x.event === 'backlog')
          .map((x) => (x.reason as { code: string }).code)
      const first = codes()
      assert.equal(first.length, 1) // a second within 15 minutes of it is held back…
      net.clock.advance(ALERT_WINDOW_MS)
      await a.relay.tick() // …and sent by the cron once the window is over
      assert.deepEqual(
        codes(),
        first[0] === 'backlog_50' ? ['backlog_50', 'backlog_90'] : ['backlog_90']
      )
    },
    { ...ENV, OUTBOX_MAX_PENDING: '10' }
  ))

Deno.test('limits: the daily quota is one count for both instances', () =>
  withTwoInstances(
    async ({ a, b, net }) => {
      assert.equal((await connect(a, net)).status, 303)
      const answers = []
      for (let i = 0; i < 8; i++) {
        net.clock.advance(1_100) // a free pacing slot each time: only the quota can hold them
        answers.push(
          (await submit(i % 2 ? a : b, `quota${i}@example.com`, `203.0.113.${i}`)).status
        )
      }
      // Connect read the account summary: one of the five requests of the day.
      assert.deepEqual(answers, [200, 200, 200, 200, 202, 202, 202, 202])
      assert.equal(net.cc.signupCalls.length, 4)
      const figures = (await status(b)).outbox as { quota_used_today: number; parked_until: string }
      assert.equal(figures.quota_used_today, 5)
      assert.ok(figures.parked_until) // parked until 00:00 UTC
    },
    { ...ENV, CC_DAILY_QUOTA: '5' }
  ))

Deno.test('deno: a 403 from sign_up_form parks the outbox; one alert, no dead letter', () =>
  withInstance(async ({ relay, net }) => {
    assert.equal((await connect(relay, net)).status, 303)
    net.cc.signupFaults = ['403']
    assert.equal((await submit(relay, 'f1@example.com', '192.0.2.61')).status, 202)
    assert.equal((await submit(relay, 'f2@example.com', '192.0.2.62')).status, 202)
    const s = await status(relay)
    assert.equal(s.state, 'needs_reauth')
    assert.equal((s.last_error as { code: string }).code, 'cc_forbidden')
    assert.equal(net.cc.signupCalls.length, 1)
    assert.deepEqual(net.alertEvents(), ['needs_reauth'])
    assert.equal(await relay.relay.service.drain(), 0)
    assert.equal((await outbox(relay)).dead, 0)
    assert.equal((await connect(relay, net)).status, 303)
    assert.equal(await relay.relay.service.drain(), 2)
    assert.deepEqual([...net.cc.contacts.keys()].sort(), ['f1@example.com', 'f2@example.com'])
  }))

Deno.test('deno: a grant without contact_data is needs_reauth missing_scope', () =>
  withInstance(async ({ relay, net }) => {
    net.cc.grantScope = 'account_read offline_access'
    const callback = await connect(relay, net)
    assert.equal(callback.status, 200)
    assert.match(await callback.text(), /without access to contacts/)
    const s = await status(relay)
    assert.equal(s.state, 'needs_reauth')
    assert.equal((s.last_error as { code: string }).code, 'missing_scope')
  }))

Deno.test('deno: alerts of a kind are coalesced, and counted on /admin/status', () =>
  withInstance(async ({ relay, net }) => {
    assert.equal((await connect(relay, net)).status, 303)
    for (let i = 0; i < 3; i++) {
      net.clock.advance(1_100)
      net.cc.signupFaults = ['400']
      assert.equal((await submit(relay, `dead${i}@example.com`, `192.0.2.7${i}`)).status, 502)
    }
    assert.deepEqual(net.alertEvents(), ['dead_letter'])
    const alerts = (await status(relay)).alerts as { event: string; held: number }[]
    assert.equal(alerts.find((x) => x.event === 'dead_letter')?.held, 2)
    net.clock.advance(ALERT_WINDOW_MS)
    await relay.relay.tick()
    assert.deepEqual(net.alertEvents(), ['dead_letter', 'dead_letter'])
    assert.equal(net.alerts[1].suppressed, 1)
  }))

Deno.test('deno: within the duplicate window a changed repeat is sent; an identical one is not', () =>
  withInstance(async ({ relay, net }) => {
    assert.equal((await connect(relay, net)).status, 303)
    const email = 'repeat@example.com'
    assert.equal((await post(relay, { email, first_name: 'Wrong' }, '192.0.2.81')).status, 200)
    net.clock.advance(1_100)
    assert.equal((await post(relay, { email, first_name: 'Right' }, '192.0.2.82')).status, 200)
    assert.equal((await post(relay, { email, first_name: 'Right' }, '192.0.2.83')).status, 200)
    assert.deepEqual(
      net.cc.signupCalls.map((c) => c.body.first_name),
      ['Wrong', 'Right']
    )
    assert.equal(net.cc.contacts.get(email)?.body.first_name, 'Right')
  }))

Deno.test('deno: status reads the running counts, not the outbox (a fixed number of KV reads)', async () => {
  const kv = await Deno.openKv(':memory:')
  let listed = 0
  // Counts every entry a list yields, and every key a get or getMany reads.
  const counting = new Proxy(kv, {
    get(target, prop) {
      const value = Reflect.get(target, prop, target)
      if (prop === 'list')
        return (...args: Parameters<Deno.Kv['list']>) => {
          const iter = target.list(...args)
          return {
            [Symbol.asyncIterator]: async function* () {
              for await (const entry of iter) {
                listed++
                yield entry
              }
            },
          }
        }
      if (prop === 'get')
        return (...args: Parameters<Deno.Kv['get']>) => {
          listed++
          return target.get(...args)
        }
      if (prop === 'getMany')
        return (keys: Deno.KvKey[]) => {
          listed += keys.length
          return target.getMany(keys)
        }
      return typeof value === 'function' ? value.bind(target) : value
    },
  }) as Deno.Kv
  const { net } = network()
  const relay = instance(counting, net)
  try {
    const reads = async () => {
      listed = 0
      await status(relay)
      return listed
    }
    const outbox = new KvOutboxRepo(kv)
    const fill = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const payload = { email_address: `r${i}@example.com`, list_memberships: ['l'] }
        const item = { formId: 'newsletter', emailHash: `h${i}`, payload, attempts: 0 }
        await outbox.enqueue({ ...item, nextAttemptAt: 0, now: i }, 1e9)
      }
    }
    await fill(0, 1)
    const one = await reads()
    await fill(1, 300)
    assert.equal(await reads(), one)
    assert.equal(((await status(relay)).outbox as { pending: number }).pending, 300)
  } finally {
    relay.relay.close()
    kv.close()
  }
})
