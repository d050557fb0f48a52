/**
 * @module core/webhooks/webhook-routes
 * The owner's webhooks (README "Webhooks", docs/webhooks.md), owner only.
 * The JSON API, mounted at /admin/api/webhooks ahead of the dashboard (whose CSRF check would
 * refuse a script's DELETE), bodies ≤ 16 KiB:
 *   GET    /                 200 {"webhooks":[{"id","url","events","forms","secret","last_delivery"}]}
 *   PUT    /:id              201 created (with its new secret), 200 updated (secret kept; re-enabled)
 *   DELETE /:id              204, 404 unknown
 *   POST   /:id/test         sends `webhook.test` now: 200 {"ok","status","duration_ms","error"}
 *   POST   /:id/enable       re-enables a disabled endpoint: 200
 * The page, mounted at /admin/webhooks by the dashboard (its CSRF check and owner headers):
 *   GET    /admin/webhooks   endpoints, secrets on request, the last 50 attempts of each
 *   POST   /admin/webhooks/:id/test|enable   the same as the API's, then 303 back
 */
import type { Context, MiddlewareHandler } from 'hono'
import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import type { AppEnv } from '../app/app-env.ts'
import { AppError, unwrap } from '../app/errors.ts'
import { FORM_ID } from '../forms/profile.ts'
import { secureUrl } from '../lib/url.ts'
import { readOwnerJson } from '../owner/owner-body.ts'
import { sameOriginUnlessBearer } from '../owner/owner-only.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { EVENT_TYPES } from './events.ts'
import type { EndpointInput } from './repo.ts'
import { WebhooksPage } from './webhook-pages.tsx'
import type { WebhookView } from './webhooks.ts'

export interface WebhookRouteDeps {
  backend: () => RelayBackend
  ownerOnly: MiddlewareHandler<AppEnv>
}

const EndpointBody = v.object({
  url: v.pipe(v.string('is required'), secureUrl),
  events: v.pipe(
    v.array(
      v.picklist(EVENT_TYPES, `each must be one of ${EVENT_TYPES.join(', ')}`),
      'must be a list of event types'
    ),
    v.minLength(1, 'must name at least one event type')
  ),
  forms: v.optional(
    v.nullable(
      v.array(
        v.pipe(v.string(), v.regex(FORM_ID, 'form ids use A-Z a-z 0-9 _ - (at most 64)')),
        'must be a list of form ids'
      )
    ),
    null
  ),
})

const invalidInput = (fields: Record<string, string>) =>
  new AppError('invalid_input', 'Some fields are invalid', { details: { fields } })

function idOf(c: Context): string {
  const id = c.req.param('id') ?? ''
  if (!FORM_ID.test(id)) throw invalidInput({ id: 'use A-Z a-z 0-9 _ - (at most 64)' })
  return id
}

async function endpointInput(c: Context, id: string): Promise<EndpointInput> {
  const parsed = v.safeParse(EndpointBody, await readOwnerJson(c.req.raw, 'body'))
  if (parsed.success) return { id, ...parsed.output }
  const fields: Record<string, string> = {}
  for (const issue of parsed.issues) {
    const field = v.getDotPath(issue)?.split('.')[0] ?? 'body'
    fields[field] ??= issue.message
  }
  throw invalidInput(fields)
}

/** The API's view of an endpoint: exactly the documented fields. */
function apiView(w: WebhookView, withLast = true) {
  const { id, url, events, forms, secret, last_delivery } = w
  return withLast
    ? { id, url, events, forms, secret, last_delivery }
    : { id, url, events, forms, secret }
}

const notFound = (id: string) => new AppError('not_found', `No webhook "${id}"`)

/** Saves it again as it is: that re-enables it (its secret and pending events are kept). */
async function enable(backend: RelayBackend, id: string): Promise<WebhookView> {
  const current = (await backend.webhooks()).find((w) => w.id === id)
  if (!current) throw notFound(id)
  const { url, events, forms } = current
  return (await backend.saveWebhook({ id, url, events, forms })).webhook
}

export function webhookApiRoutes(deps: WebhookRouteDeps): Hono<AppEnv> {
  const api = new Hono<AppEnv>()
  const guard = [deps.ownerOnly, sameOriginUnlessBearer] as const

  api.get('/', ...guard, async (c) => {
    const webhooks = await deps.backend().webhooks()
    return c.json({ webhooks: webhooks.map((w) => apiView(w)) })
  })

  api.put('/:id', ...guard, async (c) => {
    const input = await endpointInput(c, idOf(c))
    const { webhook, created } = await deps.backend().saveWebhook(input)
    return c.json(apiView(webhook, false), created ? 201 : 200)
  })

  api.delete('/:id', ...guard, async (c) => {
    const id = idOf(c)
    if (!(await deps.backend().deleteWebhook(id))) throw notFound(id)
    return c.body(null, 204)
  })

  api.post('/:id/test', ...guard, async (c) => {
    return c.json(unwrap(await deps.backend().testWebhook(idOf(c))))
  })

  api.post('/:id/enable', ...guard, async (c) => {
    return c.json(apiView(await enable(deps.backend(), idOf(c))))
  })

  return api
}

/** The page and its buttons; mounted inside /admin, whose middleware checks CSRF. */
export function webhookPageRoutes(deps: WebhookRouteDeps): Hono<AppEnv> {
  const page = new Hono<AppEnv>()
  page.get('/', deps.ownerOnly, async (c) => {
    const notice = c.req.query('notice')
    return c.html(<WebhooksPage webhooks={await deps.backend().webhooks()} notice={notice} />)
  })
  page.post('/:id/test', deps.ownerOnly, async (c) => {
    const id = idOf(c)
    const result = unwrap(await deps.backend().testWebhook(id))
    return c.redirect(`/admin/webhooks?notice=${result.ok ? 'test_ok' : 'test_failed'}#${id}`, 303)
  })
  page.post('/:id/enable', deps.ownerOnly, async (c) => {
    const id = idOf(c)
    await enable(deps.backend(), id)
    return c.redirect(`/admin/webhooks?notice=enabled#${id}`, 303)
  })
  return page
}
