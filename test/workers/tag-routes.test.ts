/**
 * The owner's tags API (/admin/api/tags), which the editor's tag picker uses, and the check of a
 * form's tags against the account's.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { cc, clock } from '../support/edge.ts'
import { call, connect, ORIGIN, OWNER, signIn } from '../support/helpers.ts'
import { TAG_1, TAGS } from '../support/network.ts'

beforeAll(async () => {
  expect((await connect()).status).toBe(303)
})

const JSON_OWNER = { ...OWNER, 'content-type': 'application/json' }

const newTag = (body: unknown, headers: Record<string, string> = JSON_OWNER) =>
  call('/admin/api/tags', { method: 'POST', headers, body: JSON.stringify(body) })

const tagNames = async () => {
  const res = await call('/admin/api/tags', { headers: OWNER })
  expect(res.status).toBe(200)
  return ((await res.json()) as { tags: { tag_id: string; name: string }[] }).tags
}

describe('/admin/api/tags', () => {
  it('lists the account’s tags, from the catalog', async () => {
    expect(await tagNames()).toEqual(TAGS)
  })

  it('creates a tag by name (201), which the list and a form may use at once', async () => {
    const res = await newTag({ name: '  Sourdough class ' })
    expect(res.status).toBe(201)
    const tag = (await res.json()) as { tag_id: string; name: string }
    expect(tag.name).toBe('Sourdough class')
    expect(cc.tags.some((t) => t.tag_id === tag.tag_id)).toBe(true)
    const reads = cc.apiCalls.length
    expect(await tagNames()).toContainEqual(tag)
    expect(cc.apiCalls).toHaveLength(reads) // the catalog kept learnt it: no read of CC
    const form = await call('/admin/api/forms/classes', {
      method: 'PUT',
      headers: JSON_OWNER,
      body: JSON.stringify({
        lists: ['9e2f7d10-1111-4c3b-8e42-000000000001'],
        origins: ['https://site.test'],
        tags: [tag.tag_id, TAG_1],
      }),
    })
    expect(form.status).toBe(201)
  })

  it('a name taken (whatever its case) is 409 tag_exists', async () => {
    const res = await newTag({ name: 'bread LOVER' })
    expect(res.status).toBe(409)
    expect(await res.json()).toMatchObject({ ok: false, error: 'tag_exists' })
  })

  it('a bad name is 400 invalid_input naming `name`; so is CC’s own refusal', async () => {
    for (const body of [{ name: '' }, { name: 'a<b' }, { name: 'x'.repeat(256) }, {}, 'x']) {
      const res = await newTag(body)
      expect(res.status, JSON.stringify(body)).toBe(400)
      const answer = (await res.json()) as { error: string; fields: Record<string, string> }
      expect(answer.error).toBe('invalid_input')
      expect(Object.keys(answer.fields)).toEqual(['name'])
    }
    // CC refuses a 501st tag with a 400: said under `name`, with CC's reason.
    const full = cc.tags
    cc.tags = Array.from({ length: 500 }, (_, i) => ({ tag_id: `t${i}`, name: `Tag ${i}` }))
    try {
      const res = await newTag({ name: 'One too many' })
      expect(res.status).toBe(400)
      expect(((await res.json()) as { fields: { name: string } }).fields.name).toContain(
        'Constant Contact refused it: The account has 500 tags'
      )
    } finally {
      cc.tags = full
    }
  })

  it('is the owner’s only, and takes JSON only (no cross-site form can post it)', async () => {
    expect((await call('/admin/api/tags')).status).toBe(401)
    expect((await newTag({ name: 'Anon' }, { 'content-type': 'application/json' })).status).toBe(
      401
    )
    const form = await call('/admin/api/tags', {
      method: 'POST',
      headers: { ...OWNER, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'name=Form',
    })
    expect(form.status).toBe(415)
    // The owner's session cookie, sent by a page on another site: refused before anything else.
    const cookie = await signIn()
    const crossSite = await call('/admin/api/tags', {
      method: 'POST',
      headers: { cookie, origin: 'https://evil.test', 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Cross' }),
    })
    expect(crossSite.status).toBe(403)
    expect(((await crossSite.json()) as { error: string }).error).toBe('cross_origin_request')
    expect(cc.tags.some((t) => ['Form', 'Anon', 'Cross'].includes(t.name))).toBe(false)
  })
})

describe('a form’s tags', () => {
  it('must exist in the account: an unknown one is refused by its place', async () => {
    clock.advance(61_000) // the catalog read above (500 tags) is old enough to be read again
    const res = await call('/admin/api/forms/tagged', {
      method: 'PUT',
      headers: JSON_OWNER,
      body: JSON.stringify({
        lists: ['9e2f7d10-1111-4c3b-8e42-000000000001'],
        origins: ['https://site.test'],
        tags: [TAG_1, 'c6915956-fde3-4081-977e-0000000000ff'],
      }),
    })
    expect(res.status).toBe(400)
    expect(((await res.json()) as { fields: Record<string, string> }).fields).toEqual({
      'tags.1': 'Constant Contact has no such tag',
    })
  })
})
