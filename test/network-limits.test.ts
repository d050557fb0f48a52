/**
 * Per-network client limits (issue #13 item 2): SUBMIT_RATE_LIMIT_PER_MINUTE (10 here) is one
 * budget per IPv4 address and per IPv6 /64, whatever address inside the /64 a request comes from
 * and however the address is written.
 */
import { describe, expect, it } from 'vitest'
import { cc, clock } from './edge.ts'
import { call, connectedWithSettledOutbox, runOutbox } from './helpers.ts'

let n = 0

function submitFrom(ip: string) {
  return call('/subscribe/newsletter', {
    method: 'POST',
    headers: {
      origin: 'https://site.test',
      'content-type': 'application/json',
      'cf-connecting-ip': ip,
    },
    body: JSON.stringify({ email: `net${++n}@example.com` }),
  })
}

connectedWithSettledOutbox()

describe('one budget per network', () => {
  it('every address of one IPv6 /64 shares a budget; another /64 is unaffected', async () => {
    const statuses: number[] = []
    // Ten different addresses (and spellings) inside 2001:db8:7:1::/64.
    for (let i = 0; i < 10; i++) {
      const ip = i % 2 ? `2001:db8:7:1:${i}::${i + 1}` : `2001:DB8:0007:0001:0:0:${i}:abcd`
      statuses.push((await submitFrom(ip)).status)
    }
    expect(statuses.every((s) => s === 200 || s === 202)).toBe(true)
    const reached = cc.signUpCalls.length
    const limited = await submitFrom('2001:db8:7:1:ffff:ffff:ffff:fffe')
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBe(6) // one more every 60/10 s
    expect(cc.signUpCalls).toHaveLength(reached)
    // The neighbouring /64 has its own budget.
    expect([200, 202]).toContain((await submitFrom('2001:db8:7:2::1')).status)
    // The budget refills at 10 a minute: one more after 6 s.
    clock.advance(6_000)
    expect([200, 202]).toContain((await submitFrom('2001:db8:7:1::99')).status)
    expect((await submitFrom('2001:db8:7:1::100')).status).toBe(429)
    await runOutbox()
    expect(cc.contacts.size).toBe(12)
  })

  it('an IPv4-mapped IPv6 address is the IPv4 address it carries', async () => {
    for (let i = 0; i < 5; i++) expect((await submitFrom('192.0.2.44')).status).toBeLessThan(300)
    for (let i = 0; i < 5; i++)
      expect((await submitFrom('::ffff:192.0.2.44')).status).toBeLessThan(300)
    expect((await submitFrom('::FFFF:c000:022c')).status).toBe(429)
    expect((await submitFrom('192.0.2.45')).status).toBeLessThan(300)
    await runOutbox()
  })
})
