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
import { ownerPageHeaders } from './owner-middleware.ts'

const OWNER_PATHS = /^\/(admin|oauth|__sandbox)(\/|$)/

export const securityHeaders = createMiddleware(async function securityHeaders(c, next) {
  await next()
  c.header('x-content-type-options', 'nosniff')
  if (OWNER_PATHS.test(c.req.path)) c.header('cache-control', 'no-store')
  const headers = c.res.headers
  if (
    headers.get('content-type')?.startsWith('text/html') &&
    !headers.has('content-security-policy')
  )
    // secureHeaders sets its headers after `next`: with a no-op one, on this response.
    await ownerPageHeaders(c, async () => {})
})
