/** The model of Constant Contact holds CC's rules, since every suite and the bench rely on it. */
import { describe, expect, it } from 'vitest'
import { VirtualClock } from '../../test/support/virtual-clock.ts'
import { tokenRequest } from '../core/cc/client.ts'
import { pkceChallenge } from '../core/connection/oauth.ts'
import { CcModel, DroppedConnection, SANDBOX_LISTS, SANDBOX_TAGS } from './model.ts'

const BASE = 'https://cc.example'
const LIST = SANDBOX_LISTS[0].list_id

function setup() {
  const clock = new VirtualClock()
  return { clock, cc: new CcModel({ clock }) }
}

async function consent(cc: CcModel, challenge: string | null = null) {
  const q = new URLSearchParams({
    client_id: 'app',
    redirect_uri: 'https://relay.test/oauth/callback',
    state: 's',
    scope: 'account_read contact_data offline_access',
  })
  if (challenge) q.set('code_challenge', challenge)
  const res = await cc.handle(new Request(`${BASE}/oauth2/authorize?${q}`))
  return new URL(res.headers.get('location') ?? '').searchParams.get('code') ?? ''
}

function token(cc: CcModel, form: Record<string, string>, basic?: string) {
  return cc.handle(
    new Request(`${BASE}/oauth2/token`, {
      method: 'POST',
      headers: basic ? { authorization: `Basic ${btoa(basic)}` } : {},
      body: new URLSearchParams(form),
    })
  )
}

async function connected(cc: CcModel) {
  const verifier = 'v'.repeat(43)
  const code = await consent(cc, await pkceChallenge(verifier))
  const res = await token(cc, {
    grant_type: 'authorization_code',
    code,
    redirect_uri: 'https://relay.test/oauth/callback',
    client_id: 'app',
    code_verifier: verifier,
  })
  expect(res.status).toBe(200)
  return (await res.json()) as { access_token: string; refresh_token: string }
}

const signup = (cc: CcModel, access: string, body: unknown) =>
  cc.handle(
    new Request(`${BASE}/v3/contacts/sign_up_form`, {
      method: 'POST',
      headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    })
  )

describe('OAuth', () => {
  it('a code works once, with the PKCE verifier that matches its challenge', async () => {
    const { cc } = setup()
    const code = await consent(cc, await pkceChallenge('right-verifier-right-verifier-right-verif'))
    const form = {
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://relay.test/oauth/callback',
      client_id: 'app',
    }
    expect((await token(cc, { ...form, code_verifier: 'wrong' })).status).toBe(400)
    // Single use: even the right verifier cannot redeem a code that was already presented.
    const again = await token(cc, {
      ...form,
      code_verifier: 'right-verifier-right-verifier-right-verif',
    })
    expect(await again.json()).toMatchObject({ error: 'invalid_grant' })
  })

  it('a code without PKCE needs client authentication (HTTP Basic)', async () => {
    const { cc } = setup()
    const form = (code: string) => ({
      grant_type: 'authorization_code',
      code,
      redirect_uri: 'https://relay.test/oauth/callback',
    })
    expect((await token(cc, { ...form(await consent(cc)), client_id: 'app' })).status).toBe(401)
    expect((await token(cc, form(await consent(cc)), 'app:secret')).status).toBe(200)
  })

  it('decodes Basic credentials as RFC 6749 §2.3.1 encodes them (form-urlencoded)', async () => {
    const { cc } = setup()
    const client = {
      CC_CLIENT_ID: 'my app:1',
      CC_CLIENT_SECRET: "pa ss!*~'()%+",
      CC_TOKEN_URL: `${BASE}/oauth2/token`,
    }
    const verifier = 'v'.repeat(43)
    const consented = new URLSearchParams({
      client_id: client.CC_CLIENT_ID,
      redirect_uri: 'https://relay.test/oauth/callback',
      state: 's',
      code_challenge: await pkceChallenge(verifier),
    })
    const back = await cc.handle(new Request(`${BASE}/oauth2/authorize?${consented}`))
    const code = new URL(back.headers.get('location') ?? '').searchParams.get('code') ?? ''
    const res = await cc.handle(
      tokenRequest(client, {
        grant_type: 'authorization_code',
        code,
        redirect_uri: 'https://relay.test/oauth/callback',
        code_verifier: verifier,
      })
    )
    expect(res.status).toBe(200) // the client id decoded to the one the code was issued to
    expect(cc.tokenCalls[0].basic).toEqual({
      clientId: client.CC_CLIENT_ID,
      clientSecret: client.CC_CLIENT_SECRET,
    })
  })

  it('codes expire after 5 minutes', async () => {
    const { cc, clock } = setup()
    const code = await consent(cc)
    clock.advance(301_000)
    const res = await token(
      cc,
      { grant_type: 'authorization_code', code, redirect_uri: 'https://relay.test/oauth/callback' },
      'app:secret'
    )
    expect(await res.json()).toMatchObject({ error: 'invalid_grant' })
  })

  it('refresh tokens rotate; reusing a rotated one revokes the whole family', async () => {
    const { cc } = setup()
    const first = await connected(cc)
    const refresh = (rt: string) =>
      token(cc, { grant_type: 'refresh_token', refresh_token: rt, client_id: 'app' })
    const second = (await (await refresh(first.refresh_token)).json()) as { refresh_token: string }
    expect(cc.refreshTokenState(first.refresh_token)).toBe('rotated')
    expect(cc.refreshTokenState(second.refresh_token)).toBe('current')
    expect((await refresh(first.refresh_token)).status).toBe(400) // reuse
    expect(cc.refreshTokenState(second.refresh_token)).toBe('revoked')
    expect((await refresh(second.refresh_token)).status).toBe(400)
  })

  it('scripted faults: a rotation whose answer is dropped still rotates', async () => {
    const { cc } = setup()
    const first = await connected(cc)
    cc.tokenFaults = ['rotate_then_drop']
    await expect(
      token(cc, { grant_type: 'refresh_token', refresh_token: first.refresh_token })
    ).rejects.toBeInstanceOf(DroppedConnection)
    expect(cc.refreshTokenState(first.refresh_token)).toBe('rotated')
  })
})

describe('the API', () => {
  it('sign_up_form upserts by email: 201 created, then 200 updated', async () => {
    const { cc } = setup()
    const { access_token } = await connected(cc)
    const body = { email_address: 'Ada@Example.com', list_memberships: [LIST] }
    expect((await signup(cc, access_token, body)).status).toBe(201)
    expect((await signup(cc, access_token, body)).status).toBe(200)
    expect([...cc.contacts.keys()]).toEqual(['ada@example.com'])
  })

  it('refuses what CC refuses: unknown or deleted lists, long fields, unknown custom fields', async () => {
    const { cc } = setup()
    const { access_token } = await connected(cc)
    cc.perSecond = 0
    const bad = [
      { email_address: 'a@example.com', list_memberships: [] },
      {
        email_address: 'a@example.com',
        list_memberships: ['00000000-0000-4000-8000-000000000000'],
      },
      { email_address: 'a@example.com', list_memberships: [LIST], first_name: 'x'.repeat(51) },
      {
        email_address: 'a@example.com',
        list_memberships: [LIST],
        custom_fields: [{ custom_field_id: 'nope', value: 'x' }],
      },
    ]
    for (const body of bad) expect((await signup(cc, access_token, body)).status).toBe(400)
    cc.deletedLists.add(LIST)
    expect(
      (await signup(cc, access_token, { email_address: 'a@example.com', list_memberships: [LIST] }))
        .status
    ).toBe(400)
    expect(cc.contacts.size).toBe(0)
  })

  it('holds typed custom field values to the format CC documents for their type', async () => {
    const { cc } = setup()
    const { access_token } = await connected(cc)
    cc.perSecond = 0
    cc.customFields = [
      { custom_field_id: 'b', name: 'member', label: 'Member', type: 'boolean' },
      {
        custom_field_id: 'n',
        name: 'visits',
        label: 'Visits',
        type: 'number',
        metadata: { decimal_places: 1 },
      },
      {
        custom_field_id: 'c',
        name: 'budget',
        label: 'Budget',
        type: 'currency',
        metadata: { integer: true },
      },
      { custom_field_id: 's', name: 'pick', label: 'Pick', type: 'single_select' },
      { custom_field_id: 'd', name: 'joined', label: 'Joined', type: 'date' },
    ]
    const send = (custom_field_id: string, value: string) =>
      signup(cc, access_token, {
        email_address: 'typed@example.com',
        list_memberships: [LIST],
        custom_fields: [{ custom_field_id, value }],
      })
    const refused = [
      ['b', 'yes'],
      ['b', 'TRUE'],
      ['n', '-1'],
      ['n', '1.25'],
      ['n', 'ten'],
      ['c', '10.5'],
      ['s', 'Rye'],
    ]
    for (const [id, value] of refused)
      expect((await send(id, value)).status, `${id}=${value}`).toBe(400)
    expect(cc.contacts.size).toBe(0)
    for (const [id, value] of [
      ['b', 'false'],
      ['n', '12.5'],
      ['c', '-10'],
      ['d', 'any text: no format is documented'],
    ]) {
      expect((await send(id, value)).status, `${id}=${value}`).toBeLessThan(300)
    }
  })

  it('403: a refused account (a deactivated app) refuses every call', async () => {
    const { cc } = setup()
    const { access_token } = await connected(cc)
    const lists = () =>
      cc.handle(
        new Request(`${BASE}/v3/contact_lists`, {
          headers: { authorization: `Bearer ${access_token}` },
        })
      )
    expect((await lists()).status).toBe(200)
    cc.accountForbidden = true
    expect((await lists()).status).toBe(403)
    const refused = await signup(cc, access_token, {
      email_address: 'a@b.c',
      list_memberships: [LIST],
    })
    expect(refused.status).toBe(403)
    expect(cc.contacts.size).toBe(0)
  })

  it('an expired access token gets 401', async () => {
    const { cc, clock } = setup()
    const { access_token } = await connected(cc)
    clock.advance(86_401_000)
    const res = await signup(cc, access_token, {
      email_address: 'a@example.com',
      list_memberships: [LIST],
    })
    expect(res.status).toBe(401)
  })

  it('counts arrivals: a fifth request within a second is throttled, then the quota runs out', async () => {
    const { cc, clock } = setup()
    const { access_token } = await connected(cc)
    const statuses: number[] = []
    for (let i = 0; i < 5; i++)
      statuses.push(
        (await signup(cc, access_token, { email_address: `${i}@x.test`, list_memberships: [LIST] }))
          .status
      )
    expect(statuses).toEqual([201, 201, 201, 201, 429])
    clock.advance(1000)
    cc.quotaLeft = 1
    const ok = await signup(cc, access_token, {
      email_address: 'q1@x.test',
      list_memberships: [LIST],
    })
    expect(ok.status).toBe(201)
    const spent = await signup(cc, access_token, {
      email_address: 'q2@x.test',
      list_memberships: [LIST],
    })
    expect(spent.status).toBe(429)
    expect(await spent.json()).toMatchObject({ error_key: 'quota_exceeded' })
  })

  it('pages lists through a relative next link, within the page size it accepts', async () => {
    const { cc } = setup()
    const { access_token } = await connected(cc)
    cc.lists = Array.from({ length: 120 }, (_, i) => ({ list_id: `l${i}`, name: `L${i}` }))
    const get = (path: string) =>
      cc.handle(
        new Request(`${BASE}${path}`, { headers: { authorization: `Bearer ${access_token}` } })
      )
    const first = (await (await get('/v3/contact_lists?limit=100')).json()) as {
      lists: unknown[]
      _links: { next: { href: string } }
    }
    expect(first.lists).toHaveLength(100)
    const second = (await (await get(first._links.next.href)).json()) as {
      lists: unknown[]
      _links?: unknown
    }
    expect(second.lists).toHaveLength(20)
    expect(second._links).toBeUndefined()
    expect((await get('/v3/contact_lists?limit=501')).status).toBe(400)
  })
})

describe('tags', () => {
  const post = (cc: CcModel, access: string, path: string, body: unknown) =>
    cc.handle(
      new Request(`${BASE}/v3${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${access}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    )
  const tagging = (cc: CcModel, access: string, contactIds: string[], tagIds: string[]) =>
    post(cc, access, '/activities/contacts_taggings_add', {
      source: { contact_ids: contactIds },
      tag_ids: tagIds,
    })
  const TAG = SANDBOX_TAGS[0].tag_id

  it('a tagging adds tags to the contacts sign_up_form named; they stay across upserts', async () => {
    const { cc } = setup()
    const { access_token } = await connected(cc)
    const body = { email_address: 'ada@example.com', list_memberships: [LIST] }
    const { contact_id } = (await (await signup(cc, access_token, body)).json()) as {
      contact_id: string
    }
    const res = await tagging(cc, access_token, [contact_id], [TAG])
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ state: 'completed', activity_errors: [] })
    expect(await signup(cc, access_token, body)).toHaveProperty('status', 200)
    expect(cc.view().contacts[0].tag_ids).toEqual([TAG])
    expect(cc.apiCalls.map((c) => [c.path, c.body])).toEqual([
      [
        '/v3/activities/contacts_taggings_add',
        { source: { contact_ids: [contact_id] }, tag_ids: [TAG] },
      ],
    ])
  })

  it('refuses an unknown or deleted tag (400), and more than 500 contacts or 50 tags', async () => {
    const { cc } = setup()
    const { access_token } = await connected(cc)
    cc.perSecond = 0
    const gone = '7a6c0000-0000-4000-8000-0000000000ff'
    expect((await tagging(cc, access_token, ['c'], [gone])).status).toBe(400)
    cc.tags = cc.tags.filter((t) => t.tag_id !== TAG)
    expect((await tagging(cc, access_token, ['c'], [TAG])).status).toBe(400)
    const many = Array.from({ length: 501 }, (_, i) => `c${i}`)
    expect((await tagging(cc, access_token, many, [SANDBOX_TAGS[1].tag_id])).status).toBe(400)
    expect((await tagging(cc, access_token, ['c'], [])).status).toBe(400)
    // An unknown contact is the background activity's error, not the request's.
    const unknown = await tagging(cc, access_token, ['nobody'], [SANDBOX_TAGS[1].tag_id])
    expect(await unknown.json()).toMatchObject({
      activity_errors: ['Contact nobody does not exist'],
    })
  })

  it('creates a tag by a new name (201), 409 for a name taken; pages through tags', async () => {
    const { cc } = setup()
    const { access_token } = await connected(cc)
    cc.perSecond = 0
    const created = await post(cc, access_token, '/contact_tags', { name: 'Rye fans' })
    expect(created.status).toBe(201)
    const tag = (await created.json()) as { tag_id: string; name: string }
    expect(tag.name).toBe('Rye fans')
    expect((await post(cc, access_token, '/contact_tags', { name: 'rye FANS' })).status).toBe(409)
    expect((await post(cc, access_token, '/contact_tags', { name: '<b>' })).status).toBe(400)
    const get = (path: string) =>
      cc.handle(
        new Request(`${BASE}${path}`, { headers: { authorization: `Bearer ${access_token}` } })
      )
    const first = (await (await get('/v3/contact_tags?limit=2')).json()) as {
      tags: { tag_id: string }[]
      _links: { next: { href: string } }
    }
    expect(first.tags).toHaveLength(2)
    const second = (await (await get(first._links.next.href)).json()) as {
      tags: { tag_id: string }[]
    }
    expect(second.tags.map((t) => t.tag_id)).toEqual([tag.tag_id])
  })
})
