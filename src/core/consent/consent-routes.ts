/**
 * @module core/consent/consent-routes
 * The owner's consent receipts API (owner only; README "Consent receipts"), mounted at /admin/api
 * ahead of the dashboard's routes, whose CSRF check would refuse a script's DELETE:
 *   GET    /admin/api/consents?email=       200 {"receipts":[…]}, newest first
 *   GET    /admin/api/consents.csv?from=&to=  every receipt given in the period, oldest first
 *   DELETE /admin/api/consents?email=       204: that person's receipts are erased
 * A missing or invalid query is 400 `invalid_input` with `fields`.
 */
import type { Context, MiddlewareHandler } from 'hono'
import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import type { AppEnv } from '../app/app-env.ts'
import { AppError } from '../app/errors.ts'
import { toCsv } from '../metrics/csv.ts'
import { sameOriginUnlessBearer } from '../owner/owner-only.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { parsePeriod } from './period.ts'
import { RECEIPT_COLUMNS, receiptRow, receiptView } from './receipt.ts'

export interface ConsentDeps {
  backend: () => RelayBackend
  ownerOnly: MiddlewareHandler<AppEnv>
}

/** An address as receipts keep it: trimmed and lowercased, so any spelling of it matches. */
const EmailQuery = v.pipe(
  v.string('is required'),
  v.trim(),
  v.toLowerCase(),
  v.nonEmpty('is required'),
  v.email('must be an email address'),
  v.maxLength(254, 'must be at most 254 characters')
)

const invalidInput = (field: string, message: string) =>
  new AppError('invalid_input', `${field} ${message}`, {
    details: { fields: { [field]: message } },
  })

function emailOf(c: Context): string {
  const parsed = v.safeParse(EmailQuery, c.req.query('email'))
  if (!parsed.success) throw invalidInput('email', parsed.issues[0].message)
  return parsed.output
}

export function consentRoutes(deps: ConsentDeps): Hono<AppEnv> {
  const api = new Hono<AppEnv>()
  // Per route, not api.use(): mounted at /admin/api, a middleware for every path would run for
  // the other owner APIs too.
  const guard = [deps.ownerOnly, sameOriginUnlessBearer] as const

  api.get('/consents', ...guard, async (c) => {
    const receipts = await deps.backend().consentsOf(emailOf(c))
    return c.json({ receipts: receipts.map(receiptView) })
  })

  api.delete('/consents', ...guard, async (c) => {
    await deps.backend().eraseConsents(emailOf(c))
    return c.body(null, 204)
  })

  // Streamed a page at a time: five years of receipts need not fit in memory. The first page is
  // read before answering, so a store that cannot be reached is an error, not an empty file.
  api.get('/consents.csv', ...guard, async (c) => {
    const parsed = parsePeriod(c.req.query('from'), c.req.query('to'))
    if (!parsed.ok) throw invalidInput(parsed.field, parsed.message)
    const backend = deps.backend()
    let page = await backend.consentsBetween(parsed.period)
    const encoder = new TextEncoder()
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(
          encoder.encode(toCsv([RECEIPT_COLUMNS, ...page.receipts.map(receiptRow)]))
        )
        if (page.next === null) controller.close()
      },
      async pull(controller) {
        if (page.next === null) return
        page = await backend.consentsBetween({ ...parsed.period, after: page.next })
        controller.enqueue(encoder.encode(toCsv(page.receipts.map(receiptRow))))
        if (page.next === null) controller.close()
      },
    })
    return c.body(body, 200, {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': 'attachment; filename="ctct-relay-consents.csv"',
    })
  })

  return api
}
