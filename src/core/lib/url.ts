/**
 * @module core/lib/url
 * URLs in configuration and form profiles: valibot schemas for the http(s) URLs the relay
 * accepts, and what counts as a loopback host (where plain http is allowed).
 */
import * as v from 'valibot'

export const httpsUrl = v.pipe(
  v.string(),
  v.trim(),
  v.url('must be an absolute URL'),
  v.check((s) => /^https?:\/\//.test(s), 'must be an http(s) URL')
)
/**
 * For the endpoints that carry tokens, codes and secrets: https only, except on a loopback host
 * (local development, and the bench's stand-in Constant Contact on 127.0.0.1).
 */
export const secureUrl = v.pipe(
  httpsUrl,
  v.check((s) => {
    const url = new URL(s)
    return url.protocol === 'https:' || isLoopbackHost(url.hostname)
  }, 'must be https: (http: only on a loopback host)')
)
/** localhost, *.localhost, 127.0.0.0/8 and ::1: where plain http stays on this machine. */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname.endsWith('.localhost') ||
    /^127\.\d+\.\d+\.\d+$/.test(hostname) ||
    hostname === '[::1]' ||
    hostname === '::1'
  )
}
