/**
 * @module app
 * The runtime-agnostic HTTP app. `createApp(deps)` closes over its dependencies instead of reading
 * `c.env`, so the same routes run on Workers (backend = Durable Object stub) and Deno (backend =
 * in-process service over KV).
 *
 * Routes:
 *   GET  /healthz                 {"ok":true,"connected":bool}; config errors name the key
 *   GET  /admin                   sign-in form, or the owner's dashboard
 *   POST /admin/login             field `token` → session cookie, 303 /admin (401 when wrong)
 *   POST /admin/logout            clears the session
 *   GET  /admin/status            owner only: connection health as JSON
 *   POST /admin/disconnect        owner only: forget the local token set
 *   GET  /oauth/authorize         owner only: 302 to Constant Contact's consent page
 *   GET  /oauth/callback          state check, code exchange, 303 /admin
 *   GET  /__sandbox/authorize     sandbox only (CTCT_SANDBOX=1 on a loopback host)
 *   GET  /assets/app.css          the stylesheet (no inline styles, for the CSP)
 */
import { type Context, Hono } from 'hono'
import { deleteCookie, getCookie, setCookie } from 'hono/cookie'
import { csrf } from 'hono/csrf'
import { html } from 'hono/html'
import { HTTPException } from 'hono/http-exception'
import { secureHeaders } from 'hono/secure-headers'
import { EMBED_JS } from '../embed/embed.ts'
import { ACCESS_JWT_HEADER, createAccessVerifier } from './access.ts'
import { checkProfiles } from './catalog.ts'
import { type Config, isLoopbackHost } from './config.ts'
import { AppError, unwrap } from './errors.ts'
import { buildAuthorizeUrl, pkceChallenge, randomToken } from './oauth.ts'
import {
  adminTokenMatches,
  issueSession,
  SESSION_COOKIE,
  SESSION_TTL_SECONDS,
  verifySession,
} from './owner.ts'
import { issueSandboxCode } from './sandbox.ts'
import { type RelayBackend, STATE_TTL_MS } from './service.ts'
import { formSnippet } from './snippet.ts'
import {
  OWNER_TEST_ENV,
  type RelayEnv,
  registerSubscribe,
  subscribeErrorResponse,
} from './subscribe.ts'
import { dashboardPage, sandboxPage, signInPage } from './views/admin.ts'
import { messagePage, page, STYLESHEET } from './views/layout.ts'

export interface AppDeps {
  /** Validates on first use; throws `config_invalid` naming the key. */
  config: () => Config
  /** Called per request: on Workers a Durable Object stub is bound to the request that made it. */
  backend: () => RelayBackend
  now: () => number
  /** For outbound calls the app makes itself (Turnstile's siteverify). */
  fetch: typeof fetch
}

type Env = RelayEnv

const NOTICES: Record<string, string> = {
  connected: 'Connected to Constant Contact.',
  disconnected:
    'Disconnected. The tokens stored here are gone; the grant at Constant Contact is not revoked.',
  retrying: 'Queued for another delivery attempt.',
  deleted: 'Dead letter deleted.',
}

const ERROR_TITLES: Partial<Record<AppError['code'], string>> = {
  state_missing: 'Connection failed',
  state_unknown: 'Connection failed',
  state_expired: 'Connection link expired',
  state_used: 'Connection link already used',
  consent_denied: 'Access was not granted',
  code_missing: 'Connection failed',
  token_exchange_failed: 'Connection failed',
  unauthorized: 'Sign-in required',
  config_invalid: 'Configuration error',
  sandbox_forbidden: 'Sandbox refused',
}

function wantsHtml(c: Context): boolean {
  const path = c.req.path
  if (path === '/healthz' || path === '/admin/status') return false
  return (c.req.header('accept') ?? '').includes('text/html') || path.startsWith('/oauth/')
}

export function createApp(deps: AppDeps): Hono<Env> {
  const app = new Hono<Env>()

  app.onError((err, c) => {
    if (err instanceof HTTPException) return err.getResponse()
    const appError = err instanceof AppError ? err : null
    if (!appError) {
      console.error(
        JSON.stringify({ msg: 'unhandled_error', path: c.req.path, error: String(err) })
      )
      return c.json({ ok: false, error: 'internal_error', message: 'Internal error' }, 500)
    }
    if (appError.code === 'config_invalid') {
      console.error(JSON.stringify({ msg: 'config_invalid', ...appError.details }))
    }
    if (c.req.path.startsWith('/subscribe/')) return subscribeErrorResponse(c, appError)
    const status = appError.status as 400
    if (wantsHtml(c)) {
      const next =
        appError.code === 'unauthorized'
          ? { href: '/admin', label: 'Sign in' }
          : { href: '/admin', label: 'Back to /admin' }
      return c.html(
        messagePage(ERROR_TITLES[appError.code] ?? 'Error', appError.message, next),
        status
      )
    }
    return c.json(
      { ok: false, error: appError.code, message: appError.message, ...appError.details },
      status
    )
  })

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

  // Everything below needs a valid configuration, and refuses the sandbox off loopback.
  app.use('*', async (c, next) => {
    const config = deps.config()
    if (config.sandbox && !isLoopbackHost(new URL(c.req.url).hostname)) {
      throw new AppError(
        'sandbox_forbidden',
        'CTCT_SANDBOX is set, but the sandbox only runs on a local host. Remove CTCT_SANDBOX from this deployment.'
      )
    }
    c.set('config', config)
    await next()
  })

  registerSubscribe(app, deps)

  app.get('/healthz', async (c) => {
    const status = await deps.backend().status()
    return c.json({ ok: true, connected: status.connected })
  })

  const ownerPages = ['/admin', '/admin/*', '/oauth/authorize', '/__sandbox/*']
  for (const path of ownerPages) {
    app.use(
      path,
      secureHeaders({
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
    )
  }
  // State-changing owner actions are POSTs; reject cross-site form posts by Origin.
  app.use('/admin/*', csrf())
  app.use('/__sandbox/*', csrf())

  // Cloudflare Access (optional): the verifier is built once per app (per env), on first use.
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

  const isOwner = async (c: Context<Env>): Promise<boolean> => {
    // A valid Access assertion is the owner; an absent or invalid one falls through.
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
  const requireOwner = async (c: Context<Env>) => {
    if (!(await isOwner(c))) {
      throw new AppError(
        'unauthorized',
        'Sign in at /admin first (or send Authorization: Bearer <ADMIN_TOKEN>).'
      )
    }
  }

  app.get('/admin', async (c) => {
    if (!(await isOwner(c))) {
      return c.html(signInPage({ sandboxHint: c.var.config.sandbox }))
    }
    const config = c.var.config
    const backend = deps.backend()
    const [status, deadLetters, sandboxView] = await Promise.all([
      backend.status(),
      backend.deadLetters(),
      backend.sandbox(),
    ])
    const catalogResult = status.connected ? await backend.catalog() : null
    const catalog = catalogResult?.ok ? catalogResult.value : null
    const catalogError = catalogResult && !catalogResult.ok ? catalogResult.message : null
    const checks = catalog ? checkProfiles(config.FORMS, catalog) : []
    const origin = new URL(c.req.url).origin
    const forms = await Promise.all(
      Object.entries(config.FORMS).map(async ([formId, profile]) => ({
        formId,
        snippet: await formSnippet(origin, formId, profile, catalog),
        check: checks.find((k) => k.form_id === formId) ?? null,
      }))
    )
    const notice = NOTICES[c.req.query('notice') ?? '']
    return c.html(
      dashboardPage({
        status,
        deadLetters,
        catalog,
        catalogError,
        forms,
        sandboxView,
        notice,
        sandbox: config.sandbox,
      })
    )
  })

  app.post('/admin/login', async (c) => {
    const form = await c.req.parseBody()
    const token = typeof form.token === 'string' ? form.token : ''
    if (!(await adminTokenMatches(token, c.var.config.ADMIN_TOKEN))) {
      return c.html(
        signInPage({ error: 'That token is not right.', sandboxHint: c.var.config.sandbox }),
        401
      )
    }
    setCookie(c, SESSION_COOKIE, await issueSession(c.var.config.ADMIN_TOKEN, deps.now()), {
      httpOnly: true,
      secure: true,
      // Lax, not Strict: the owner arrives back from CC's consent page by a cross-site redirect.
      sameSite: 'Lax',
      path: '/',
      maxAge: SESSION_TTL_SECONDS,
    })
    return c.redirect('/admin', 303)
  })

  app.post('/admin/logout', (c) => {
    deleteCookie(c, SESSION_COOKIE, { path: '/', secure: true })
    return c.redirect('/admin', 303)
  })

  app.get('/admin/status', async (c) => {
    await requireOwner(c)
    return c.json(await deps.backend().status())
  })

  // "Send a test sign-up" goes through the real relay path, as a visitor on the form's site would.
  app.post('/admin/forms/:formId/test', async (c) => {
    await requireOwner(c)
    const formId = c.req.param('formId')
    const profile = Object.hasOwn(c.var.config.FORMS, formId) ? c.var.config.FORMS[formId] : null
    if (!profile) throw new AppError('unknown_form', `No form profile "${formId}" in FORMS`)
    const form = await c.req.parseBody()
    const email = typeof form.email === 'string' ? form.email : ''
    const res = await app.request(
      new URL(`/subscribe/${formId}`, c.req.url).toString(),
      {
        method: 'POST',
        headers: {
          origin: profile.origins[0],
          accept: 'application/json',
          'content-type': 'application/json',
          'cf-connecting-ip': 'owner-test-sign-up',
        },
        body: JSON.stringify({ email }),
      },
      OWNER_TEST_ENV
    )
    const answer = await res.text()
    return c.html(
      page(
        `Test sign-up: ${res.status}`,
        html`<p class="message">The relay answered <strong data-test-status="${res.status}">${res.status}</strong>:</p>
          <pre><code>${answer}</code></pre>
          <p>200 means Constant Contact accepted it now; 202 means it is queued and will be delivered; anything else says what went wrong.</p>
          <p><a class="button" href="/admin">Back to /admin</a></p>`
      ),
      res.status >= 400 ? 400 : 200
    )
  })

  app.post('/admin/dead-letters/:id/retry', async (c) => {
    await requireOwner(c)
    const id = c.req.param('id') === 'all' ? 'all' : Number(c.req.param('id'))
    if (id !== 'all' && !Number.isInteger(id))
      throw new AppError('not_dead_letter', 'No such dead letter')
    const revived = await deps.backend().retryDeadLetter(id)
    if (revived === 0)
      throw new AppError('not_dead_letter', 'No such dead letter (already retried or deleted?)')
    return c.redirect('/admin?notice=retrying', 303)
  })

  app.post('/admin/dead-letters/:id/delete', async (c) => {
    await requireOwner(c)
    const id = Number(c.req.param('id'))
    if (!Number.isInteger(id) || !(await deps.backend().deleteDeadLetter(id))) {
      throw new AppError('not_dead_letter', 'No such dead letter (already retried or deleted?)')
    }
    return c.redirect('/admin?notice=deleted', 303)
  })

  app.post('/admin/disconnect', async (c) => {
    await requireOwner(c)
    await deps.backend().disconnect()
    return c.redirect('/admin?notice=disconnected', 303)
  })

  app.get('/oauth/authorize', async (c) => {
    await requireOwner(c)
    const config = c.var.config
    const origin = new URL(c.req.url).origin
    const redirectUri = config.CC_REDIRECT_URI ?? `${origin}/oauth/callback`
    const state = randomToken(32)
    // Without a client secret the app is a public client: PKCE protects the code instead.
    const codeVerifier = config.CC_CLIENT_SECRET ? null : randomToken(48)
    await deps.backend().beginAuthorization({
      state,
      redirectUri,
      codeVerifier,
      expiresAt: deps.now() + STATE_TTL_MS,
    })
    const url = buildAuthorizeUrl({
      authorizeUrl: config.sandbox ? `${origin}/__sandbox/authorize` : config.CC_AUTHORIZE_URL,
      clientId: config.CC_CLIENT_ID,
      redirectUri,
      scopes: config.CC_SCOPES,
      state,
      codeChallenge: codeVerifier ? await pkceChallenge(codeVerifier) : undefined,
    })
    c.header('cache-control', 'no-store')
    return c.redirect(url, 302)
  })

  app.get('/oauth/callback', async (c) => {
    const { state, code, error } = c.req.query()
    if (!state) {
      throw new AppError(
        'state_missing',
        error === 'access_denied'
          ? 'Access was denied on the Constant Contact consent page, and the callback carried no state. Start again from /admin.'
          : 'The callback carried no state, so it cannot be matched to a Connect you started. Start again from /admin.'
      )
    }
    const result = await deps.backend().completeAuthorization({ state, code, error })
    unwrap(result)
    if (result.ok && !result.value.refreshable) {
      return c.html(
        messagePage(
          'Connected, but without a refresh token',
          'Constant Contact returned no refresh token, so this connection stops working when the access token expires (24 hours). Add offline_access to CC_SCOPES (and make sure your CC app allows it), then Reconnect from /admin.',
          { href: '/admin', label: 'Go to /admin' }
        )
      )
    }
    return c.redirect('/admin?notice=connected', 303)
  })

  // The sandbox's consent page, standing in for CC's. Only on loopback (checked above).
  app.get('/__sandbox/authorize', async (c) => {
    if (!c.var.config.sandbox) throw new AppError('not_found', 'Not found')
    const q = c.req.query()
    return c.html(
      page(
        'Sandbox: allow access?',
        html`<p class="card">This page stands in for Constant Contact's consent screen. Nothing leaves this machine.</p>
          <form method="post" action="/__sandbox/authorize">
            ${['client_id', 'redirect_uri', 'state', 'code_challenge', 'scope'].map(
              (k) => html`<input type="hidden" name="${k}" value="${q[k] ?? ''}" />`
            )}
            <p>Scopes requested: <code>${q.scope ?? ''}</code></p>
            <button type="submit" name="decision" value="allow">Allow</button>
            <button class="secondary" type="submit" name="decision" value="deny">Deny</button>
          </form>`
      )
    )
  })

  app.get('/__sandbox', async (c) => {
    await requireOwner(c)
    const view = await deps.backend().sandbox()
    if (!view) throw new AppError('not_found', 'Not found')
    return c.html(sandboxPage(view))
  })

  app.post('/__sandbox/lists/:id/:action{delete|restore}', async (c) => {
    await requireOwner(c)
    const id = c.req.param('id')
    const op = c.req.param('action') === 'delete' ? { deleteList: id } : { restoreList: id }
    if (!(await deps.backend().sandbox(op))) throw new AppError('not_found', 'Not found')
    return c.redirect('/__sandbox', 303)
  })

  app.post('/__sandbox/authorize', async (c) => {
    if (!c.var.config.sandbox) throw new AppError('not_found', 'Not found')
    const form = await c.req.parseBody()
    const field = (k: string) => (typeof form[k] === 'string' ? (form[k] as string) : '')
    const target = new URL(field('redirect_uri'))
    if (!isLoopbackHost(target.hostname))
      throw new AppError('sandbox_forbidden', 'The sandbox only redirects to a local host.')
    target.searchParams.set('state', field('state'))
    if (field('decision') === 'allow') {
      const code = await issueSandboxCode({
        clientId: field('client_id'),
        redirectUri: field('redirect_uri'),
        codeChallenge: field('code_challenge') || null,
        now: deps.now(),
      })
      target.searchParams.set('code', code)
    } else {
      target.searchParams.set('error', 'access_denied')
    }
    return c.redirect(target.toString(), 302)
  })

  return app
}
