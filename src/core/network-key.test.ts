import { describe, expect, it } from 'vitest'
import { networkKey } from './network-key.ts'

describe('networkKey', () => {
  it('keys an IPv4 client by its address', () => {
    expect(networkKey('192.0.2.1')).toBe('192.0.2.1')
    expect(networkKey(' 192.0.2.1 ')).toBe('192.0.2.1')
    expect(networkKey('192.0.2.2')).not.toBe(networkKey('192.0.2.1'))
  })

  it('keys an IPv6 client by its /64, however the address is written', () => {
    const key = '2001:db8:0:1::/64'
    for (const ip of [
      '2001:db8:0:1::1',
      '2001:db8:0:1:ffff:ffff:ffff:ffff',
      '2001:0DB8:0000:0001:0:0:0:9',
      '2001:db8::1:aaaa:0:0:7',
      '2001:db8:0:1::1%eth0',
      '2001:db8:0:1:0:ffff:192.0.2.1',
    ]) {
      expect(networkKey(ip), ip).toBe(key)
    }
    expect(networkKey('2001:db8:0:2::1')).toBe('2001:db8:0:2::/64')
    expect(networkKey('::1')).toBe('0:0:0:0::/64')
    expect(networkKey('fe80::1')).toBe('fe80:0:0:0::/64')
  })

  it('keys an IPv4-mapped IPv6 address as the IPv4 client it is', () => {
    expect(networkKey('::ffff:192.0.2.1')).toBe('192.0.2.1')
    expect(networkKey('0:0:0:0:0:ffff:c000:201')).toBe('192.0.2.1')
  })

  it('keys what it cannot parse as itself, and no address as "unknown"', () => {
    for (const odd of ['2001:db8::1::2', '1:2:3:4:5:6:7:8:9', '::ffff:300.1.1.1', 'nonsense:x']) {
      expect(networkKey(odd), odd).toBe(odd)
    }
    expect(networkKey(null)).toBe('unknown')
    expect(networkKey(undefined)).toBe('unknown')
    expect(networkKey('')).toBe('unknown')
  })
})
