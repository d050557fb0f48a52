/**
 * @module core/webhooks/signature
 * Standard Webhooks signing (https://github.com/standard-webhooks/standard-webhooks): HMAC-SHA256
 * keyed with the secret's bytes (the base64 after `whsec_`) over `${id}.${timestamp}.${body}`,
 * sent as `v1,<base64>`. WebCrypto only, so it runs on both runtimes.
 */

export const SECRET_PREFIX = 'whsec_'

const base64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes))

/** A new endpoint's secret: `whsec_` and the base64 of 32 random bytes. */
export function newSecret(): string {
  return SECRET_PREFIX + base64(crypto.getRandomValues(new Uint8Array(32)))
}

/** The signed content: the message id, the attempt's Unix seconds and the exact body. */
export function signingInput(id: string, timestamp: number, body: string): string {
  return `${id}.${timestamp}.${body}`
}

/** The `webhook-signature` header's value. */
export async function sign(
  secret: string,
  id: string,
  timestamp: number,
  body: string
): Promise<string> {
  const raw = Uint8Array.from(atob(secret.slice(SECRET_PREFIX.length)), (c) => c.charCodeAt(0))
  const key = await crypto.subtle.importKey('raw', raw, { name: 'HMAC', hash: 'SHA-256' }, false, [
    'sign',
  ])
  const input = new TextEncoder().encode(signingInput(id, timestamp, body))
  const mac = new Uint8Array(await crypto.subtle.sign('HMAC', key, input))
  return `v1,${base64(mac)}`
}
