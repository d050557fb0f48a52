/**
 * @module core/signup/subscribe-routes
 * `POST /subscribe/:formId`, the public contract site owners' HTML depends on (README "The form
 * contract"): JSON answers, or for a plain form post 303 redirects (`_next`, `success_url`,
 * `error_url?error=<code>`) and built-in pages. Success always means delivered or durably stored.
 * Errors are answered here, in the visitor's mode and with CORS for the profile's origins.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app/app-env.ts'
import { AppError } from '../app/errors.ts'
import { type FormDirectory, type FormEntry, withCurrentForm } from '../forms/forms.ts'
import { refusalEvent } from '../metrics/metrics.ts'
import { keepAliveOf } from '../metrics/outcome-recorder.ts'
import {
  type AcceptDeps,
  acceptSignup,
  reachedBackend,
  type SignupAnswer,
  signupAnswer,
  signupJson,
  visitorMessage,
} from './accept-signup.ts'
import { LABEL_KEYS } from './form-fields.ts'
import { MAX_BODY_BYTES, type ReadResult, readFields } from './read-fields.ts'
import { SignupErrorPage, ThanksPage } from './visitor-pages.tsx'
import { fieldLabel, type VisitorText, visitorText } from './visitor-text.ts'

/** How to answer this visitor: known once the route has seen the form id and the request. */
interface Visitor {
  formId: string
  form: FormEntry | null
  /** What the visitor reads: the form's language and wording. */
  text: VisitorText
  /** A script's post (JSON answers), not a plain HTML form's (redirects and pages). */
  json: boolean
  /** The post's origin, when it is one of the profile's: CORS answers echo it. */
  origin: string | null
}

type SubscribeEnv = { Variables: AppEnv['Variables'] & { visitor?: Visitor } }

export interface SubscribeDeps extends AcceptDeps {
  forms: FormDirectory
  /**
   * app.ts's config check. It runs inside this area, under its onError, so a sign-up that meets a
   * configuration error gets this area's JSON answer rather than an owner page.
   */
  requireConfig: MiddlewareHandler<AppEnv>
}

/** Mounted at /subscribe. */
export function subscribeRoutes(deps: SubscribeDeps): Hono<SubscribeEnv> {
  const app = new Hono<SubscribeEnv>()
  app.onError(visitorErrorResponse)
  app.use(deps.requireConfig)

  app.options('/:formId', async (c) => {
    const formId = c.req.param('formId')
    const origin = c.req.header('origin') ?? ''
    // Only the profile's own origins get a preflight answer, echoed, never '*'. A refusal is
    // confirmed against the current form; a stale yes costs nothing (the post is checked).
    const verdict = await withCurrentForm(deps.forms, c.var.config, formId, (f) => {
      const yes = f?.profile.origins.includes(origin) === true
      return Promise.resolve({ done: f ? yes : null, confirmed: yes })
    })
    // A refused preflight is counted as a refused post is (an unknown form is not a form's, and
    // is not counted). One attempt is never counted twice: a browser whose preflight is refused
    // does not send the post, and a plain form post has no preflight. So the owner reads one
    // refusal per visitor who tried, whichever way the page posts.
    if (verdict === false) {
      const refused = refusalEvent(formId, c.req.header('origin') ?? null, deps.now())
      deps.outcomes?.record(refused, keepAliveOf(c))
    }
    if (!verdict) return c.body(null, 403, { vary: 'Origin' })
    return c.body(null, 204, {
      ...corsHeaders(origin),
      'access-control-allow-methods': 'POST',
      'access-control-allow-headers': 'content-type, accept',
      'access-control-max-age': '86400',
    })
  })

  app.get('/:formId/thanks', async (c) => {
    const form = await deps.forms.find(c.var.config, c.req.param('formId'))
    if (!form) throw new AppError('unknown_form', 'This sign-up form does not exist.')
    return c.html(<ThanksPage siteUrl={form.profile.origins[0]} text={visitorText(form.profile)} />)
  })

  app.post('/:formId', async (c) => {
    const formId = c.req.param('formId')
    const config = c.var.config
    const accept = c.req.header('accept') ?? ''
    const contentType = c.req.header('content-type') ?? ''
    const json = accept.includes('application/json') || contentType.includes('application/json')
    // Read once, whichever copy of the form the sign-up is checked against.
    let read: ReadResult | undefined
    const answer = await withCurrentForm(deps.forms, config, formId, async (form) => {
      const visitor: Visitor = {
        formId,
        form,
        json,
        origin: null,
        text: visitorText(form?.profile, { ownerAlerted: !!config.ALERT_WEBHOOK_URL }),
      }
      c.set('visitor', visitor)
      if (!form) return unconfirmed('unknown_form', `No form "${formId}"`)
      const origin = requestOrigin(c)
      if (origin === null || !form.profile.origins.includes(origin))
        return unconfirmed('origin_not_allowed', `Origin ${origin ?? '(none)'} is not allowed`)
      visitor.origin = origin
      read ??= await readFields(c.req.raw, { maxBytes: MAX_BODY_BYTES })
      if (!read.ok) return { done: refusal(read.error, read.message), confirmed: true }
      // FORMS with Turnstile needs the secret to start at all (config.ts); a dashboard form
      // refuses instead of taking sign-ups unchecked.
      if (form.profile.turnstile && !config.TURNSTILE_SECRET_KEY && !config.sandbox)
        return unconfirmed('challenge_failed', 'TURNSTILE_SECRET_KEY is not set')
      const acceptance = await acceptSignup(deps, {
        formId,
        profile: form.profile,
        types: form.types,
        revision: form.revision,
        fields: read.fields,
        clientIp: c.req.header('cf-connecting-ip') ?? null,
        origin,
        referer: c.req.header('referer') ?? null,
        turnstileSecret: config.TURNSTILE_SECRET_KEY,
        keepAlive: keepAliveOf(c),
      })
      if (acceptance.outcome === 'stale') return { stale: acceptance.form }
      return { done: signupAnswer(acceptance), confirmed: reachedBackend(acceptance) }
    })
    if (!answer.ok) {
      // The one refusal decided here rather than in acceptSignup (which counts its own).
      if (answer.error.code === 'origin_not_allowed') {
        deps.outcomes?.record(refusalEvent(formId, requestOrigin(c), deps.now()), keepAliveOf(c))
      }
      throw answer.error
    }
    return accepted(c, c.var.visitor as Visitor, answer)
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

const refusal = (...args: ConstructorParameters<typeof AppError>): SignupAnswer => ({
  ok: false,
  error: new AppError(...args),
})

/** A refusal that rests on the form's profile alone: confirmed current before it is given. */
const unconfirmed = (...args: ConstructorParameters<typeof AppError>) => ({
  done: refusal(...args),
  confirmed: false,
})

/**
 * What the visitor read beside each field: the lists' legend, the consent statement, the
 * profile's own `labels`; and with `fields` (its snippet labels every field), the built-in
 * labels in the form's language. Other fields are named by their names, as before `fields`.
 */
function fieldLabels(text: VisitorText, profile: FormEntry['profile'] | undefined) {
  const labels: Record<string, string> = { list: text.lists_legend }
  if (profile?.fields)
    for (const key of LABEL_KEYS) labels[key] = fieldLabel(text, profile.labels, key)
  for (const [key, label] of Object.entries(profile?.labels ?? {})) labels[key] = label
  if (labels.email !== undefined) labels.email_address = labels.email
  if (profile?.consent) labels.consent = profile.consent.text
  return labels
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
    const { status, body } = signupJson(answer, visitor.text)
    return c.json(body, status, visitor.origin ? corsHeaders(visitor.origin) : {})
  }
  const thanks = `/subscribe/${visitor.formId}/thanks`
  const target = answer.next ?? visitor.form?.profile.success_url ?? thanks
  try {
    return c.redirect(target, 303)
  } catch (err) {
    // The sign-up is delivered or stored: a target that cannot be a Location header (a form
    // stored before the profile schema refused control characters in URLs) must not tell the
    // visitor it failed. The built-in thank-you page says what happened; the log says why.
    console.error(
      JSON.stringify({ msg: 'redirect_unusable', form: visitor.formId, error: String(err) })
    )
    return c.redirect(thanks, 303)
  }
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
    const { status, body } = signupJson({ ok: false, error: err }, visitor?.text)
    return c.json(body, status, headers)
  }
  const profile = visitor.form?.profile
  if (profile?.error_url) {
    const target = new URL(profile.error_url)
    target.searchParams.set('error', err.code)
    return c.redirect(target.toString(), 303)
  }
  // Back to where the post came from; for an unknown form, the page that sent it (a link only).
  const back = visitor.origin ?? profile?.origins[0] ?? c.req.header('referer') ?? '/'
  const fields = (err.details.fields ?? {}) as Record<string, string>
  return c.html(
    <SignupErrorPage
      message={visitorMessage(err, visitor.text)}
      fields={fields}
      labels={fieldLabels(visitor.text, profile)}
      back={back}
      text={visitor.text}
    />,
    err.status,
    headers
  )
}
