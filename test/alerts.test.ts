/**
 * Coalesced alerts (issue #13 item 6): at most one alert of a kind per 15 minutes, what the alert
 * webhook actually received counted. The next alert of the kind carries the count held back; the
 * cron sends the last held one once its window is over; /admin shows the counts; a restart of
 * the Durable Object forgets none of it.
 */
import { evictDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { ALERT_WINDOW_MS } from '../src/core/store-rules.ts'
import { cc, clock, net } from './edge.ts'
import { call, connectedWithSettledOutbox, cron, OWNER, relay, status } from './helpers.ts'

let n = 0

/** A sign-up CC refuses for good: a dead letter, and a dead_letter alert (or a held one). */
async function deadLetter() {
  cc.signUpFaults = ['400']
  clock.advance(1100) // a free pacing slot: sent inline
  const res = await call('/subscribe/newsletter', {
    method: 'POST',
    headers: {
      origin: 'https://site.test',
      'content-type': 'application/json',
      'cf-connecting-ip': `192.0.2.${++n}`,
    },
    body: JSON.stringify({ email: `refused${n}@example.com` }),
  })
  expect(res.status).toBe(502)
}

const held = async (event: string) =>
  ((await status()).alerts as { event: string; held: number; held_total: number }[]).find(
    (a) => a.event === event
  )

connectedWithSettledOutbox()

describe('one alert of a kind per 15 minutes', () => {
  it('holds back the rest, and the next one sent carries their count, across a restart', async () => {
    clock.advance(ALERT_WINDOW_MS)
    for (let i = 0; i < 3; i++) await deadLetter()
    expect(net.alertEvents()).toEqual(['dead_letter'])
    expect(await held('dead_letter')).toMatchObject({ held: 2, held_total: 2 })
    const page = await (await call('/admin', { headers: { ...OWNER, accept: 'text/html' } })).text()
    const card = page.slice(page.indexOf('id="alerts"'))
    expect(card).toMatch(/data-alert="dead_letter"[\s\S]*?data-held="2"[\s\S]*?data-held-total="2"/)

    // The object restarts: what it held back is stored, and the window still holds.
    await evictDurableObject(relay())
    await deadLetter()
    expect(net.alertEvents()).toEqual(['dead_letter'])
    expect((await held('dead_letter'))?.held).toBe(3)

    clock.advance(ALERT_WINDOW_MS)
    await deadLetter()
    expect(net.alertEvents()).toEqual(['dead_letter', 'dead_letter'])
    const last = net.alerts[1]
    expect(last.suppressed).toBe(3)
    expect(String(last.text)).toContain('(3 more held back since the last)')
    expect(await held('dead_letter')).toMatchObject({ held: 0, held_total: 3 })
  })

  it('a burst that stops is still reported: the cron sends the last one held, with the count', async () => {
    clock.advance(ALERT_WINDOW_MS)
    for (let i = 0; i < 4; i++) await deadLetter()
    expect(net.alertEvents()).toEqual(['dead_letter'])
    await cron() // the window is not over: nothing yet
    expect(net.alertEvents()).toEqual(['dead_letter'])
    clock.advance(ALERT_WINDOW_MS)
    await cron()
    expect(net.alertEvents()).toEqual(['dead_letter', 'dead_letter'])
    expect(net.alerts[1].suppressed).toBe(2) // the fourth is sent; the second and third are counted
    expect((net.alerts[1].reason as { message: string }).message).toContain('newsletter')
    await cron()
    expect(net.alerts).toHaveLength(2) // sent once
  })

  it('kinds are apart: a dead letter does not hold back a needs_reauth alert', async () => {
    clock.advance(ALERT_WINDOW_MS)
    await deadLetter()
    cc.signUpFaults = ['403']
    clock.advance(1100)
    await call('/subscribe/newsletter', {
      method: 'POST',
      headers: { origin: 'https://site.test', 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'kinds@example.com' }),
    })
    expect(net.alertEvents()).toEqual(['dead_letter', 'needs_reauth'])
  })
})
