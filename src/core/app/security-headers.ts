/**
 * @module core/app/security-headers
 * Headers on every answer (app.ts applies this around everything):
 * - `X-Content-Type-Options: nosniff` everywhere;
 * - on HTML pages without their own policy (visitor, callback and error pages), the owner pages'
 *   headers (`ownerPageHeaders`): strict CSP, `frame-ancestors 'none'`, `no-referrer`, …;
 * - `Cache-Control: no-store` on /admin…, /oauth/… and /__sandbox…, so no browser or proxy
 *   keeps a dashboard, a status or a Connect redirect.
 */
import { createMiddleware } from 'hono/factory'

const OWNER_PATHS = /^\/(admin|oauth|__sandbox)(\/|$)/

export const securityHeaders = createMiddleware(async function securityHeaders(c, next) {
  const owner = OWNER_PATHS.test(c.req.path)
  const always = () => {
    c.header('x-content-type-options', 'nosniff')
    if (owner) c.header('cache-control', 'no-store')
  }
  // Set before the route runs, these join every answer built on this context (c.json, c.html,
  // c.redirect, the error handlers' too) without copying a response afterwards.
  always()
  await next()
  // An answer built elsewhere (an HTTPException's, such as the CSRF check's 403): copied.
  const kept = (name: string, value: string) => c.res.headers.get(name) === value
  if (!kept('x-content-type-options', 'nosniff') || (owner && !kept('cache-control', 'no-store')))
    always()
  const headers = c.res.headers
  const html = headers.get('content-type')?.startsWith('text/html')
  // ownerPageHeaders sets its headers after `next`: with a no-op one, on this response.
  if (html && !headers.has('content-security-policy')) await ownerPageHeaders(c, async () => {})
})

/**
 * The headers of every owner page, the sign-in form included: scripts and styles only from
 * /assets (owner.js, the snippet's Copy; never inline), forms post only here, and no framing.
 * The views have no inline styles or scripts, so nothing needs an exception. The rest
 * are the usual hardening headers (the set hono's secureHeaders sends by default), written out
 * as constants: this runs on every page, and the middleware itself cost bytes in every bundle.
 */
const OWNER_PAGE_HEADERS: readonly [string, string][] = [
  [
    'Content-Security-Policy',
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  ],
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Cross-Origin-Opener-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Referrer-Policy', 'no-referrer'],
  ['Strict-Transport-Security', 'max-age=15552000; includeSubDomains'],
  ['X-Content-Type-Options', 'nosniff'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Frame-Options', 'SAMEORIGIN'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-XSS-Protection', '0'],
]

/** Sets the owner pages' headers on the answer, once the route has made it. */
export const ownerPageHeaders = createMiddleware(async function ownerPageHeaders(c, next) {
  await next()
  for (const [name, value] of OWNER_PAGE_HEADERS) c.res.headers.set(name, value)
  c.res.headers.delete('X-Powered-By')
})
