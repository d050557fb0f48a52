/**
 * @module core/lib/network-key
 * The network a client address counts as, for per-client limits: an IPv4 address itself, an IPv6
 * address its /64 (one subscriber routinely gets a whole /64, RFC 6177, so keying per address would
 * give them 2^64 budgets). Every spelling of one address gives one key, and an IPv4-mapped IPv6
 * address gives the IPv4 key.
 *
 * @example
 * networkKey('2001:DB8:0:7::1')        // '2001:db8:0:7::/64'
 * networkKey('2001:db8:0:7:ffff::9')   // '2001:db8:0:7::/64' (the same network)
 * networkKey('::ffff:192.0.2.1')       // '192.0.2.1'
 */

/** The network key of a client address; anything that is not an IP address is its own key. */
export function networkKey(address: string | null | undefined): string {
  const raw = (address ?? '').trim()
  const text = raw.replace(/^\[(.*)\]$/, '$1').replace(/%.*$/, '')
  const quad = text.split('.')
  if (quad.length === 4 && quad.every((p) => /^\d{1,3}$/.test(p) && +p < 256))
    return quad.map(Number).join('.')
  const groups = ipv6Groups(text)
  if (!groups) return `other:${raw.toLowerCase() || 'unknown'}`
  // ::ffff:a.b.c.d is an IPv4 peer seen through an IPv6 socket.
  if (groups.slice(0, 6).join(':') === '0:0:0:0:0:ffff')
    return groups
      .slice(6)
      .flatMap((g) => [Number.parseInt(g, 16) >> 8, Number.parseInt(g, 16) & 255])
      .join('.')
  return `${groups.slice(0, 4).join(':')}::/64`
}

/** An IPv4 or IPv6 address (as networkKey reads them), not a name or anything else. */
export function isIpAddress(text: string): boolean {
  return !networkKey(text).startsWith('other:')
}

/** The eight groups of an IPv6 address, in canonical hex (no leading zeros), or null. */
function ipv6Groups(text: string): string[] | null {
  let host: string
  try {
    host = text.includes(':') ? new URL(`http://[${text}]`).hostname.slice(1, -1) : ''
  } catch {
    return null
  }
  if (!host) return null
  // Canonical: lower case, no leading zeros, at most one `::` standing for zero groups.
  const [head, tail] = host.split('::').map((half) => (half ? half.split(':') : []))
  if (!tail) return head
  return [...head, ...Array<string>(8 - head.length - tail.length).fill('0'), ...tail]
}
