/**
 * @module core/app/app
 * The runtime-agnostic HTTP app. `createApp(deps)` takes its dependencies instead of reading
 * `c.env`, so the same routes run on Workers and Deno. It serves the static assets and /healthz,
 * checks the config, handles the owner pages' errors, and mounts one sub-app per src/core/ folder.
 * Every answer passes through `securityHeaders`.
 *
 * Routes:
 *   GET  /embed.js                the progressive-enhancement script (cacheable, CORS *)
 *   GET  /assets/app.css          the stylesheet (no inline styles, for the CSP)
 *   GET  /healthz                 {"ok":true,"connected":bool}; config errors name the key
 *   signup/subscribe-routes.tsx, for visitors (CORS for the profile's origins, its own onError):
 *   OPTIONS /subscribe/:formId    CORS preflight, for the profile's origins only
 *   POST /subscribe/:formId       a sign-up: JSON answers, or 303 redirects for HTML forms
 *   GET  /subscribe/:formId/thanks  the built-in thank-you page
 *   owner/dashboard-routes.tsx, owner pages (strict CSP, CSRF-checked posts, bodies ≤ 16 KiB):
 *   GET  /admin                   sign-in form, or the owner's dashboard
 *   POST /admin/login             field `token` → session cookie, 303 /admin (401 when wrong;
 *                                 429 once a network has failed ten times in 15 minutes)
 *   POST /admin/logout            ends the session and clears the cookie
 *   GET  /admin/status            owner only: connection health as JSON
 *   POST /admin/forms/:formId/test  owner only: a test sign-up, answered as a visitor would be
 *   POST /admin/dead-letters[/tagging]/:id/retry   owner only (`all` retries every dead letter)
 *   POST /admin/dead-letters[/tagging]/:id/delete  owner only (/tagging: a tagging's)
 *   POST /admin/disconnect        owner only: forget the local token set
 *   forms/form-routes.tsx, owner only: forms made in the dashboard
 *   GET|PUT|DELETE /admin/api/forms[/:formId]   the owner's JSON API
 *   consent/consent-routes.ts, owner only: consent receipts
 *   GET|DELETE /admin/api/consents?email=   a person's receipts, or their erasure
 *   GET  /admin/api/consents.csv?from=&to=  every receipt of a period, as CSV
 *   tagging/tag-routes.ts, owner only: GET /admin/api/tags, POST /admin/api/tags {"name"}
 *   webhooks/webhook-routes.tsx, owner only: GET|PUT|DELETE /admin/api/webhooks[/:id],
 *   POST /admin/api/webhooks/:id/test|enable; the page GET /admin/webhooks and its buttons
 *   GET  /admin/forms/new, /admin/forms/:formId/edit; POST /admin/forms/editor, …/delete
 *   metrics/metrics-routes.tsx, inside /admin, owner only:
 *   GET  /admin/api/metrics?hours=N&form=ID   counters per hour and form, as JSON
 *   GET  /admin/activity[.csv]?form=&outcome=  the recent activity, as a page or CSV
 *   GET  /admin/dead-letters.csv  the dead letters, as CSV
 *   origins/origin-routes.tsx, inside /admin, owner only:
 *   GET  /admin/api/refused-origins   the origins forms refused today and yesterday (UTC)
 *   POST /admin/forms/:formId/origins  adds one to a dashboard form's origins, 303 to its page
 *   connection/oauth-routes.tsx:
 *   GET  /oauth/authorize         owner only: 302 to Constant Contact's consent page
 *   GET  /oauth/callback          state and its browser's cookie checked, code exchange, 303 /admin
 *   src/sandbox/routes.tsx, local entries only, CTCT_SANDBOX=1 on a loopback host, else 404:
 *   GET  /__sandbox/authorize     the stand-in consent page; POST answers it
 *   GET  /__sandbox               owner only: the stand-in's lists
 *   POST /__sandbox/lists/:id/delete|restore  owner only
 */
import type { Context, MiddlewareHandler } from 'hono'
import { createMiddleware } from 'hono/factory'
import { HTTPException } from 'hono/http-exception'
import { Hono } from 'hono/tiny'
import { EMBED_JS } from '../../embed/embed.ts'
import { oauthRoutes } from '../connection/oauth-routes.tsx'
import { consentRoutes } from '../consent/consent-routes.ts'
import { formsApiRoutes } from '../forms/form-routes.tsx'
import { FormDirectory } from '../forms/forms.ts'
import { isLoopbackHost } from '../lib/url.ts'
import type { EventSink } from '../metrics/metrics.ts'
import { OutcomeRecorder } from '../metrics/outcome-recorder.ts'
import { adminRoutes } from '../owner/dashboard-routes.tsx'
import { createOwnerCheck, ownerOnly } from '../owner/owner-only.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { subscribeRoutes } from '../signup/subscribe-routes.tsx'
import { tagRoutes } from '../tagging/tag-routes.ts'
import { MessagePage, STYLESHEET } from '../ui/layout.tsx'
import { OWNER_JS } from '../ui/owner-script.ts'
import { webhookApiRoutes } from '../webhooks/webhook-routes.tsx'
import type { AppEnv } from './app-env.ts'
import type { Config } from './config.ts'
import { AppError } from './errors.ts'
import type { SandboxKit } from './sandbox-slot.ts'
import { securityHeaders } from './security-headers.ts'

export interface AppDeps {
  /** Validates on first use; throws `config_invalid` naming the key. */
  config: () => Config
  /** Called per request: on Workers a Durable Object stub is bound to the request that made it. */
  backend: () => RelayBackend
  now: () => number
  /** For outbound calls the app makes itself (Turnstile's siteverify, Access's key set). */
  fetch: typeof fetch
  /** Sees every outcome the app decides itself (Workers Analytics Engine, when bound). */
  observe?: EventSink
  /** Counts those outcomes; by default the app makes its own (Deno passes one it can flush). */
  outcomes?: OutcomeRecorder
  /**
   * Whether the request reached a local server, the sandbox's precondition. Default: its host is
   * a loopback name, which holds on Workers (a deployed worker is never served on one). On Deno
   * any client can send `Host: localhost`, so src/adapters/deno/relay.ts also requires a loopback
   * listener.
   */
  isLocal?: (request: Request) => boolean
  /** The built-in sandbox: local entries only (src/sandbox/kit.ts). Without it, CTCT_SANDBOX is refused. */
  sandbox?: SandboxKit
}

export function createApp(appDeps: AppDeps): Hono<AppEnv> {
  const deps = { ...appDeps, outcomes: appDeps.outcomes ?? new OutcomeRecorder(appDeps) }
  const app = new Hono<AppEnv>()
  app.onError(errorResponse)
  app.use(securityHeaders)

  // Cacheable and dependency-free; sites include it with <script src=… defer>.
  app.get('/embed.js', (c) => {
    c.header('cache-control', 'public, max-age=3600')
    c.header('access-control-allow-origin', '*')
    return c.body(EMBED_JS, 200, { 'content-type': 'text/javascript; charset=utf-8' })
  })

  app.get('/assets/app.css', (c) => {
    c.header('cache-control', 'public, max-age=3600')
    return c.body(STYLESHEET, 200, { 'content-type': 'text/css; charset=utf-8' })
  })

  app.get('/assets/owner.js', (c) => {
    c.header('cache-control', 'public, max-age=3600')
    return c.body(OWNER_JS, 200, { 'content-type': 'text/javascript; charset=utf-8' })
  })

  // Everything below needs a valid configuration. The sign-up area is mounted first and runs
  // the gate itself, under its own onError: a visitor's post never gets an owner page. Its
  // routes answer before the app-wide check below would run again.
  const configCheck = requireConfig(deps.config, deps.isLocal ?? hostIsLoopback, !!deps.sandbox)
  const forms = new FormDirectory(deps.backend)
  app.route('/subscribe', subscribeRoutes({ ...deps, forms, requireConfig: configCheck }))
  app.use(configCheck)

  app.get('/healthz', async (c) => {
    const status = await deps.backend().status()
    return c.json({ ok: true, connected: status.connected })
  })

  const isOwner = createOwnerCheck(deps)
  const owner = { isOwner, ownerOnly: ownerOnly(isOwner) }
  // Ahead of the dashboard's routes, whose CSRF check would refuse a script's DELETE.
  app.route('/admin/api/forms', formsApiRoutes({ ...deps, ...owner, forms }))
  app.route('/admin/api', consentRoutes({ ...deps, ...owner }))
  app.route('/admin/api/tags', tagRoutes({ ...deps, ...owner }))
  app.route('/admin/api/webhooks', webhookApiRoutes({ ...deps, ...owner }))
  app.route('/admin', adminRoutes({ ...deps, ...owner, forms }))
  app.route('/oauth', oauthRoutes({ ...deps, ...owner }))
  if (deps.sandbox) app.route('/__sandbox', deps.sandbox.routes({ ...deps, ...owner }))

  return app
}

/**
 * Sets the validated configuration for the routes, and refuses the sandbox off loopback: on a
 * real deployment, sign-ups would go to the in-memory stand-in instead of Constant Contact. A
 * build without the sandbox (the deployed bundle) refuses CTCT_SANDBOX everywhere. A
 * configuration error is logged here, once, whichever area then answers it.
 */
function requireConfig(
  config: () => Config,
  isLocal: (request: Request) => boolean,
  hasSandbox: boolean
): MiddlewareHandler<AppEnv> {
  return createMiddleware<AppEnv>(async function requireConfig(c, next) {
    let current: Config
    try {
      current = config()
    } catch (err) {
      if (err instanceof AppError && err.code === 'config_invalid') {
        console.error(JSON.stringify({ msg: 'config_invalid', ...err.details }))
      }
      throw err
    }
    if (current.sandbox && !hasSandbox) {
      throw new AppError(
        'sandbox_forbidden',
        'CTCT_SANDBOX is set, but this build has no sandbox: it is for local runs (npm start). Remove CTCT_SANDBOX from this deployment.'
      )
    }
    if (current.sandbox && !isLocal(c.req.raw)) {
      throw new AppError(
        'sandbox_forbidden',
        'CTCT_SANDBOX is set, but the sandbox only runs on a local host. Remove CTCT_SANDBOX from this deployment.'
      )
    }
    c.set('config', current)
    await next()
  })
}

export function hostIsLoopback(request: Request): boolean {
  return isLoopbackHost(new URL(request.url).hostname)
}

const ERROR_TITLES: Partial<Record<AppError['code'], string>> = {
  state_missing: 'Connection failed',
  state_unknown: 'Connection failed',
  state_expired: 'Connection link expired',
  state_used: 'Connection link already used',
  state_mismatch: 'Connection started elsewhere',
  issuer_mismatch: 'Connection refused: wrong issuer',
  consent_denied: 'Access was not granted',
  code_missing: 'Connection failed',
  token_exchange_failed: 'Connection failed',
  unauthorized: 'Sign-in required',
  rate_limited: 'Too many sign-in attempts',
  payload_too_large: 'Request too large',
  config_invalid: 'Configuration error',
  sandbox_forbidden: 'Sandbox refused',
}

function wantsHtml(c: Context): boolean {
  const path = c.req.path
  if (path === '/healthz' || path === '/admin/status' || path.startsWith('/admin/api/'))
    return false
  return (c.req.header('accept') ?? '').includes('text/html') || path.startsWith('/oauth/')
}

/**
 * The app's onError: owner pages, OAuth, /healthz and unknown paths (the sign-up area has its
 * own). A page for a browser, else JSON with the code, the message and the details.
 */
function errorResponse(err: Error, c: Context<AppEnv>): Response | Promise<Response> {
  if (err instanceof HTTPException) return err.getResponse()
  if (!(err instanceof AppError)) {
    console.error(JSON.stringify({ msg: 'unhandled_error', path: c.req.path, error: String(err) }))
    return c.json({ ok: false, error: 'internal_error', message: 'Internal error' }, 500)
  }
  if (wantsHtml(c)) {
    const next = {
      href: '/admin',
      label: err.code === 'unauthorized' ? 'Sign in' : 'Back to /admin',
    }
    // A function call, not JSX: this module stays .ts, the name both entries import.
    const page = MessagePage({
      title: ERROR_TITLES[err.code] ?? 'Error',
      message: err.message,
      next,
    })
    return c.html(page, err.status, err.headers)
  }
  return c.json(
    { ok: false, error: err.code, message: err.message, ...err.details },
    err.status,
    err.headers
  )
}
