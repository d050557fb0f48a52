/**
 * @module security-headers
 * What every answer carries, whichever area or error handler produced it (app.ts runs this
 * first, around everything):
 * - `X-Content-Type-Options: nosniff` on everything (/embed.js and the stylesheet included);
 * - on every HTML page that has no policy of its own (the visitors' pages, the callback's and
 *   every error page), the owner pages' headers: the strict CSP with `frame-ancestors 'none'`,
 *   `Referrer-Policy: no-referrer` and the rest of `ownerPageHeaders`;
 * - `Cache-Control: no-store` on the owner's paths (/admin…, /oauth/…, /__sandbox…), pages and
 *   JSON alike, so no browser or proxy keeps a dashboard, a status or a Connect redirect.
 */
import { createMiddleware } from 'hono/factory'
import { ownerPageHeaders } from '../owner/owner-only.ts'

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
