/**
 * @module network-key
 * Which network a client address belongs to, for per-client limits: an IPv4 address is its own
 * network, an IPv6 address counts as its /64. One IPv6 subscriber is routinely given a whole /64
 * (RFC 6177) and can pick any of its 2^64 addresses per request, so keying the full /128 would
 * hand one client 2^64 budgets.
 *
 * Every text form of one address gives one key: IPv6 in any case, with or without `::`
 * compression, leading zeros, brackets or a zone (`%eth0`), with a dotted IPv4 tail; and an
 * IPv4-mapped IPv6 address (`::ffff:192.0.2.1`, as a dual-stack socket reports an IPv4 peer) is
 * the IPv4 address it carries.
 *
 * @example
 * networkKey('2001:DB8:0:7::1')        // '2001:db8:0:7::/64'
 * networkKey('2001:db8:0:7:ffff::9')   // '2001:db8:0:7::/64' (the same network)
 * networkKey('::ffff:192.0.2.1')       // '192.0.2.1'
 */

/** The network key of a client address; anything that is not an IP address is its own key. */
export function networkKey(address: string | null): string {
  const text = (address ?? '').trim()
  const v4 = ipv4(text)
  if (v4) return v4
  const groups = ipv6Groups(text)
  if (!groups) return `other:${text.toLowerCase() || 'unknown'}`
  // ::ffff:a.b.c.d is an IPv4 peer seen through an IPv6 socket.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.')
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`
}

/** A dotted-quad IPv4 address in canonical form (no leading zeros), or null. */
function ipv4(text: string): string | null {
  const parts = text.split('.')
  if (parts.length !== 4 || !parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255))
    return null
  return parts.map(Number).join('.')
}

/** The eight 16-bit groups of an IPv6 address in any RFC 4291 §2.2 text form, or null. */
function ipv6Groups(raw: string): number[] | null {
  let text = raw
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1)
  const zone = text.indexOf('%')
  if (zone !== -1) text = text.slice(0, zone)
  if (!text.includes(':')) return null
  // A dotted IPv4 tail stands for the last two groups.
  const lastColon = text.lastIndexOf(':')
  const tail = ipv4(text.slice(lastColon + 1))
  if (tail) {
    const [a, b, c, d] = tail.split('.').map(Number)
    text = `${text.slice(0, lastColon + 1)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return null
  const parse = (half: string): number[] | null => {
    if (half === '') return []
    const groups = half.split(':')
    if (!groups.every((g) => /^[0-9a-f]{1,4}$/i.test(g))) return null
    return groups.map((g) => Number.parseInt(g, 16))
  }
  const head = parse(halves[0])
  const rest = halves.length === 2 ? parse(halves[1]) : []
  if (!head || !rest) return null
  if (halves.length === 1) return head.length === 8 ? head : null
  const missing = 8 - head.length - rest.length
  // `::` stands for at least one group of zeros.
  if (missing < 1) return null
  return [...head, ...Array<number>(missing).fill(0), ...rest]
}
