/**
 * @module core/tagging/tag-routes
 * The owner's JSON API for the account's tags, which the form editor's tag picker uses:
 *   GET  /admin/api/tags   200 {"tags":[{"tag_id","name"}]}, from the catalog (cached minutes)
 *   POST /admin/api/tags   body {"name"}: 201 {"tag_id","name"}; 400 invalid_input with
 *                          `fields.name`; 409 tag_exists; 415 unless the body is JSON
 * Owner only, and a POST with the session cookie from the dashboard's own origin (as every owner
 * API); it must also say it is JSON, which a page on another site cannot send without a CORS
 * preflight, which /admin/api never answers.
 * Mounted ahead of the dashboard's routes, as the forms API is.
 */
import type { MiddlewareHandler } from 'hono'
import { Hono } from 'hono/tiny'
import * as v from 'valibot'
import type { AppEnv } from '../app/app-env.ts'
import { AppError, unwrap } from '../app/errors.ts'
import { sameOriginUnlessBearer } from '../owner/owner-only.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { MAX_BODY_BYTES, readBounded } from '../signup/read-fields.ts'
import { TagNameSchema } from './tags.ts'

export interface TagRoutesDeps {
  backend: () => RelayBackend
  ownerOnly: MiddlewareHandler<AppEnv>
}

const NewTagSchema = v.object({ name: TagNameSchema }, 'must be an object with a name')

const invalidName = (message: string) =>
  new AppError('invalid_input', 'The tag name is not valid', {
    details: { fields: { name: message } },
  })

/** `{ name }` from a JSON body, or `invalid_input` naming what is wrong with it. */
async function readNewTag(request: Request): Promise<string> {
  if (!(request.headers.get('content-type') ?? '').startsWith('application/json'))
    throw new AppError('unsupported_media_type', 'Send the tag as application/json')
  const bytes = await readBounded(request.body, MAX_BODY_BYTES).catch(() => undefined)
  if (!bytes) throw invalidName('could not be read')
  let body: unknown
  try {
    body = JSON.parse(new TextDecoder().decode(bytes))
  } catch {
    throw invalidName('the body is not JSON')
  }
  const parsed = v.safeParse(NewTagSchema, body)
  if (!parsed.success) throw invalidName(parsed.issues[0].message)
  return parsed.output.name
}

export function tagRoutes(deps: TagRoutesDeps): Hono<AppEnv> {
  const api = new Hono<AppEnv>()
  api.use(deps.ownerOnly, sameOriginUnlessBearer)

  api.get('/', async (c) => {
    const catalog = unwrap(await deps.backend().catalog())
    return c.json({ tags: catalog.tags.map(({ tag_id, name }) => ({ tag_id, name })) })
  })

  api.post('/', async (c) => {
    const name = await readNewTag(c.req.raw)
    const created = await deps.backend().createTag(name)
    if (!created.ok && created.code === 'invalid_input') throw invalidName(created.message)
    const tag = unwrap(created)
    return c.json({ tag_id: tag.tag_id, name: tag.name }, 201)
  })

  return api
}
