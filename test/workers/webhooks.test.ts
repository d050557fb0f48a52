/**
 * Signed webhooks (#21) in workerd: the owner's API, signatures a receiver can check, retries in
 * virtual time, pending events across a restart, disabling after 24 h of failures, and sign-ups
 * that never wait on a receiver. The receiver is the test network's (network.ts RECEIVER_URL).
 */

import { evictDurableObject, runDurableObjectAlarm } from 'cloudflare:test'
import { createHmac } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import { RETRY_DELAYS_MS } from '../../src/core/webhooks/delivery-rules.ts'
import { newSecret, sign } from '../../src/core/webhooks/signature.ts'
import { until } from '../support/arrivals.ts'
import { postSignup } from '../support/config-values.ts'
import { clock, net } from '../support/edge.ts'
import {
  call,
  connectedWithSettledOutbox,
  ORIGIN,
  OWNER,
  relay,
  runOutbox,
  signIn,
  withConfiguredRelay,
} from '../support/helpers.ts'
import { RECEIVER_URL } from '../support/network.ts'
import { taggedSubmission } from '../support/tagging.ts'

connectedWithSettledOutbox()

const json = { ...OWNER, 'content-type': 'application/json' }

function put(id: string, body: unknown) {
  return call(`/admin/api/webhooks/${id}`, {
    method: 'PUT',
    headers: json,
    body: JSON.stringify(body),
  })
}

async function hook(id = 'crm', events = ['signup.delivered'], forms?: string[]) {
  const res = await put(id, { url: RECEIVER_URL, events, forms })
  expect(res.status).toBe(201)
  return (await res.json()) as { secret: string }
}

/** A sign-up, and its bookkeeping (the event included), written after its answer: settled. */
async function signUp(email: string, form = 'newsletter') {
  const { status } = await relay().submit(await taggedSubmission(email, [], form))
  await relay().status()
  return status
}

/** Checked the way a receiver would, with node:crypto rather than the relay's WebCrypto. */
function verifies(secret: string, r: (typeof net.received)[number]) {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
  const signed = `${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`
  return (
    r.headers['webhook-signature'] ===
    `v1,${createHmac('sha256', key).update(signed).digest('base64')}`
  )
}

afterEach(async () => {
  const { webhooks } = (await (await call('/admin/api/webhooks', { headers: OWNER })).json()) as {
    webhooks: { id: string }[]
  }
  for (const w of webhooks)
    await call(`/admin/api/webhooks/${w.id}`, { method: 'DELETE', headers: OWNER })
})

describe('the API', () => {
  it('creates (201, a whsec_ secret), updates (200, secret kept), lists, deletes', async () => {
    const { secret } = await hook('crm', ['signup.delivered'], ['newsletter'])
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    const again = await put('crm', { url: RECEIVER_URL, events: ['backlog.high'] })
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual({
      id: 'crm',
      url: RECEIVER_URL,
      events: ['backlog.high'],
      forms: null,
      secret,
    })
    const list = await (await call('/admin/api/webhooks', { headers: OWNER })).json()
    expect(list).toEqual({
      webhooks: [
        {
          id: 'crm',
          url: RECEIVER_URL,
          events: ['backlog.high'],
          forms: null,
          secret,
          last_delivery: null,
        },
      ],
    })
    const del = () => call('/admin/api/webhooks/crm', { method: 'DELETE', headers: OWNER })
    expect((await del()).status).toBe(204)
    expect((await del()).status).toBe(404)
  })

  it('refuses a plain-http URL off loopback, unknown events and bad ids with fields', async () => {
    const bad = await put('crm', { url: 'http://example.com/h', events: ['nope'] })
    expect(bad.status).toBe(400)
    const body = (await bad.json()) as { error: string; fields: Record<string, string> }
    expect(body.error).toBe('invalid_input')
    expect(Object.keys(body.fields).sort()).toEqual(['events', 'url'])
    expect(
      (await put('crm', { url: 'http://127.0.0.1:9/h', events: ['webhook.test'] })).status
    ).toBe(201)
    expect((await put('bad id!', { url: RECEIVER_URL, events: ['webhook.test'] })).status).toBe(400)
    const anon = await call('/admin/api/webhooks')
    expect(anon.status).toBe(401)
    const crossSite = await call('/admin/api/webhooks/crm/test', {
      method: 'POST',
      headers: { cookie: await signIn(), origin: 'https://evil.test' },
    })
    expect(crossSite.status).toBe(403)
  })

  it('Send test: a signed webhook.test now, answered with the receiver status', async () => {
    const { secret } = await hook('crm', ['signup.delivered'])
    net.receiverAnswers = [418]
    const res = await call('/admin/api/webhooks/crm/test', { method: 'POST', headers: OWNER })
    expect(res.status).toBe(200)
    expect(await res.json()).toMatchObject({ ok: false, status: 418 })
    expect(net.receivedTypes()).toEqual(['webhook.test'])
    expect(verifies(secret, net.received[0])).toBe(true)
    const unknown = await call('/admin/api/webhooks/none/test', { method: 'POST', headers: OWNER })
    expect(unknown.status).toBe(404)
  })
})

describe('signatures', () => {
  it('the WebCrypto signer matches node:crypto for random secrets, ids and bodies', async () => {
    for (let i = 0; i < 50; i++) {
      const secret = newSecret()
      const messageId = `msg_${crypto.randomUUID()}`
      const body = JSON.stringify({ type: 'signup.delivered', data: { email: `é${i}@ex.com` } })
      const timestamp = String(1_900_000_000 + i)
      const signature = await sign(secret, messageId, Number(timestamp), body)
      const headers = {
        'webhook-id': messageId,
        'webhook-timestamp': timestamp,
        'webhook-signature': signature,
      }
      expect(verifies(secret, { url: '', at: 0, headers, body })).toBe(true)
    }
  })
})

describe('delivery', () => {
  it('a delivered sign-up is signup.delivered, signed as Standard Webhooks says', async () => {
    const { secret } = await hook()
    clock.advance(1234)
    expect(await signUp('signed@example.com')).toBe('delivered')
    await runOutbox()
    expect(net.received).toHaveLength(1)
    const r = net.received[0]
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.headers['webhook-id']).toMatch(/^msg_/)
    expect(Number(r.headers['webhook-timestamp'])).toBe(Math.floor(r.at / 1000))
    expect(verifies(secret, r)).toBe(true)
    const body = JSON.parse(r.body)
    expect(body).toMatchObject({
      type: 'signup.delivered',
      data: { form: 'newsletter', email: 'signed@example.com', action: 'created', tags: [] },
    })
    expect(typeof body.data.contact_id).toBe('string')
    expect(new Date(body.timestamp).toISOString()).toBe(body.timestamp)
  })

  it('only the forms it names, only the events it takes', async () => {
    await hook('crm', ['signup.delivered'], ['events'])
    expect(await signUp('other-form@example.com')).toBe('delivered')
    await runOutbox()
    expect(net.received).toEqual([])
  })

  it('failures are retried at 5 s, 30 s, 5 min… with the same webhook-id; no attempt after a success', async () => {
    const { secret } = await hook()
    net.receiverAnswers = [500, 503, 302, 204]
    expect(await signUp('retried@example.com')).toBe('delivered')
    await runOutbox()
    expect(net.received).toHaveLength(4)
    const ids = new Set(net.received.map((r) => r.headers['webhook-id']))
    expect(ids.size).toBe(1)
    const gaps = net.received.slice(1).map((r, i) => r.at - net.received[i].at)
    expect(gaps).toEqual(RETRY_DELAYS_MS.slice(0, 3))
    for (const r of net.received) expect(verifies(secret, r)).toBe(true)
    const page = await (await call('/admin/webhooks', { headers: OWNER })).text()
    expect(page).toContain('retrying')
    expect(page).toContain('delivered')
  })

  it('pending events survive a restart of the object mid-retry', async () => {
    await hook()
    net.receiverAnswers = [500]
    expect(await signUp('restart-hook@example.com')).toBe('delivered')
    await runOutbox({ until: clock.now() })
    expect(net.received).toHaveLength(1)
    await evictDurableObject(relay())
    await runOutbox()
    expect(net.received).toHaveLength(2)
    expect(net.received[1].headers['webhook-id']).toBe(net.received[0].headers['webhook-id'])
  })

  it('a deleted endpoint gets nothing more', async () => {
    await hook()
    net.receiverAnswers = [500]
    expect(await signUp('deleted-hook@example.com')).toBe('delivered')
    await runOutbox({ until: clock.now() })
    expect(net.received).toHaveLength(1)
    await call('/admin/api/webhooks/crm', { method: 'DELETE', headers: OWNER })
    await runOutbox()
    expect(net.received).toHaveLength(1)
  })

  it('an event that fails 8 times is marked failed; 24 h of failures disable the endpoint, with an alert and a card', async () => {
    await hook()
    net.receiverStatus = 500
    const start = clock.now()
    expect(await signUp('failing1@example.com')).toBe('delivered')
    await runOutbox()
    expect(net.received).toHaveLength(8)
    const page = await (await call('/admin/webhooks', { headers: OWNER })).text()
    expect(page).toContain('failed')
    clock.set(start + 20 * 3600_000)
    expect(await signUp('failing2@example.com')).toBe('delivered')
    await runOutbox()
    // Its 5th attempt (20 h + 35 min…) is the first one 24 h after the run began: disabled there.
    expect(net.received.length).toBeLessThan(16)
    expect(net.alertEvents()).toContain('webhook_disabled')
    const dashboard = await (await call('/admin', { headers: OWNER })).text()
    expect(dashboard).toContain('data-webhook-disabled="crm"')
    const seen = net.received.length
    expect(await signUp('failing3@example.com')).toBe('delivered')
    await runOutbox()
    expect(net.received).toHaveLength(seen)
    // Re-enabled from the page: what was waiting goes out.
    net.receiverStatus = 204
    const cookie = await signIn()
    const enable = await call('/admin/webhooks/crm/enable', {
      method: 'POST',
      headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    })
    expect(enable.status).toBe(303)
    await runOutbox()
    expect(net.received.length).toBeGreaterThan(seen)
    expect(net.received.at(-1)?.body).toContain('failing2@example.com')
  })
})

describe("never in a sign-up's way", () => {
  // Waits on real in-flight I/O (the held receiver), which a loaded machine slows.
  it('a sign-up is delivered and answered while the receiver hangs', {
    timeout: 20_000,
  }, async () => {
    await hook()
    expect(await signUp('first@example.com')).toBe('delivered')
    const held = net.holdReceiver()
    const alarm = runDurableObjectAlarm(relay())
    await until(() => net.received.length === 1, 'the event to reach the receiver')
    clock.advance(300)
    expect(await signUp('second@example.com')).toBe('delivered')
    held.release()
    await alarm
    await runOutbox()
    expect(net.receivedTypes()).toEqual(['signup.delivered', 'signup.delivered'])
  })
})

describe('the bound (WEBHOOK_MAX_PENDING)', () => {
  it('at the bound, new events for that endpoint are dropped, counted, and one alert says so', () =>
    withConfiguredRelay({ WEBHOOK_MAX_PENDING: '2' }, async (configured) => {
      const owner = { ...configured.owner, 'content-type': 'application/json' }
      const made = await configured.call(
        '/admin/api/webhooks/full',
        {
          method: 'PUT',
          headers: owner,
          body: JSON.stringify({ url: RECEIVER_URL, events: ['signup.delivered'] }),
        },
        '192.0.2.1'
      )
      expect(made.status).toBe(201)
      // The receiver refuses: its events wait for their retries, and so fill the bound.
      net.receiverStatus = 500
      net.alerts = []
      for (let i = 0; i < 5; i++) {
        clock.advance(1100)
        const res = await postSignup(
          configured,
          'newsletter',
          { email: `bound${i}@example.com` },
          { origin: 'https://site.test', ip: `198.51.100.${60 + i}`, mode: 'json' }
        )
        // The sign-ups themselves are never refused for it.
        expect([200, 202]).toContain(res.status)
      }
      await configured.outbox() // the deliveries' bookkeeping (the events) is written
      const page = await configured.call(
        '/admin/webhooks',
        { headers: configured.owner },
        '192.0.2.1'
      )
      expect(await page.text()).toContain('2 events; 3 dropped (WEBHOOK_MAX_PENDING reached)')
      expect(net.alerts.filter((a) => a.event === 'webhook_dropped')).toHaveLength(1)
      for (let i = 0; i < 5; i++)
        expect(configured.cc.contacts.has(`bound${i}@example.com`)).toBe(true)
    }))
})
