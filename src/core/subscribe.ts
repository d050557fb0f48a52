/**
 * @module subscribe
 * `POST /subscribe/:formId`: the public contract that site owners' HTML depends on (README
 * "The form contract"). Two modes:
 * - JSON (Accept includes application/json, or a JSON body): status codes and small JSON bodies.
 * - HTML (a plain form post): 303 to `_next`, `success_url` or the built-in thank-you page; errors
 *   303 to `error_url?error=<code>`, or a built-in page that says what was wrong.
 * A success answer always means delivered to CC or durably stored: never "thanks" otherwise.
 */
import type { Context, Hono } from 'hono'
import { html } from 'hono/html'
import type { Config, FormProfile } from './config.ts'
import { AppError } from './errors.ts'
import { hashKey } from './outbox.ts'
import type { RelayBackend } from './service.ts'
import { validateSignup } from './signup.ts'
import { readSubmission } from './submission.ts'
import { verifyTurnstile } from './turnstile.ts'
import { page } from './views/layout.ts'

/** Generous for any sign-up form, small enough to bound parsing work. */
export const MAX_BODY_BYTES = 16 * 1024

export type RelayEnv = {
  Variables: {
    config: Config
    relay?: { formId: string; profile?: FormProfile; json: boolean; origin: string | null }
  }
}

export interface SubscribeDeps {
  backend: () => RelayBackend
  fetch: typeof fetch
  now: () => number
}

const VISITOR_MESSAGES: Partial<Record<AppError['code'], string>> = {
  unknown_form: 'This sign-up form does not exist.',
  origin_not_allowed: 'This form cannot be submitted from this site.',
  challenge_failed: 'The anti-spam check failed. Please go back and try again.',
  invalid_input: 'Some fields need attention. Please go back and check them.',
  payload_too_large: 'The form sent too much data.',
  unsupported_media_type: 'The form was sent in a format this service does not accept.',
  rate_limited: 'Too many sign-ups from your network. Please wait a minute and try again.',
  delivery_failed:
    'We could not complete your sign-up. The site owner has been notified; please try again later.',
  unavailable: 'Sign-ups are temporarily unavailable. Please try again in a few minutes.',
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

/** The answer to a failed submission, in the mode the visitor used. Called from app.onError. */
export function subscribeErrorResponse(
  c: Context<RelayEnv>,
  err: AppError
): Response | Promise<Response> {
  const relay = c.get('relay')
  const headers: Record<string, string> = relay?.origin ? corsHeaders(relay.origin) : {}
  if (err.code === 'rate_limited' && typeof err.details.retryAfter === 'number') {
    headers['retry-after'] = String(err.details.retryAfter)
  }
  const message = VISITOR_MESSAGES[err.code] ?? err.message
  if (!relay || relay.json) {
    const body: Record<string, unknown> = { ok: false, error: err.code, message }
    if (err.details.fields) body.fields = err.details.fields
    return c.json(body, err.status as 400, headers)
  }
  if (relay.profile?.error_url) {
    const target = new URL(relay.profile.error_url)
    target.searchParams.set('error', err.code)
    return c.redirect(target.toString(), 303)
  }
  const fields = (err.details.fields ?? {}) as Record<string, string>
  // Back to where the post came from; for an unknown form, the page that sent it (a link only).
  const back = relay.origin ?? relay.profile?.origins[0] ?? c.req.header('referer') ?? '/'
  return c.html(
    page(
      'Sign-up not completed',
      html`<p class="message">${message}</p>
        ${
          Object.keys(fields).length > 0
            ? html`<ul>
              ${Object.entries(fields).map(([k, m]) => html`<li><strong>${k}</strong>: ${m}</li>`)}
            </ul>`
            : ''
        }
        <p><a class="button" href="${back}">Back to the site</a></p>`
    ),
    err.status as 400,
    headers
  )
}

export function registerSubscribe(app: Hono<RelayEnv>, deps: SubscribeDeps): void {
  app.options('/subscribe/:formId', (c) => {
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

  app.get('/subscribe/:formId/thanks', (c) => {
    const profile = profileFor(c.var.config, c.req.param('formId'))
    if (!profile) throw new AppError('unknown_form', 'This sign-up form does not exist.')
    return c.html(
      page(
        'Thanks for signing up!',
        html`<p class="message">You're on the list.</p>
          <p><a class="button" href="${profile.origins[0]}">Back to the site</a></p>`
      )
    )
  })

  app.post('/subscribe/:formId', async (c) => {
    const started = deps.now()
    const formId = c.req.param('formId')
    const accept = c.req.header('accept') ?? ''
    const contentType = c.req.header('content-type') ?? ''
    const json = accept.includes('application/json') || contentType.includes('application/json')
    const profile = profileFor(c.var.config, formId)
    if (!profile) {
      c.set('relay', { formId, json, origin: null })
      throw new AppError('unknown_form', `No form profile "${formId}" in FORMS`)
    }
    const origin = requestOrigin(c)
    const allowed = origin !== null && profile.origins.includes(origin)
    c.set('relay', { formId, profile, json, origin: allowed ? origin : null })
    if (!allowed)
      throw new AppError('origin_not_allowed', `Origin ${origin ?? '(none)'} is not allowed`)

    const read = await readSubmission(c.req.raw, { maxBytes: MAX_BODY_BYTES })
    if (!read.ok) throw new AppError(read.error, read.message)
    const signup = validateSignup(read.fields, profile)
    if (!signup.ok) {
      throw new AppError('invalid_input', 'Some fields are invalid', {
        details: { fields: signup.fields },
      })
    }
    const emailHash = await hashKey(formId, signup.email)
    const log = (outcome: string, extra: Record<string, unknown> = {}) =>
      console.log(
        JSON.stringify({
          msg: 'submission',
          form: formId,
          outcome,
          email_hash: emailHash,
          duration_ms: deps.now() - started,
          ...extra,
        })
      )
    if (signup.honeypotFilled) {
      // Bots get the same answer as people, so the honeypot stays invisible to them.
      log('honeypot')
      return success(c, 'delivered', signup.next)
    }
    const config = c.var.config
    if (profile.turnstile && config.TURNSTILE_SECRET_KEY) {
      const verdict = await verifyTurnstile(
        {
          secret: config.TURNSTILE_SECRET_KEY,
          token: signup.turnstileToken,
          remoteIp: c.req.header('cf-connecting-ip') ?? null,
          idempotencyKey: crypto.randomUUID(),
          hostnames: profile.origins.map((o) => new URL(o).hostname),
          action: formId,
        },
        deps.fetch
      )
      if (!verdict.ok) {
        log('challenge_failed', { reason: verdict.reason })
        throw new AppError('challenge_failed', `Turnstile verification failed: ${verdict.reason}`)
      }
    }
    const clientKey = await hashKey('ip', c.req.header('cf-connecting-ip') ?? 'unknown')
    let result: Awaited<ReturnType<RelayBackend['submit']>>
    try {
      result = await deps.backend().submit({
        formId,
        payload: signup.body,
        emailHash,
        clientKey,
        skipDuplicateCheck: isOwnerTest(c),
      })
    } catch (err) {
      // Neither delivered nor stored: the visitor must hear that it failed.
      log('unavailable', { error: String(err) })
      throw new AppError('unavailable', 'The relay could not store the sign-up', { cause: err })
    }
    switch (result.status) {
      case 'delivered':
        log('delivered')
        return success(c, 'delivered', signup.next)
      case 'duplicate':
        log('duplicate', { of: result.of })
        return success(c, result.of, signup.next)
      case 'queued':
        log('queued')
        return success(c, 'queued', signup.next)
      case 'rate_limited':
        log('rate_limited')
        throw new AppError('rate_limited', 'Too many sign-ups from this client', {
          details: { retryAfter: result.retryAfterSeconds },
        })
      case 'rejected':
        log('rejected', { error_key: result.errorKey })
        throw new AppError('delivery_failed', 'Constant Contact rejected the sign-up')
    }
  })
}

/**
 * The dashboard's "send a test sign-up" dispatches through this route in-process with this flag
 * in the env argument of `app.request`; no visitor request can set it.
 */
export const OWNER_TEST_ENV = { ctctRelayOwnerTest: true } as const

function isOwnerTest(c: Context<RelayEnv>): boolean {
  const env = c.env as Partial<typeof OWNER_TEST_ENV> | undefined
  return env?.ctctRelayOwnerTest === true
}

function profileFor(config: Config, formId: string): FormProfile | undefined {
  return Object.hasOwn(config.FORMS, formId) ? config.FORMS[formId] : undefined
}

function success(c: Context<RelayEnv>, status: 'delivered' | 'queued', next?: string): Response {
  const relay = c.get('relay')
  if (!relay) throw new Error('relay context missing')
  const headers = relay.origin ? corsHeaders(relay.origin) : {}
  if (relay.json) {
    return c.json({ ok: true, status }, status === 'delivered' ? 200 : 202, headers)
  }
  const target = next ?? relay.profile?.success_url ?? `/subscribe/${relay.formId}/thanks`
  return c.redirect(target, 303)
}
