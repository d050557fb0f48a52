/**
 * @module core/lib/hash-key
 * SHA-256 in hex: short keys, so logs and the duplicate window name an address or a network
 * without storing it, and whole digests.
 */

/** A stable, non-reversible-at-a-glance key for logs and duplicate detection. */
export async function hashKey(...parts: string[]): Promise<string> {
  return (await sha256Hex(parts.join('\0'))).slice(0, 24)
}

/** The whole SHA-256 of a text's UTF-8 bytes, in lowercase hex (a consent statement's identity). */
export async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, '0')).join('')
}
