/**
 * @module core/lib/url
 * Valibot schemas for the http(s) URLs that config and form profiles accept, and the loopback hosts
 * where plain http is allowed.
 */
import * as v from 'valibot'

/**
 * Control characters (and the Unicode line separators) are refused in every URL and origin. URL
 * parsing silently drops tabs and newlines, so `v.url` lets them through, but the raw value is
 * what lands in a Location header, where CR or LF makes the response unbuildable: a plain-form
 * sign-up delivered to CC would then be answered 500.
 */
/** One line of text: no control characters, no Unicode line or paragraph separators. */
export const ONE_LINE = /^[^\p{Cc}\u2028\u2029]*$/u

export const noControlChars = v.regex(
  ONE_LINE,
  'must not contain control characters (tabs, line breaks)'
)

export const httpsUrl = v.pipe(
  v.string(),
  v.trim(),
  noControlChars,
  v.url('must be an absolute URL'),
  v.check((s) => /^https?:\/\//.test(s), 'must be an http(s) URL')
)
/**
 * For the endpoints that carry tokens, codes and secrets: https only, except on a loopback host
 * (local development, and the bench's stand-in Constant Contact on 127.0.0.1).
 */
export const secureUrl = v.pipe(
  httpsUrl,
  // valibot runs every check of a pipe even after one failed, so a value that is no URL at all
  // reaches this one too: it must fail, not throw.
  v.check((s) => {
    try {
      const url = new URL(s)
      return url.protocol === 'https:' || isLoopbackHost(url.hostname)
    } catch {
      return false
    }
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
