/**
 * The duplicate window keeps newer data (issue #13 item 7): within DUPLICATE_WINDOW_SECONDS only
 * a repeat that says the same is absorbed; one whose fields differ is sent, after the earlier one,
 * so Constant Contact ends up with the newer values. Nobody can pin a wrong name on someone's
 * address by signing it up first.
 */
import { describe, expect, it } from 'vitest'
import { cc, net } from './edge.ts'
import { call, connectedWithSettledOutbox, outbox, runOutbox } from './helpers.ts'
import { until } from './support/arrivals.ts'
import { LIST_1, LIST_2 } from './support/network.ts'

let ip = 0

function submit(fields: Record<string, unknown>) {
  return call('/subscribe/newsletter', {
    method: 'POST',
    headers: {
      origin: 'https://site.test',
      'content-type': 'application/json',
      'cf-connecting-ip': `203.0.113.${++ip % 250}`,
    },
    body: JSON.stringify(fields),
  })
}

const sentNames = (email: string) =>
  cc.signUpCalls.filter((c) => c.body.email_address === email).map((c) => c.body.first_name)

connectedWithSettledOutbox()

describe('within the duplicate window', () => {
  it('a repeat with other fields is sent and wins; an identical repeat is absorbed', async () => {
    const email = 'victim@example.com'
    expect((await submit({ email, first_name: 'Wrong' })).status).toBe(200)
    // The owner of the address signs up with their real name a minute later.
    expect((await submit({ email: 'VICTIM@example.com', first_name: 'Real' })).status).toBe(200)
    expect(sentNames(email)).toEqual(['Wrong', 'Real'])
    expect(cc.contacts.get(email)?.body.first_name).toBe('Real')
    // The same again (however the fields are ordered): absorbed, answered as the last one was.
    const again = await call('/subscribe/newsletter', {
      method: 'POST',
      headers: { origin: 'https://site.test', 'content-type': 'application/json' },
      body: `{"first_name":"Real","email":"${email}"}`,
    })
    expect(again.status).toBe(200)
    expect(await again.json()).toEqual({ ok: true, status: 'delivered' })
    expect(sentNames(email)).toEqual(['Wrong', 'Real'])
    // Back to the first version: it differs from the last one sent, so it is sent too.
    expect((await submit({ email, first_name: 'Wrong' })).status).toBe(200)
    expect(cc.contacts.get(email)?.body.first_name).toBe('Wrong')
  })

  it('a change to a queued sign-up goes into its item: merged, newer values kept, sent once', async () => {
    cc.down = true
    const email = 'queued-change@example.com'
    expect((await submit({ email, first_name: 'Old', list: [LIST_1] })).status).toBe(202)
    const reached = cc.signUpCalls.length
    const change = await submit({ email, first_name: 'New', list: [LIST_2] })
    expect(change.status).toBe(202)
    expect(await change.json()).toEqual({ ok: true, status: 'queued' })
    // Not sent ahead of the queued one (the older one, delivered later, would overwrite it).
    expect(cc.signUpCalls).toHaveLength(reached)
    expect((await outbox()).pending).toBe(1)
    cc.down = false
    await runOutbox()
    expect(cc.contacts.get(email)?.body).toEqual({
      email_address: email,
      first_name: 'New',
      list_memberships: [LIST_1, LIST_2],
    })
    expect(sentNames(email).at(-1)).toBe('New')
  })

  it('a double click that changed a field in between: both sent, in order, the newer last', async () => {
    const email = 'double-change@example.com'
    const held = net.hold()
    const first = submit({ email, first_name: 'Frist' })
    await until(() => sentNames(email).length === 1, 'the first to reach CC')
    held.stop() // later requests are answered; the first stays in flight
    const second = submit({ email, first_name: 'First' })
    // The second waits for the first rather than racing it to CC.
    for (let i = 0; i < 20; i++) await new Promise((resolve) => setTimeout(resolve, 0))
    expect(sentNames(email)).toEqual(['Frist'])
    held.release()
    expect([(await first).status, (await second).status]).toEqual([200, 200])
    expect(sentNames(email)).toEqual(['Frist', 'First'])
    expect(cc.contacts.get(email)?.body.first_name).toBe('First')
  })

  it('an identical double click still makes one call to CC', async () => {
    const [a, b] = await Promise.all([
      submit({ email: 'same-twice@example.com', first_name: 'Same' }),
      submit({ email: 'same-twice@example.com', first_name: 'Same' }),
    ])
    expect([a.status, b.status]).toEqual([200, 200])
    expect(sentNames('same-twice@example.com')).toEqual(['Same'])
  })
})
