import { describe, expect, it } from 'vitest'
import { networkKey } from './network-key.ts'

describe('networkKey', () => {
  it('an IPv4 address is its own network, in canonical form', () => {
    expect(networkKey('192.0.2.1')).toBe('192.0.2.1')
    expect(networkKey(' 192.000.002.001 ')).toBe('192.0.2.1')
    expect(networkKey('192.0.2.2')).not.toBe(networkKey('192.0.2.1'))
  })

  it('every address of one IPv6 /64 shares one key, whatever its text form', () => {
    const forms = [
      '2001:db8:0:7::1',
      '2001:DB8:0:7:0:0:0:1',
      '2001:0db8:0000:0007:ffff:ffff:ffff:fffe',
      '[2001:db8:0:7::abcd]',
      '2001:db8:0:7::1%eth0',
      '2001:db8:0:7:1:2:192.0.2.1',
    ]
    for (const form of forms) expect(networkKey(form)).toBe('2001:db8:0:7::/64')
  })

  it('neighbouring /64s are different networks', () => {
    expect(networkKey('2001:db8:0:8::1')).toBe('2001:db8:0:8::/64')
    expect(networkKey('2001:db8:1:7::1')).toBe('2001:db8:1:7::/64')
    expect(networkKey('::1')).toBe('0:0:0:0::/64')
    expect(networkKey('fe80::1%eth0')).toBe('fe80:0:0:0::/64')
  })

  it('an IPv4-mapped IPv6 address is the IPv4 address it carries', () => {
    expect(networkKey('::ffff:192.0.2.1')).toBe('192.0.2.1')
    expect(networkKey('::FFFF:c000:0201')).toBe('192.0.2.1')
    expect(networkKey('0:0:0:0:0:ffff:192.0.2.1')).toBe('192.0.2.1')
    expect(networkKey('[::ffff:192.0.2.1]')).toBe('192.0.2.1')
  })

  it('anything else is its own key, apart from every address', () => {
    expect(networkKey(null)).toBe('other:unknown')
    expect(networkKey('')).toBe('other:unknown')
    expect(networkKey('owner-test-sign-up')).toBe('other:owner-test-sign-up')
    for (const bad of ['2001:db8::7::1', '1:2:3:4:5:6:7:8:9', '12345::', '1.2.3.256', ':::'])
      expect(networkKey(bad)).toMatch(/^other:/)
  })
})

describe('networkKey, more text forms', () => {
  it('expands `::` anywhere and reads a dotted IPv4 tail', () => {
    for (const ip of [
      '2001:db8:0:1:ffff:ffff:ffff:ffff',
      '2001:0DB8:0000:0001:0:0:0:9',
      '2001:db8:0:1:0:ffff:192.0.2.1',
    ]) {
      expect(networkKey(ip), ip).toBe('2001:db8:0:1::/64')
    }
    expect(networkKey('2001:db8::1:aaaa:0:0:7')).toBe('2001:db8:0:1::/64')
  })
})
