/**
 * Issue #15 on Deno: the same sign-ups of every outcome as test/workers/metrics.test.ts, through
 * the same app over Deno KV, and GET /admin/api/metrics must show exactly those deltas, per form
 * and in total; latency lands in the hour of the delivery; the activity and its CSV list them.
 */
import assert from 'node:assert/strict'
import { HOUR_MS, hourOf, type MetricsReport } from '../../src/core/metrics/metrics.ts'
import {
  connect,
  drainAll,
  ENV,
  type Instance,
  instance,
  network,
  OWNER,
} from '../support/deno-relay.ts'
import {
  EXPECTED_DELTAS,
  ORIGINS,
  signupsOfEveryOutcome,
  ZERO_DELIVERY,
  ZERO_INTAKE,
} from '../support/every-outcome.ts'

const FORMS = {
  ...JSON.parse(ENV.FORMS),
  events: { lists: ['9e2f7d10-1111-4c3b-8e42-000000000003'], origins: ['https://events.test'] },
  protected: {
    lists: ['9e2f7d10-1111-4c3b-8e42-000000000001'],
    origins: ['https://site.test'],
    turnstile: true,
  },
}
const METRICS_ENV = {
  ...ENV,
  FORMS: JSON.stringify(FORMS),
  TURNSTILE_SECRET_KEY: 'test-turnstile-secret',
}

let ip = 0
function post(
  i: Instance,
  form: string,
  body: Record<string, unknown>,
  options: { origin?: string; ip?: string } = {}
) {
  return i.call(
    `/subscribe/${form}`,
    {
      method: 'POST',
      headers: { origin: options.origin ?? ORIGINS[form], 'content-type': 'application/json' },
      body: JSON.stringify(body),
    },
    options.ip ?? `203.0.113.${++ip % 250}`
  )
}

async function metrics(i: Instance, query: string): Promise<MetricsReport> {
  const res = await i.call(`/admin/api/metrics?${query}`, { headers: OWNER })
  assert.equal(res.status, 200)
  return (await res.json()) as MetricsReport
}

async function withMetricsInstance(
  run: (t: ReturnType<typeof network> & { relay: Instance; kv: Deno.Kv }) => Promise<void>
) {
  const kv = await Deno.openKv(':memory:')
  const n = network()
  const relay = instance(kv, n.net, METRICS_ENV)
  try {
    assert.equal((await connect(relay, n.net)).status, 303)
    await run({ ...n, relay, kv })
  } finally {
    relay.relay.close()
    kv.close()
  }
}

Deno.test('metrics: every outcome counted exactly, per form and in total', async () => {
  await withMetricsInstance(async ({ relay, cc, clock }) => {
    const report = async (form?: string) =>
      (await metrics(relay, `hours=3${form ? `&form=${form}` : ''}`)).totals
    const before = await report()
    assert.deepEqual(before, { intake: ZERO_INTAKE, delivery: ZERO_DELIVERY })

    await signupsOfEveryOutcome((...args) => post(relay, ...args), cc)
    await drainAll(relay, clock)
    assert.equal(cc.signupCalls.length, 14) // 1 + 1 + 2 + 10: nothing refused reached CC
    assert.deepEqual(await report('newsletter'), EXPECTED_DELTAS.newsletter)
    assert.deepEqual(await report('protected'), EXPECTED_DELTAS.protected)
    assert.deepEqual(await report('events'), EXPECTED_DELTAS.events)
    assert.deepEqual(await report(), EXPECTED_DELTAS.all)

    // The recent activity and its CSV: one row per sign-up, addresses masked.
    const page = await (
      await relay.call('/admin/activity?form=newsletter&status=failed', { headers: OWNER })
    ).text()
    assert.deepEqual(page.match(/<tr data-outcome="\w+"/g), ['<tr data-outcome="dead_lettered"'])
    assert.ok(page.includes('r•••d@example.com'))
    // Queued after a 503, retried, delivered by the drain: three lines in KV, one row.
    const later = (
      await (await relay.call('/admin/activity.csv?form=newsletter', { headers: OWNER })).text()
    )
      .split('\r\n')
      .filter((line) => line.includes('l•••r@example.com'))
    assert.equal(later.length, 1)
    assert.match(
      later[0],
      /,newsletter,delivered,l•••r@example\.com,\d+,sent,Sent to Constant Contact,,/
    )
    const csv = await (
      await relay.call('/admin/activity.csv?form=newsletter&status=refused', { headers: OWNER })
    ).text()
    const refused = csv.split('\r\n').slice(1, -1)
    assert.equal(
      csv.split('\r\n')[0],
      'time_utc,form,outcome,email_masked,latency_ms,status,status_text,reason,updated_utc'
    )
    assert.deepEqual(
      refused.map((line) => line.split(',').slice(2, 8)),
      [
        [
          'origin_not_allowed',
          '',
          '',
          'refused',
          'Refused: origin https://evil.test is not allowed',
          'https://evil.test',
        ],
        ['honeypot', 'b•••t@example.com', '', 'refused', 'Refused: bot trap (honeypot)', ''],
        [
          'invalid_input',
          '',
          '',
          'refused',
          'Refused: email — not an email address',
          'email:emailInvalid',
        ],
      ]
    )
  })
})

Deno.test('metrics: latency lands in the hour of the delivery, as bucket bounds', async () => {
  await withMetricsInstance(async ({ relay, cc, clock }) => {
    const boundary = hourOf(clock.now()) + 2 * HOUR_MS
    clock.set(boundary - 5000)
    cc.latency = { arrive: 0, answer: 40 }
    for (const email of ['l1@example.com', 'l2@example.com', 'l3@example.com']) {
      assert.equal((await post(relay, 'newsletter', { email })).status, 200)
    }
    clock.set(boundary - 1000)
    cc.signupFaults = ['throttled']
    assert.equal((await post(relay, 'newsletter', { email: 'l4@example.com' })).status, 202)
    cc.latency = { arrive: 0, answer: 0 }
    await drainAll(relay, clock)
    assert.ok(clock.now() > boundary)

    const [earlier, later] = (await metrics(relay, 'hours=2&form=newsletter')).hours
    assert.equal(earlier.intake.accepted, 4)
    assert.deepEqual(earlier.delivery, { delivered: 3, dead_lettered: 0, retried: 1 })
    assert.deepEqual(earlier.latency_ms, { p50: 40, p95: 40 })
    assert.deepEqual(later.delivery, { delivered: 1, dead_lettered: 0, retried: 0 })
    assert.deepEqual(later.latency_ms, { p50: 2000, p95: 2000 })
  })
})

Deno.test('metrics: a bad query is 400 invalid_input', async () => {
  await withMetricsInstance(async ({ relay }) => {
    for (const query of ['hours=0', 'hours=2161', 'hours=x', 'form=a/b']) {
      const res = await relay.call(`/admin/api/metrics?${query}`, { headers: OWNER })
      assert.equal(res.status, 400, query)
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_input')
    }
  })
})

Deno.test('metrics: kept 90 days, then the cron deletes them', async () => {
  await withMetricsInstance(async ({ relay, clock, kv }) => {
    const at = clock.now()
    const bot = await post(relay, 'protected', { email: 'old@example.com', _gotcha: 'x' })
    assert.equal(bot.status, 200)
    const honeypots = async () =>
      (await metrics(relay, 'hours=2160&form=protected')).hours.find(
        (h) => h.hour === new Date(hourOf(at)).toISOString()
      )?.intake.honeypot
    assert.equal(await honeypots(), 1)
    clock.set(at + 89 * 86_400_000)
    await relay.relay.tick()
    assert.equal(await honeypots(), 1)
    clock.set(at + 91 * 86_400_000)
    await relay.relay.tick()
    const left = await Array.fromAsync(kv.list({ prefix: ['metrics'] }))
    assert.deepEqual(left, [])
    assert.deepEqual(await Array.fromAsync(kv.list({ prefix: ['activity'] })), [])
  })
})

Deno.test('metrics: refused origins, preflight and post, by form and origin', async () => {
  await withMetricsInstance(async ({ relay }) => {
    const preflight = await relay.call('/subscribe/newsletter', {
      method: 'OPTIONS',
      headers: { origin: 'https://www.example.com', 'access-control-request-method': 'POST' },
    })
    assert.equal(preflight.status, 403)
    const refused = await post(
      relay,
      'newsletter',
      { email: 'a@example.com' },
      {
        origin: 'https://www.example.com',
      }
    )
    assert.equal(refused.status, 403)
    const res = await relay.call('/admin/api/refused-origins', { headers: OWNER })
    const { refused_origins } = (await res.json()) as { refused_origins: Record<string, unknown>[] }
    assert.deepEqual(
      refused_origins.map(({ form_id, origin, today, source }) => [form_id, origin, today, source]),
      [['newsletter', 'https://www.example.com', 2, 'config']]
    )
    assert.equal(
      (await metrics(relay, 'hours=1&form=newsletter')).totals.intake.origin_not_allowed,
      2
    )
  })
})
