/**
 * @module routes/admin
 * The owner's dashboard and its actions, mounted at /admin. /admin itself shows the sign-in form
 * to anyone else; every other route but login and logout is owner-only. Errors are the app's
 * onError's (app.ts): a page or JSON, by what the request accepts.
 */
import { Hono, type MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import { csrf } from 'hono/csrf'
import { type AcceptDeps, acceptSignup, profileFor, signupAnswer, signupJson } from '../accept.ts'
import type { AppEnv } from '../app-env.ts'
import { checkProfiles } from '../catalog.ts'
import { AppError } from '../errors.ts'
import { randomToken } from '../oauth.ts'
import {
  issueSession,
  SESSION_COOKIE,
  SESSION_TTL_SECONDS,
  setOwnerCookie,
  verifySession,
} from '../owner.ts'
import { formField, ownerForm } from '../owner-form.ts'
import { type OwnerCheck, ownerPageHeaders, tryAdminToken } from '../owner-middleware.ts'
import { formSnippet } from '../snippet.ts'
import { DashboardPage, SignInPage, TestSignupPage } from '../views/admin.tsx'

export interface AdminDeps extends AcceptDeps {
  isOwner: OwnerCheck
  ownerOnly: MiddlewareHandler<AppEnv>
}

const NOTICES: Record<string, string> = {
  connected: 'Connected to Constant Contact.',
  disconnected:
    'Disconnected. The tokens stored here are gone; the grant at Constant Contact is not revoked.',
  retrying: 'Queued for another delivery attempt.',
  deleted: 'Dead letter deleted.',
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
        turnstile: profile.turnstile === true,
      }))
    )
    return c.html(
      <DashboardPage
        status={status}
        deadLetters={deadLetters}
        catalog={catalog}
        catalogError={catalogError}
        forms={forms}
        sandboxView={sandboxView}
        notice={NOTICES[c.req.query('notice') ?? '']}
        sandbox={config.sandbox}
      />
    )
  })

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

  // "Send a test sign-up": the visitor's acceptance and answer, minus the duplicate window, so
  // a repeated test reaches CC again.
  admin.post('/forms/:formId/test', ownerOnly, async (c) => {
    const formId = c.req.param('formId')
    const profile = profileFor(c.var.config, formId)
    if (!profile) throw new AppError('unknown_form', `No form profile "${formId}" in FORMS`)
    const email = formField(c, 'email')
    const acceptance = await acceptSignup(deps, {
      formId,
      profile,
      fields: { email: [email] },
      clientIp: OWNER_TEST_CLIENT,
      turnstileSecret: c.var.config.TURNSTILE_SECRET_KEY,
      skipDuplicateCheck: true,
    })
    const { status, body } = signupJson(signupAnswer(acceptance))
    return c.html(
      <TestSignupPage status={status} answer={JSON.stringify(body)} />,
      status >= 400 ? 400 : 200
    )
  })

  admin.post('/dead-letters/:id/retry', ownerOnly, async (c) => {
    const id = c.req.param('id') === 'all' ? 'all' : Number(c.req.param('id'))
    if (id !== 'all' && !Number.isInteger(id))
      throw new AppError('not_dead_letter', 'No such dead letter')
    const revived = await deps.backend().retryDeadLetter(id)
    if (revived === 0)
      throw new AppError('not_dead_letter', 'No such dead letter (already retried or deleted?)')
    return c.redirect('/admin?notice=retrying', 303)
  })

  admin.post('/dead-letters/:id/delete', ownerOnly, async (c) => {
    const id = Number(c.req.param('id'))
    if (!Number.isInteger(id) || !(await deps.backend().deleteDeadLetter(id))) {
      throw new AppError('not_dead_letter', 'No such dead letter (already retried or deleted?)')
    }
    return c.redirect('/admin?notice=deleted', 303)
  })

  admin.post('/disconnect', ownerOnly, async (c) => {
    await deps.backend().disconnect()
    return c.redirect('/admin?notice=disconnected', 303)
  })

  return admin
}
