/**
 * Forms made in the dashboard, on Deno: stored in KV, so a change made by one instance applies to
 * the very next sign-up on another (whose copy of the form is stale), and survives a restart. A
 * deployment without FORMS starts with no forms at all.
 */
import assert from 'node:assert/strict'
import {
  connect,
  drainAll,
  ENV,
  type Instance,
  instance,
  network,
  OWNER,
  removeKv,
  tempKvPath,
  withTwoInstances,
} from '../support/deno-relay.ts'
import { LIST_1, LIST_2, SOURCE_FIELD } from '../support/network.ts'

const { FORMS: _forms, ...NO_FORMS } = ENV
const SITE = 'https://shop.test'

const put = (i: Instance, id: string, profile: unknown) =>
  i.call(`/admin/api/forms/${id}`, {
    method: 'PUT',
    headers: { ...OWNER, 'content-type': 'application/json' },
    body: JSON.stringify(profile),
  })
const signup = (i: Instance, email: string, ip: string) =>
  i.call(
    '/subscribe/shop',
    {
      method: 'POST',
      headers: { origin: SITE, 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    },
    ip
  )
const listed = async (i: Instance) =>
  (
    (await (await i.call('/admin/api/forms', { headers: OWNER })).json()) as {
      forms: { id: string; source: string }[]
    }
  ).forms

Deno.test('forms: without FORMS there are none; one made on one instance serves the other at once', async () => {
  await withTwoInstances(async ({ a, b, ...n }) => {
    assert.deepEqual(await listed(a), [])
    assert.equal((await connect(a, n.net)).status, 303)
    assert.equal((await put(a, 'shop', { lists: [LIST_1], origins: [SITE] })).status, 201)
    // The Connect's account summary and the catalog's lists, fields and tags took the 4 slots.
    n.clock.advance(1100)
    assert.equal((await signup(b, 'one@example.com', '192.0.2.11')).status, 200)
    // B keeps a copy now. A changes the form; B's next sign-up is checked against the change.
    assert.equal((await put(a, 'shop', { lists: [LIST_2], origins: [SITE] })).status, 200)
    n.clock.advance(1100)
    assert.equal((await signup(b, 'two@example.com', '192.0.2.12')).status, 200)
    assert.deepEqual(
      n.cc.signupCalls.map((c) => c.body.list_memberships),
      [[LIST_1], [LIST_2]]
    )
    // Deleted on A: refused on B at once.
    assert.equal(
      (await a.call('/admin/api/forms/shop', { method: 'DELETE', headers: OWNER })).status,
      204
    )
    const gone = await signup(b, 'three@example.com', '192.0.2.13')
    assert.equal(gone.status, 404)
    await gone.body?.cancel()
    assert.equal(n.cc.signupCalls.length, 2)
  }, NO_FORMS)
})

Deno.test('forms: a form survives a restart (the KV reopened by a new process)', async () => {
  const path = await tempKvPath()
  const n = network()
  try {
    let kv = await Deno.openKv(path)
    let relay = instance(kv, n.net, NO_FORMS)
    assert.equal((await connect(relay, n.net)).status, 303)
    assert.equal((await put(relay, 'shop', { lists: [LIST_1], origins: [SITE] })).status, 201)
    relay.relay.close()
    kv.close()

    kv = await Deno.openKv(path)
    relay = instance(kv, n.net, NO_FORMS)
    try {
      assert.deepEqual(
        (await listed(relay)).map((f) => [f.id, f.source]),
        [['shop', 'dashboard']]
      )
      n.clock.advance(1100) // the pacing slots the first process used are rested
      assert.equal((await signup(relay, 'later@example.com', '192.0.2.14')).status, 200)
      assert.deepEqual(n.cc.signupCalls.at(-1)?.body.list_memberships, [LIST_1])
    } finally {
      relay.relay.close()
      kv.close()
    }
  } finally {
    await removeKv(path)
  }
})

Deno.test('forms: optional lists, a required consent and capture work on Deno as on Workers', async () => {
  await withTwoInstances(async ({ a, b, ...n }) => {
    assert.equal((await connect(a, n.net)).status, 303)
    const profile = {
      lists: [LIST_1],
      optional_lists: [LIST_2],
      origins: [SITE],
      consent: { text: 'Yes, email me.', required: true },
      capture: { page: SOURCE_FIELD },
    }
    assert.equal((await put(a, 'shop', profile)).status, 201)
    const post = (body: Record<string, unknown>, ip: string) =>
      b.call(
        '/subscribe/shop',
        {
          method: 'POST',
          headers: { origin: SITE, 'content-type': 'application/json' },
          body: JSON.stringify(body),
        },
        ip
      )
    const refused = await post({ email: 'no@example.com', list: [LIST_2] }, '192.0.2.21')
    assert.equal(refused.status, 400)
    assert.deepEqual(((await refused.json()) as { fields: unknown }).fields, {
      consent: 'Tick the box to give your consent.',
    })
    const page = 'https://shop.test/spring?utm_campaign=x'
    const ok = await post(
      { email: 'yes@example.com', list: [LIST_2], consent: 'on', _page: page },
      '192.0.2.22'
    )
    assert.ok([200, 202].includes(ok.status), `answered ${ok.status}`)
    // Queued (202) when the pacer had no free slot: delivered by the drain.
    await drainAll(b, n.clock)
    assert.deepEqual(
      n.cc.signupCalls.map((c) => [c.body.list_memberships, c.body.custom_fields]),
      [[[LIST_1, LIST_2], [{ custom_field_id: SOURCE_FIELD, value: page }]]]
    )
  })
})
