/** What every HTML answer must carry (src/core/app/security-headers.ts), asserted one way everywhere. */
import { expect } from 'vitest'

export function expectPageHeaders(res: Response): void {
  expect(res.headers.get('content-type')).toMatch(/^text\/html/)
  const csp = res.headers.get('content-security-policy') ?? ''
  expect(csp).toContain("frame-ancestors 'none'")
  expect(csp).toContain("default-src 'none'")
  // Scripts only from this origin's /assets (the snippet's Copy), never inline.
  expect(csp).toContain("script-src 'self'")
  expect(csp).not.toContain('unsafe-inline')
  expect(res.headers.get('x-content-type-options')).toBe('nosniff')
  expect(res.headers.get('referrer-policy')).toBe('no-referrer')
}
