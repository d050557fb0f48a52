/**
 * @module routes/subscribe
 * `POST /subscribe/:formId`: the public contract that site owners' HTML depends on (README
 * "The form contract"). Two modes:
 * - JSON (Accept includes application/json, or a JSON body): status codes and small JSON bodies.
 * - HTML (a plain form post): 303 to `_next`, `success_url` or the built-in thank-you page; errors
 *   303 to `error_url?error=<code>`, or a built-in page that says what was wrong.
 * A success answer always means delivered to CC or durably stored: never "thanks" otherwise.
 *
 * This area answers its own errors (`visitorErrorResponse`), in the mode the visitor used and
 * with CORS headers for the profile's origins; the owner pages' error handler never sees them.
 */
import { type Context, Hono, type MiddlewareHandler } from 'hono'
import {
  type AcceptDeps,
  acceptSignup,
  profileFor,
  type SignupAnswer,
  signupAnswer,
  signupJson,
  visitorMessage,
} from '../accept.ts'
import type { AppEnv } from '../app-env.ts'
import type { FormProfile } from '../config.ts'
import { AppError } from '../errors.ts'
import { MAX_BODY_BYTES, readSubmission } from '../submission.ts'
import { SignupErrorPage, ThanksPage } from '../views/visitor.tsx'

/** How to answer this visitor: known once the route has seen the form id and the request. */
interface Visitor {
  formId: string
  profile?: FormProfile
  /** A script's post (JSON answers), not a plain HTML form's (redirects and pages). */
  json: boolean
  /** The post's origin, when it is one of the profile's: CORS answers echo it. */
  origin: string | null
}

type SubscribeEnv = { Variables: AppEnv['Variables'] & { visitor?: Visitor } }

export interface SubscribeDeps extends AcceptDeps {
  /**
   * app.ts's config gate. It runs inside this area, under its onError, so a sign-up that meets a
   * configuration error gets this area's JSON answer rather than an owner page.
   */
  requireConfig: MiddlewareHandler<AppEnv>
}

/** Mounted at /subscribe. */
export function subscribeRoutes(deps: SubscribeDeps): Hono<SubscribeEnv> {
  const app = new Hono<SubscribeEnv>()
  app.onError(visitorErrorResponse)
  app.use(deps.requireConfig)

  app.options('/:formId', (c) => {
    const profile = profileFor(c.var.config, c.req.param('formId'))
    const origin = c.req.header('origin')
    // Only the profile's own origins get a preflight answer, echoed, never '*'.
    if (!profile || !origin || !profile.origins.includes(origin)) {
      return c.body(null, 403, { vary: 'Origin' })
    }
    return c.body(null, 204, {
      ...corsHeaders(origin),
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type, accept',
      'access-control-max-age': '86400',
    })
  })

  app.get('/:formId/thanks', (c) => {
    const profile = profileFor(c.var.config, c.req.param('formId'))
    if (!profile) throw new AppError('unknown_form', 'This sign-up form does not exist.')
    return c.html(<ThanksPage siteUrl={profile.origins[0]} />)
  })

  app.post('/:formId', async (c) => {
    const formId = c.req.param('formId')
    const accept = c.req.header('accept') ?? ''
    const contentType = c.req.header('content-type') ?? ''
    const json = accept.includes('application/json') || contentType.includes('application/json')
    const profile = profileFor(c.var.config, formId)
    if (!profile) {
      c.set('visitor', { formId, json, origin: null })
      throw new AppError('unknown_form', `No form profile "${formId}" in FORMS`)
    }
    const origin = requestOrigin(c)
    const allowed = origin !== null && profile.origins.includes(origin)
    const visitor: Visitor = { formId, profile, json, origin: allowed ? origin : null }
    c.set('visitor', visitor)
    if (!allowed)
      throw new AppError('origin_not_allowed', `Origin ${origin ?? '(none)'} is not allowed`)

    const read = await readSubmission(c.req.raw, { maxBytes: MAX_BODY_BYTES })
    if (!read.ok) throw new AppError(read.error, read.message)
    const acceptance = await acceptSignup(deps, {
      formId,
      profile,
      fields: read.fields,
      clientIp: c.req.header('cf-connecting-ip') ?? null,
      turnstileSecret: c.var.config.TURNSTILE_SECRET_KEY,
    })
    const answer = signupAnswer(acceptance)
    if (!answer.ok) throw answer.error
    return accepted(c, visitor, answer)
  })

  return app
}

/** Origin, or absent that the Referer's origin: what a browser says the post came from. */
function requestOrigin(c: Context): string | null {
  const origin = c.req.header('origin')
  if (origin && origin !== 'null') return origin
  const referer = c.req.header('referer')
  if (!referer) return null
  try {
    return new URL(referer).origin
  } catch {
    return null
  }
}

function corsHeaders(origin: string): Record<string, string> {
  return { 'access-control-allow-origin': origin, vary: 'Origin' }
}

function accepted(
  c: Context<SubscribeEnv>,
  visitor: Visitor,
  answer: Extract<SignupAnswer, { ok: true }>
): Response {
  if (visitor.json) {
    const { status, body } = signupJson(answer)
    return c.json(body, status, visitor.origin ? corsHeaders(visitor.origin) : {})
  }
  const target =
    answer.next ?? visitor.profile?.success_url ?? `/subscribe/${visitor.formId}/thanks`
  return c.redirect(target, 303)
}

/**
 * The answer to a failed submission, in the mode the visitor used. Before the route knows the
 * mode (a configuration error, an unknown form on the thank-you page) the answer is JSON.
 */
function visitorErrorResponse(err: Error, c: Context<SubscribeEnv>): Response | Promise<Response> {
  // Not a visitor error (a bug): the app's onError logs it and answers 500.
  if (!(err instanceof AppError)) throw err
  const visitor = c.var.visitor
  const headers = { ...(visitor?.origin ? corsHeaders(visitor.origin) : {}), ...err.headers }
  if (!visitor || visitor.json) {
    const { status, body } = signupJson({ ok: false, error: err })
    return c.json(body, status, headers)
  }
  if (visitor.profile?.error_url) {
    const target = new URL(visitor.profile.error_url)
    target.searchParams.set('error', err.code)
    return c.redirect(target.toString(), 303)
  }
  // Back to where the post came from; for an unknown form, the page that sent it (a link only).
  const back = visitor.origin ?? visitor.profile?.origins[0] ?? c.req.header('referer') ?? '/'
  const fields = (err.details.fields ?? {}) as Record<string, string>
  return c.html(
    <SignupErrorPage message={visitorMessage(err)} fields={fields} back={back} />,
    err.status,
    headers
  )
}
