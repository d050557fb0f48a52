/**
 * @module core/owner/owner-body
 * Reads the body of every owner POST (/admin/…, /__sandbox/…) with the bounded reader of
 * read-fields.ts: over MAX_BODY_BYTES is 413 `payload_too_large`, before any parsing. Routes use
 * `formField`, never `c.req.parseBody()`, which would buffer a body of any size.
 *
 * @example
 * admin.use(ownerForm)
 * admin.post('/login', (c) => … formField(c, 'token') …)
 */
import type { Context } from 'hono'
import { createMiddleware } from 'hono/factory'
import type { AppEnv } from '../app/app-env.ts'
import { AppError } from '../app/errors.ts'
import { type Fields, MAX_BODY_BYTES, readBounded, readFields } from '../signup/read-fields.ts'

const forms = new WeakMap<Request, Fields>()

export const ownerForm = createMiddleware<AppEnv>(async function ownerForm(c, next) {
  if (c.req.method === 'POST') {
    const read = await readFields(c.req.raw, { maxBytes: MAX_BODY_BYTES, emptyAllowed: true })
    if (!read.ok) throw new AppError(read.error, read.message)
    forms.set(c.req.raw, read.fields)
  }
  await next()
})

/** The first value of a field of the POST body, or '' (the field is absent or not a POST). */
export function formField(c: Context, name: string): string {
  return formFields(c)[name]?.[0] ?? ''
}

/** Every field of the POST body, each with all its values (empty when not a POST). */
export function formFields(c: Context): Fields {
  return forms.get(c.req.raw) ?? {}
}

/**
 * The JSON body of an owner API request, at most MAX_BODY_BYTES (413 past it); unreadable or not
 * JSON is 400 `invalid_input`, the problem named under `field`.
 */
export async function readOwnerJson(request: Request, field: string): Promise<unknown> {
  const invalid = (message: string) =>
    new AppError('invalid_input', 'Some fields are invalid', {
      details: { fields: { [field]: message } },
    })
  let bytes: Uint8Array | undefined
  try {
    bytes = await readBounded(request.body, MAX_BODY_BYTES)
  } catch {
    throw invalid('could not be read')
  }
  if (!bytes) throw new AppError('payload_too_large', `Send at most ${MAX_BODY_BYTES} bytes`)
  try {
    return JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw invalid('is not JSON')
  }
}
