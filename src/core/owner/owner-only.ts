/**
 * @module core/owner/owner-only
 * Hono middleware deciding who is the owner, checked in this order:
 * - a valid Cloudflare Access assertion (when ACCESS_TEAM_DOMAIN and ACCESS_AUD are set; an
 *   absent or invalid one falls through);
 * - `Authorization: Bearer <ADMIN_TOKEN>`: a wrong one is final and counts as a failed sign-in
 *   (429 `rate_limited` after ten);
 * - the session cookie from POST /admin/login, while its session is live.
 *
 * @example
 * const isOwner = createOwnerCheck({ fetch, now: Date.now, backend })
 * admin.post('/disconnect', ownerOnly(isOwner), (c) => …)
 * admin.get('/', async (c) => c.html((await isOwner(c)) ? <DashboardPage … /> : <SignInPage />))
 */
import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../app/app-env.ts'
import type { Config } from '../app/config.ts'
import { AppError } from '../app/errors.ts'
import { hashKey } from '../lib/hash-key.ts'
import { networkKey } from '../lib/network-key.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { ACCESS_JWT_HEADER, createAccessVerifier } from './cloudflare-access.ts'
import { adminTokenMatches, SESSION_COOKIE, verifySession } from './credentials.ts'

export interface OwnerCheckDeps {
  /** For Cloudflare Access's key set. */
  fetch: typeof fetch
  now: () => number
  /** Where sessions and failed sign-ins are kept (the Durable Object), shared by every isolate. */
  backend: () => RelayBackend
}

/**
 * Checks one attempt with ADMIN_TOKEN (the sign-in form's field, a Bearer) against the sign-in
 * throttle, counting it when wrong. True when it is the owner; 429 `rate_limited` when the
 * client's network is locked out, whether or not the token is right.
 */
export async function tryAdminToken(
  c: Context<AppEnv>,
  backend: RelayBackend,
  token: string
): Promise<boolean> {
  const valid = await adminTokenMatches(token, c.var.config.ADMIN_TOKEN)
  const client = await hashKey('owner', networkKey(c.req.header('cf-connecting-ip')))
  const verdict = await backend.ownerAttempt(client, valid)
  if (verdict.status === 'throttled') {
    const minutes = Math.ceil(verdict.retryAfterSeconds / 60)
    throw new AppError(
      'rate_limited',
      `Too many failed sign-ins from your network. Try again in ${minutes} minute(s).`,
      { headers: { 'retry-after': String(verdict.retryAfterSeconds) } }
    )
  }
  return verdict.status === 'allowed'
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
    const authorization = c.req.header('authorization')
    if (authorization?.startsWith('Bearer ')) {
      return tryAdminToken(c, deps.backend(), authorization.slice(7))
    }
    const cookie = getCookie(c, SESSION_COOKIE, 'host')
    const session = cookie && (await verifySession(cookie, c.var.config.ADMIN_TOKEN, deps.now()))
    return session ? deps.backend().sessionLive(session) : false
  }
}

/**
 * hono's csrf() rule, which the dashboard's own forms are held to (a same-origin Sec-Fetch-Site
 * or Origin), for every method but GET and HEAD, whatever the body (JSON, or none): a browser sends
 * the session cookie on its own, a Bearer token only when a script adds it. For the owner's APIs
 * mounted ahead of the dashboard, whose csrf() would refuse a script's DELETE.
 */
export const sameOriginUnlessBearer: MiddlewareHandler<AppEnv> = async (c, next) => {
  const bearer = c.req.header('authorization')?.startsWith('Bearer ')
  if (!/^(GET|HEAD)$/.test(c.req.method) && !bearer) {
    const sameOrigin =
      c.req.header('sec-fetch-site') === 'same-origin' ||
      c.req.header('origin') === new URL(c.req.url).origin
    if (!sameOrigin)
      throw new AppError(
        'cross_origin_request',
        'Owner requests come from the dashboard itself, or carry Authorization: Bearer'
      )
  }
  await next()
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
