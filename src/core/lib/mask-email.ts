/**
 * @module core/lib/mask-email
 * How the owner's pages show a visitor's address.
 */

/** Masks an address for the owner's view: "jane.doe@example.com" → "j•••e@example.com". */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@')
  if (at < 1) return '•••'
  const local = email.slice(0, at)
  const shown = local.length <= 2 ? `${local[0]}•••` : `${local[0]}•••${local[local.length - 1]}`
  return `${shown}${email.slice(at)}`
}
