/**
 * @module core/owner/dashboard-routes
 * The owner's dashboard and its actions, at /admin. /admin shows the sign-in form to anyone else;
 * every route except login and logout is owner only. Errors go to app.ts's handler.
 */
import type { MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { csrf } from 'hono/csrf'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app/app-env.ts'
import { AppError } from '../app/errors.ts'
import { ownerPageHeaders } from '../app/security-headers.ts'
import { ConnectionPage } from '../connection/connection-page.tsx'
import { randomToken } from '../connection/oauth.ts'
import { formPageRoutes, loadFormsView } from '../forms/form-page-routes.tsx'
import { formEditorRoutes } from '../forms/form-routes.tsx'
import { type FormDirectory, withCurrentForm } from '../forms/forms.ts'
import { loadLastDay, metricsRoutes } from '../metrics/metrics-routes.tsx'
import { keepAliveOf } from '../metrics/outcome-recorder.ts'
import { originRoutes } from '../origins/origin-routes.tsx'
import { loadRefusalLines } from '../origins/refused-origins.tsx'
import {
  type AcceptDeps,
  acceptSignup,
  reachedBackend,
  signupAnswer,
  signupJson,
} from '../signup/accept-signup.ts'
import { visitorText } from '../signup/visitor-text.ts'
import { webhookPageRoutes } from '../webhooks/webhook-routes.tsx'
import {
  issueSession,
  SESSION_COOKIE,
  SESSION_TTL_SECONDS,
  setOwnerCookie,
  verifySession,
} from './credentials.ts'
import { FailedSignupsPage, OverviewPage, SignInPage, TestSignupPage } from './dashboard-pages.tsx'
import { noticeOf } from './notices.ts'
import { formField, formFields, ownerForm } from './owner-body.ts'
import { type OwnerCheck, tryAdminToken } from './owner-only.ts'

export interface AdminDeps extends AcceptDeps {
  isOwner: OwnerCheck
  ownerOnly: MiddlewareHandler<AppEnv>
  forms: FormDirectory
}

/** The owner's test sign-ups share one rate-limit bucket, apart from every visitor's. */
const OWNER_TEST_CLIENT = 'owner-test-sign-up'

export function adminRoutes(deps: AdminDeps): Hono<AppEnv> {
  const { isOwner, ownerOnly } = deps
  const admin = new Hono<AppEnv>()
  admin.use(ownerPageHeaders)
  // State-changing owner actions are POSTs; reject cross-site form posts by Origin.
  admin.use(csrf())
  admin.use(ownerForm)

  admin.get('/', async (c) => {
    const config = c.var.config
    if (!(await isOwner(c))) return c.html(<SignInPage sandboxHint={config.sandbox} />)
    const backend = deps.backend()
    const [view, deadLetters, sandboxView, webhooks, lastDay] = await Promise.all([
      loadFormsView(deps, c),
      backend.deadLetters(),
      backend.sandbox(),
      backend.webhooks(),
      loadLastDay(deps),
    ])
    const refusals = await loadRefusalLines(deps, config, view.dashboard)
    return c.html(
      <OverviewPage
        status={view.status}
        deadLetters={deadLetters}
        catalog={view.catalog.value}
        catalogError={view.catalog.error}
        forms={view.forms}
        webhooks={webhooks}
        refusals={refusals}
        lastDay={lastDay}
        sandboxView={sandboxView}
        notice={noticeOf(c)}
        sandbox={config.sandbox}
        scopes={config.CC_SCOPES}
      />
    )
  })

  admin.get('/failed', ownerOnly, async (c) => {
    const [view, deadLetters] = await Promise.all([
      loadFormsView(deps, c),
      deps.backend().deadLetters(),
    ])
    return c.html(
      <FailedSignupsPage
        status={view.status}
        deadLetters={deadLetters}
        catalog={view.catalog.value}
        forms={view.forms}
      />
    )
  })

  admin.get('/connection', ownerOnly, async (c) =>
    c.html(
      <ConnectionPage
        status={await deps.backend().status()}
        scopes={c.var.config.CC_SCOPES}
        alertWebhookUrl={c.var.config.ALERT_WEBHOOK_URL}
        notice={noticeOf(c)}
      />
    )
  )

  admin.post('/login', async (c) => {
    const config = c.var.config
    const backend = deps.backend()
    if (!(await tryAdminToken(c, backend, formField(c, 'token')))) {
      return c.html(
        <SignInPage error="That token is not right." sandboxHint={config.sandbox} />,
        401
      )
    }
    const id = randomToken()
    const now = deps.now()
    await backend.openSession(id, now + SESSION_TTL_SECONDS * 1000)
    const cookie = await issueSession(config.ADMIN_TOKEN, now, id)
    setOwnerCookie(c, SESSION_COOKIE, cookie, SESSION_TTL_SECONDS)
    return c.redirect('/admin', 303)
  })

  // Ends the session where it is kept, not just in this browser: a copied cookie is refused too.
  admin.post('/logout', async (c) => {
    const cookie = getCookie(c, SESSION_COOKIE, 'host')
    const id = cookie && (await verifySession(cookie, c.var.config.ADMIN_TOKEN, deps.now()))
    if (id) await deps.backend().closeSession(id)
    setOwnerCookie(c, SESSION_COOKIE, null)
    return c.redirect('/admin', 303)
  })

  admin.get('/status', ownerOnly, async (c) => c.json(await deps.backend().status()))
  admin.route('/', metricsRoutes(deps))
  admin.route('/', originRoutes(deps))

  // "Send a test sign-up": the visitor's acceptance and answer, minus the duplicate window, so
  // a repeated test reaches CC again.
  admin.post('/forms/:formId/test', ownerOnly, async (c) => {
    const formId = c.req.param('formId')
    // What a visitor of the form sends: the address, and the boxes they may tick.
    const { email = [''], list = [], consent = [] } = formFields(c)
    type Answer = ReturnType<typeof signupJson>
    const { status, body } = await withCurrentForm<Answer>(
      deps.forms,
      c.var.config,
      formId,
      async (f) => {
        if (!f) throw new AppError('unknown_form', `No form "${formId}"`)
        const acceptance = await acceptSignup(deps, {
          formId,
          profile: f.profile,
          types: f.types,
          revision: f.revision,
          fields: { email: email.slice(0, 1), list, consent: consent.slice(0, 1) },
          clientIp: OWNER_TEST_CLIENT,
          turnstileSecret: c.var.config.TURNSTILE_SECRET_KEY,
          skipDuplicateCheck: true,
          keepAlive: keepAliveOf(c),
        })
        if (acceptance.outcome === 'stale') return { stale: acceptance.form }
        const answer = signupJson(signupAnswer(acceptance), visitorText(f.profile))
        return { done: answer, confirmed: reachedBackend(acceptance) }
      }
    )
    return c.html(
      <TestSignupPage formId={formId} status={status} body={body} />,
      status >= 400 ? 400 : 200
    )
  })

  // A sign-up's dead letters at /dead-letters/:id, a tagging's at /dead-letters/tagging/:id.
  for (const kind of ['signup', 'tagging'] as const) {
    const path = kind === 'signup' ? '/dead-letters' : '/dead-letters/tagging'
    admin.post(`${path}/:id/retry`, ownerOnly, async (c) => {
      const id = c.req.param('id') === 'all' ? 'all' : Number(c.req.param('id'))
      if (id !== 'all' && !Number.isInteger(id))
        throw new AppError('not_dead_letter', 'No such dead letter')
      const { revived, waiting } = await deps.backend().retryDeadLetter(id, kind)
      if (revived === 0 && waiting === 0)
        throw new AppError('not_dead_letter', 'No such dead letter (already retried or deleted?)')
      // The replay stops at OUTBOX_MAX_PENDING; `waiting` tells the dashboard (and a script
      // reading the Location) how many are still dead letters.
      const notice = revived === 0 ? 'retry_full' : 'retrying'
      return c.redirect(`/admin?notice=${notice}${waiting > 0 ? `&waiting=${waiting}` : ''}`, 303)
    })

    admin.post(`${path}/:id/delete`, ownerOnly, async (c) => {
      const id = Number(c.req.param('id'))
      if (!Number.isInteger(id) || !(await deps.backend().deleteDeadLetter(id, kind))) {
        throw new AppError('not_dead_letter', 'No such dead letter (already retried or deleted?)')
      }
      return c.redirect('/admin?notice=deleted', 303)
    })
  }

  admin.route('/forms', formEditorRoutes(deps))
  // After the editor's, so /forms/new is the editor's.
  admin.route('/forms', formPageRoutes(deps))
  admin.route('/webhooks', webhookPageRoutes(deps))

  admin.post('/disconnect', ownerOnly, async (c) => {
    await deps.backend().disconnect()
    return c.redirect('/admin/connection?notice=disconnected', 303)
  })

  return admin
}
