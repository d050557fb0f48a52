/**
 * @module owner-middleware
 * Who may use the owner's pages, as Hono middleware. The owner is, in this order:
 * - a request carrying a valid Cloudflare Access assertion (when ACCESS_TEAM_DOMAIN and
 *   ACCESS_AUD are set; an absent or invalid one falls through to the other checks);
 * - `Authorization: Bearer <ADMIN_TOKEN>` (scripts; a wrong bearer is final, no cookie fallback);
 * - the signed session cookie set by POST /admin/login.
 *
 * @example
 * const isOwner = createOwnerCheck({ fetch, now: Date.now })
 * admin.post('/disconnect', ownerOnly(isOwner), (c) => …)
 * admin.get('/', async (c) => c.html((await isOwner(c)) ? <DashboardPage … /> : <SignInPage />))
 */
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import { secureHeaders } from 'hono/secure-headers'
import { ACCESS_JWT_HEADER, createAccessVerifier } from './access.ts'
import type { AppEnv } from './app-env.ts'
import type { Config } from './config.ts'
import { AppError } from './errors.ts'
import { adminTokenMatches, SESSION_COOKIE, verifySession } from './owner.ts'

export interface OwnerCheckDeps {
  /** For Cloudflare Access's key set. */
  fetch: typeof fetch
  now: () => number
}

/** True when the request is the owner's. */
export type OwnerCheck = (c: Context<AppEnv>) => Promise<boolean>

/** The owner check for one app. Pages that show others something else use it directly. */
export function createOwnerCheck(deps: OwnerCheckDeps): OwnerCheck {
  // Built on first use from the validated config, then kept: one per app, so one per env.
  let accessVerifier: ((jwt: string) => Promise<boolean>) | null | undefined
  const verifyAccess = (config: Config, jwt: string): Promise<boolean> => {
    if (accessVerifier === undefined) {
      accessVerifier =
        config.ACCESS_TEAM_DOMAIN && config.ACCESS_AUD
          ? createAccessVerifier({
              teamDomain: config.ACCESS_TEAM_DOMAIN,
              aud: config.ACCESS_AUD,
              fetch: deps.fetch,
              now: deps.now,
            })
          : null
    }
    return accessVerifier ? accessVerifier(jwt) : Promise.resolve(false)
  }

  return async function isOwner(c) {
    const assertion = c.req.header(ACCESS_JWT_HEADER)
    if (assertion && (await verifyAccess(c.var.config, assertion))) return true
    const adminToken = c.var.config.ADMIN_TOKEN
    const authorization = c.req.header('authorization')
    if (authorization?.startsWith('Bearer ')) {
      return adminTokenMatches(authorization.slice(7), adminToken)
    }
    const session = getCookie(c, SESSION_COOKIE)
    return session ? verifySession(session, adminToken, deps.now()) : false
  }
}

/** Refuses anyone but the owner with 401 `unauthorized`, before the route runs. */
export function ownerOnly(isOwner: OwnerCheck): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async function ownerOnly(c, next) {
    if (!(await isOwner(c))) {
      throw new AppError(
        'unauthorized',
        'Sign in at /admin first (or send Authorization: Bearer <ADMIN_TOKEN>).'
      )
    }
    await next()
  })
}

/**
 * The headers of every owner page, the sign-in form included: no script can run at all
 * (default-src 'none' and no script-src), styles only from /assets, forms post only here, and
 * no framing. The views have no inline styles or scripts, so nothing needs an exception.
 */
export const ownerPageHeaders = secureHeaders({
  contentSecurityPolicy: {
    defaultSrc: ["'none'"],
    styleSrc: ["'self'"],
    imgSrc: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
    baseUri: ["'none'"],
  },
  referrerPolicy: 'no-referrer',
})
