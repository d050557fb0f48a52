/**
 * Signed webhooks (#21) on Deno, end to end: an endpoint made through the owner API on one
 * instance gets a visitor's `signup.delivered`, signed as Standard Webhooks says (checked with
 * node:crypto, not the relay's WebCrypto); a failed attempt is retried on schedule by the next
 * process over the same KV, with the same webhook-id, and nothing follows the success.
 */
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { RETRY_DELAYS_MS } from '../../src/core/webhooks/delivery-rules.ts'
import { connect, drainAll, type Instance, OWNER, withRestarts } from '../support/deno-relay.ts'
import { RECEIVER_URL } from '../support/network.ts'

const put = (i: Instance, id: string, body: unknown) =>
  i.call(`/admin/api/webhooks/${id}`, {
    method: 'PUT',
    headers: { ...OWNER, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

const signUp = (i: Instance, email: string) =>
  i.call(
    '/subscribe/newsletter',
    {
      method: 'POST',
      headers: { origin: 'https://site.test', 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    },
    '198.51.100.40'
  )

function verifies(secret: string, r: { headers: Record<string, string>; body: string }) {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64')
  const signed = `${r.headers['webhook-id']}.${r.headers['webhook-timestamp']}.${r.body}`
  return (
    r.headers['webhook-signature'] ===
    `v1,${createHmac('sha256', key).update(signed).digest('base64')}`
  )
}

Deno.test('webhooks: a signed signup.delivered, retried by the next process after a 500', async () => {
  await withRestarts(async ({ net, clock, start, stop }) => {
    const first = await start()
    assert.equal((await connect(first, net)).status, 303)
    const made = await put(first, 'crm', { url: RECEIVER_URL, events: ['signup.delivered'] })
    assert.equal(made.status, 201)
    const { secret } = (await made.json()) as { secret: string }
    assert.match(secret, /^whsec_[A-Za-z0-9+/]{43}=$/)

    net.receiverAnswers = [500]
    clock.advance(1100) // the pacing slots the Connect's reads took have rested
    const answer = await signUp(first, 'hook@example.com')
    assert.ok([200, 202].includes(answer.status), `answered ${answer.status}`)
    // Passes of the drain, a pacing second apart, until the receiver has had one attempt; not
    // drainAll, which would also run the retry this process scheduled.
    for (let pass = 0; pass < 5 && net.received.length === 0; pass++) {
      await first.relay.service.drain()
      if (net.received.length === 0) clock.advance(1100)
    }
    assert.ok(net.cc.contacts.has('hook@example.com'))
    assert.equal(net.received.length, 1)
    stop(first)

    // The next process: the pending event is in KV, due one retry delay after the failure.
    const next = await start()
    clock.advance(RETRY_DELAYS_MS[0])
    await next.relay.service.drain()
    await drainAll(next, clock)
    assert.equal(net.received.length, 2)
    const [failed, delivered] = net.received
    assert.equal(delivered.headers['webhook-id'], failed.headers['webhook-id'])
    assert.ok(verifies(secret, delivered), 'the signature checks out with node:crypto')
    const event = JSON.parse(delivered.body) as {
      type: string
      data: { form: string; email: string; lists: string[] }
    }
    assert.equal(event.type, 'signup.delivered')
    assert.equal(event.data.form, 'newsletter')
    assert.equal(event.data.email, 'hook@example.com')
    // At least once, and nothing after the success.
    clock.advance(RETRY_DELAYS_MS.at(-1) ?? 0)
    await next.relay.service.drain()
    assert.equal(net.received.length, 2)
    stop(next)
  })
})
