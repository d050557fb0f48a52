/**
 * CC's account-wide failures (issue #13 item 5). A 403 from sign_up_form (a missing scope, a
 * missing privilege, a deactivated app) is not about the sign-up: it parks the outbox as a needed
 * reconnect does, with one alert and no dead letters, and everything goes out after a reconnect.
 * A grant without contact_data is caught at connect time.
 */
import { runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { ALERT_WINDOW_MS } from '../src/core/store-rules.ts'
import { cc, clock, net } from './edge.ts'
import {
  call,
  connect,
  connectedWithSettledOutbox,
  cron,
  OWNER,
  outbox,
  relay,
  runOutbox,
  status,
} from './helpers.ts'

let ip = 0

function submit(email: string) {
  return call('/subscribe/newsletter', {
    method: 'POST',
    headers: {
      origin: 'https://site.test',
      'content-type': 'application/json',
      'cf-connecting-ip': `192.0.2.${++ip % 250}`,
    },
    body: JSON.stringify({ email }),
  })
}

const lastError = async () => (await status()).last_error as { code: string; message: string }

connectedWithSettledOutbox()

describe('a 403 from sign_up_form', () => {
  it('inline: answered 202 queued, the connection needs a reconnect, one alert, no dead letter', async () => {
    cc.signUpFaults = ['403']
    const first = await submit('forbidden1@example.com')
    expect(first.status).toBe(202)
    expect(await first.json()).toEqual({ ok: true, status: 'queued' })
    const s = await status()
    expect([s.state, s.connected]).toEqual(['needs_reauth', false])
    expect((await lastError()).code).toBe('cc_forbidden')
    expect((await lastError()).message).toContain('answered 403')
    // Every later sign-up is kept without reaching CC.
    for (const email of ['forbidden2@example.com', 'forbidden3@example.com'])
      expect((await submit(email)).status).toBe(202)
    expect(cc.signUpCalls).toHaveLength(1)
    expect(await outbox()).toMatchObject({ pending: 3, parked: 3, dead: 0 })
    // Hours of wake-ups and cron runs: nothing is sent, nothing dies, no second alert.
    await runOutbox()
    for (let i = 0; i < 4; i++) {
      clock.advance(15 * 60_000)
      await cron()
    }
    expect(cc.signUpCalls).toHaveLength(1)
    expect((await outbox()).dead).toBe(0)
    expect(net.alertEvents()).toEqual(['needs_reauth'])
    expect((net.alerts[0].reason as { code: string }).code).toBe('cc_forbidden')
    // The owner reconnects: everything is delivered.
    expect((await connect()).status).toBe(303)
    await runOutbox()
    expect([...cc.contacts.keys()].sort()).toEqual([
      'forbidden1@example.com',
      'forbidden2@example.com',
      'forbidden3@example.com',
    ])
    expect(net.alertEvents()).toEqual(['needs_reauth', 'recovered'])
  })

  it('from the outbox: parked without burning the item’s attempt, then delivered', async () => {
    clock.advance(ALERT_WINDOW_MS)
    cc.down = true
    expect((await submit('queued403@example.com')).status).toBe(202)
    const attempts = () =>
      runInDurableObject(relay(), (_i, state) =>
        state.storage.sql.exec<{ attempts: number }>('SELECT attempts FROM outbox').toArray()
      )
    expect(await attempts()).toEqual([{ attempts: 1 }]) // CC's 503
    cc.down = false
    cc.signUpFaults = ['403']
    await runOutbox()
    expect((await status()).state).toBe('needs_reauth')
    expect((await lastError()).code).toBe('cc_forbidden')
    expect(await attempts()).toEqual([{ attempts: 1 }]) // the 403 burned none
    expect((await outbox()).dead).toBe(0)
    expect(net.alertEvents()).toEqual(['needs_reauth'])
    expect((await connect()).status).toBe(303)
    await runOutbox()
    expect(cc.contacts.has('queued403@example.com')).toBe(true)
  })

  it('a refused account: the dashboard explains its 403 read; the first sign-up parks', async () => {
    cc.accountForbidden = true
    const page = await (await call('/admin', { headers: { ...OWNER, accept: 'text/html' } })).text()
    const catalog = page.slice(page.indexOf('id="catalog"'))
    expect(catalog.slice(0, 600)).toContain('Constant Contact answered 403')
    // A read refused is not a sign-up refused: the outbox keeps going until one is.
    expect((await status()).state).toBe('connected')
    expect((await submit('account403@example.com')).status).toBe(202)
    expect((await status()).state).toBe('needs_reauth')
    // Parked: the dashboard no longer reads CC at all.
    const reads = cc.apiCalls.length
    await call('/admin', { headers: { ...OWNER, accept: 'text/html' } })
    expect(cc.apiCalls).toHaveLength(reads)
    cc.accountForbidden = false
    expect((await connect()).status).toBe(303)
    await runOutbox()
    expect(cc.contacts.has('account403@example.com')).toBe(true)
  })
})

describe('a grant without contact_data', () => {
  it('says so on the callback page; the status is needs_reauth missing_scope', async () => {
    clock.advance(ALERT_WINDOW_MS) // past the coalescing of the needs_reauth alerts above
    cc.grantScope = 'account_read offline_access'
    const callback = await connect()
    expect(callback.status).toBe(200)
    const page = await callback.text()
    expect(page).toContain('without access to contacts')
    expect(page).toContain('contact_data')
    const s = await status()
    expect([s.state, s.connected]).toEqual(['needs_reauth', false])
    expect((await lastError()).code).toBe('missing_scope')
    expect(net.alertEvents()).toEqual(['needs_reauth']) // a working connection was replaced
    // Sign-ups are kept, not sent with a token that cannot send them.
    expect((await submit('scope@example.com')).status).toBe(202)
    expect(cc.signUpCalls).toHaveLength(0)
    cc.grantScope = null
    expect((await connect()).status).toBe(303)
    await runOutbox()
    expect(cc.contacts.has('scope@example.com')).toBe(true)
  })
})
