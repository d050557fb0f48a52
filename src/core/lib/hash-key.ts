/**
 * @module core/lib/hash-key
 * Short SHA-256 keys, so logs and the duplicate window name an address or a network without
 * storing it.
 */

/** A stable, non-reversible-at-a-glance key for logs and duplicate detection. */
export async function hashKey(...parts: string[]): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(parts.join('\0')))
  return [...new Uint8Array(digest).slice(0, 12)]
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('')
}
