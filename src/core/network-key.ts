/**
 * @module network-key
 * The key a client's requests are counted under, for every per-client limit (the visitors'
 * sign-up limit, the owner's sign-in throttle): an IPv4 client by its address, an IPv6 client by
 * its /64. One subscriber, or one cloud VM, usually holds a whole /64, so keying the full /128
 * would hand a single host 2^64 fresh buckets.
 *
 * @example
 * networkKey('2001:db8:0:1:aaaa::7') // '2001:db8:0:1::/64'
 * networkKey('::ffff:192.0.2.1')     // '192.0.2.1' (an IPv4 client seen through IPv6)
 */

/** `ip` as CF-Connecting-IP (or Deno's TCP peer) gives it; anything unparsable keys as itself. */
export function networkKey(ip: string | null | undefined): string {
  const address = (ip ?? '').trim().toLowerCase().replace(/%.*$/, '')
  if (!address) return 'unknown'
  if (!address.includes(':')) return address
  const groups = ipv6Groups(address)
  if (!groups) return address
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return [groups[6] >> 8, groups[6] & 255, groups[7] >> 8, groups[7] & 255].join('.')
  }
  return `${groups
    .slice(0, 4)
    .map((g) => g.toString(16))
    .join(':')}::/64`
}

/** The eight 16-bit groups of an IPv6 address (`::` and a dotted IPv4 tail expanded), or null. */
function ipv6Groups(address: string): number[] | null {
  let text = address
  const tail = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(text)
  if (tail) {
    const octets = tail.slice(1).map(Number)
    if (octets.some((o) => o > 255)) return null
    text = `${text.slice(0, tail.index)}${((octets[0] << 8) | octets[1]).toString(16)}:${((octets[2] << 8) | octets[3]).toString(16)}`
  }
  const halves = text.split('::')
  if (halves.length > 2) return null
  const head = halves[0] ? halves[0].split(':') : []
  const rest = halves.length === 2 && halves[1] ? halves[1].split(':') : []
  const gap = halves.length === 2 ? 8 - head.length - rest.length : 0
  if (gap < 0 || (halves.length === 2 && gap === 0)) return null
  const parts = [...head, ...Array<string>(gap).fill('0'), ...rest]
  if (parts.length !== 8 || !parts.every((p) => /^[0-9a-f]{1,4}$/.test(p))) return null
  return parts.map((p) => Number.parseInt(p, 16))
}
