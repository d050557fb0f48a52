/**
 * Forms made in the dashboard, through the owner's JSON API (every row of its table) and the
 * visitors' POST /subscribe/:formId: a change applies to the very next sign-up, whichever isolate
 * made it, and survives a restart of the Durable Object. Typed custom fields are held to CC's
 * documented formats before anything reaches CC.
 */
import { evictDurableObject, runInDurableObject } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { SqlFormRepo } from '../../src/adapters/workers/sqlite/form-repo.ts'
import { cc, clock } from '../support/edge.ts'
import {
  call,
  connectedWithSettledOutbox,
  ORIGIN,
  OWNER,
  relay,
  settle,
  signIn,
} from '../support/helpers.ts'
import {
  BUDGET_FIELD,
  COLOUR_FIELD,
  JOINED_FIELD,
  LIST_1,
  LIST_2,
  LIST_3,
  MEMBER_FIELD,
  SOURCE_FIELD,
  VISITS_FIELD,
} from '../support/network.ts'

const PROMO = 'https://promo.test'
let ip = 0

const api = (path: string, init: RequestInit = {}) =>
  call(`/admin/api/forms${path}`, { ...init, headers: { ...OWNER, ...init.headers } })
const put = (id: string, profile: unknown, headers: Record<string, string> = {}) =>
  api(`/${id}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(profile),
  })
const del = (id: string, headers: Record<string, string> = {}) =>
  api(`/${id}`, { method: 'DELETE', headers })

/** A visitor's JSON sign-up, from `origin`, each from its own IP. */
const signup = (form: string, data: Record<string, unknown>, origin = PROMO) =>
  call(`/subscribe/${form}`, {
    method: 'POST',
    headers: {
      origin,
      'content-type': 'application/json',
      'cf-connecting-ip': `198.51.100.${++ip % 250}`,
    },
    body: JSON.stringify(data),
  })

const promo = (over: Record<string, unknown> = {}) => ({
  lists: [LIST_2],
  origins: [PROMO],
  ...over,
})

connectedWithSettledOutbox()

describe('the owner JSON API', () => {
  it('GET: FORMS forms (source config, read-only), then the dashboard’s', async () => {
    expect((await put('spring', promo())).status).toBe(201)
    const res = await api('')
    expect(res.status).toBe(200)
    const { forms } = (await res.json()) as { forms: Record<string, unknown>[] }
    expect(forms.map((f) => [f.id, f.source])).toEqual([
      ['newsletter', 'config'],
      ['events', 'config'],
      ['protected', 'config'],
      ['spring', 'dashboard'],
    ])
    expect(forms[0]).toMatchObject({ profile: { lists: [LIST_1, LIST_2] }, updated_at: null })
    expect(forms[3]).toEqual({
      id: 'spring',
      source: 'dashboard',
      profile: { lists: [LIST_2], origins: [PROMO], honeypot: '_gotcha' },
      updated_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    })
    expect((await del('spring')).status).toBe(204)
  })

  it('PUT: 201 created, 200 updated, and a repeat is 200 with nothing new in the trail', async () => {
    const created = await put('summer', promo({ success_url: `${PROMO}/thanks` }))
    expect(created.status).toBe(201)
    expect(await created.json()).toEqual({
      id: 'summer',
      source: 'dashboard',
      profile: {
        lists: [LIST_2],
        origins: [PROMO],
        success_url: `${PROMO}/thanks`,
        honeypot: '_gotcha',
      },
    })
    const updated = await put('summer', promo({ lists: [LIST_1, LIST_2] }))
    expect(updated.status).toBe(200)
    expect(((await updated.json()) as { profile: unknown }).profile).toEqual({
      lists: [LIST_1, LIST_2],
      origins: [PROMO],
      honeypot: '_gotcha',
    })
    const trail = async () => (await relay().forms()).audit.filter((e) => e.formId === 'summer')
    const before = await trail()
    expect(before.map((e) => e.action)).toEqual(['updated', 'created'])
    expect(before[0].changes).toEqual([
      `lists: +${LIST_1}`,
      `success_url: "${PROMO}/thanks" → (none)`,
    ])
    expect((await put('summer', promo({ lists: [LIST_1, LIST_2] }))).status).toBe(200)
    expect(await trail()).toEqual(before)
  })

  it('PUT: 400 invalid_input naming each bad field; nothing is stored', async () => {
    const res = await put('broken', {
      lists: ['not-a-list'],
      origins: ['https://promo.test/page'],
      honeypot: 'has space',
      language: 'it',
      extra: true,
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { fields: Record<string, string> }
    expect(body).toMatchObject({ ok: false, error: 'invalid_input' })
    expect(Object.keys(body.fields).sort()).toEqual([
      'extra',
      'honeypot',
      'language',
      'lists.0',
      'origins.0',
    ])
    const badId = await put('x'.repeat(65), promo())
    expect(badId.status).toBe(400)
    expect(((await badId.json()) as { fields: object }).fields).toEqual({
      id: 'form ids use A-Z a-z 0-9 _ - (at most 64)',
    })
    expect(await relay().form('broken')).toBeNull()
  })

  it('PUT: a control character in any URL or origin is 400 invalid_input naming it', async () => {
    const res = await put('crlf', {
      lists: [LIST_2],
      origins: [PROMO, 'https://pro\tmo.test'],
      success_url: `${PROMO}/thanks\r\nSet-Cookie: x=1`,
      error_url: `${PROMO}/oops\n`.replace('oops', 'oo\u2028ps'),
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: string; fields: Record<string, string> }
    expect(body.error).toBe('invalid_input')
    expect(body.fields).toEqual({
      'origins.1': 'must not contain control characters (tabs, line breaks)',
      success_url: 'must not contain control characters (tabs, line breaks)',
      error_url: 'must not contain control characters (tabs, line breaks)',
    })
    expect(await relay().form('crlf')).toBeNull()
  })

  it('a delivered plain-form sign-up is never answered 500, even if its success_url cannot be a Location', async () => {
    // A form stored before URLs were checked for control characters: written to SQLite directly.
    const profile = { ...promo(), success_url: `${PROMO}/thanks\r\nX-Injected: 1` }
    await runInDurableObject(relay(), (_r, state) =>
      new SqlFormRepo(state.storage.sql).write({
        formId: 'unchecked',
        form: { profile: { ...profile, honeypot: '_gotcha' }, types: {} },
        action: 'created',
        changes: [],
        at: clock.now(),
      })
    )
    const res = await call('/subscribe/unchecked', {
      method: 'POST',
      headers: {
        origin: PROMO,
        'content-type': 'application/x-www-form-urlencoded',
        'cf-connecting-ip': `198.51.100.${++ip % 250}`,
      },
      body: new URLSearchParams({ email: 'plain@example.com' }),
    })
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/subscribe/unchecked/thanks')
    expect(cc.contacts.has('plain@example.com')).toBe(true)
  })

  it('PUT: the account is checked; lists and fields it lacks, and select fields, are named', async () => {
    // A list deleted in CC, once the dashboard's catalog (kept 5 minutes) has been read again.
    cc.deletedLists.add(LIST_3)
    clock.advance(5 * 60_000)
    const res = await put(
      'autumn',
      promo({
        lists: [LIST_2, LIST_3],
        custom_fields: {
          source: SOURCE_FIELD,
          colour: COLOUR_FIELD,
          ghost: '5a1d0c6e-2222-4f1a-9b7c-0000000000ff',
        },
      })
    )
    expect(res.status).toBe(400)
    expect(((await res.json()) as { fields: object }).fields).toEqual({
      'lists.1': 'Constant Contact has no such list',
      'custom_fields.colour':
        'is a single_select field, which sign_up_form cannot set (it takes no choice_ids)',
      'custom_fields.ghost': 'Constant Contact has no such custom field',
    })
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('PUT and DELETE: 409 form_managed_by_config for an id FORMS defines', async () => {
    const putting = await put('newsletter', promo())
    expect(putting.status).toBe(409)
    expect(await putting.json()).toMatchObject({ ok: false, error: 'form_managed_by_config' })
    const deleting = await del('newsletter')
    expect(deleting.status).toBe(409)
    expect(await deleting.json()).toMatchObject({ error: 'form_managed_by_config' })
  })

  it('DELETE: 204, then 404 unknown_form', async () => {
    expect((await put('winter', promo())).status).toBe(201)
    expect((await del('winter')).status).toBe(204)
    const again = await del('winter')
    expect(again.status).toBe(404)
    expect(await again.json()).toMatchObject({ ok: false, error: 'unknown_form' })
  })

  it('the owner only: Bearer from anywhere; the session cookie from the dashboard’s origin', async () => {
    const anonymous = await call('/admin/api/forms')
    expect(anonymous.status).toBe(401)
    expect((await call('/admin/api/forms/x', { method: 'DELETE' })).status).toBe(401)
    const cookie = await signIn()
    const asCookie = (init: RequestInit & { headers: Record<string, string> }) =>
      call('/admin/api/forms/cookie-form', init)
    const body = JSON.stringify(promo())
    const json = { cookie, 'content-type': 'application/json' }
    // A page elsewhere cannot use the owner's cookie, with a JSON body or none.
    for (const headers of [json, { ...json, origin: 'https://evil.test' }]) {
      const res = await asCookie({ method: 'PUT', headers, body })
      expect(res.status).toBe(403)
      expect(await res.json()).toMatchObject({ error: 'cross_origin_request' })
    }
    expect((await asCookie({ method: 'DELETE', headers: { cookie } })).status).toBe(403)
    expect(await relay().form('cookie-form')).toBeNull()
    // From the dashboard's own origin it works, like the dashboard's forms.
    expect(
      (await asCookie({ method: 'PUT', headers: { ...json, origin: ORIGIN }, body })).status
    ).toBe(201)
    const sameSite = { cookie, 'sec-fetch-site': 'same-origin' }
    expect((await asCookie({ method: 'DELETE', headers: sameSite })).status).toBe(204)
    expect((await call('/admin/api/forms', { headers: { cookie } })).status).toBe(200)
    // A script with the Bearer token sends no Origin, and needs none.
    expect((await put('bearer-form', promo())).status).toBe(201)
    expect((await del('bearer-form')).status).toBe(204)
  })

  it('PUT: a body over 16 KiB is 413; one that is not JSON is 400', async () => {
    const big = await api('/big', { method: 'PUT', body: 'x'.repeat(17 * 1024) })
    expect(big.status).toBe(413)
    const notJson = await api('/big', { method: 'PUT', body: '{"lists":' })
    expect(notJson.status).toBe(400)
    expect(await notJson.json()).toMatchObject({ fields: { profile: 'is not JSON' } })
  })
})

describe('a change applies to the very next sign-up', () => {
  it('made here: created, changed and deleted forms answer at once', async () => {
    expect((await signup('live', { email: 'early@example.com' })).status).toBe(404)
    expect((await put('live', promo())).status).toBe(201)
    const first = await signup('live', { email: 'first@example.com' })
    expect(first.status).toBe(200)
    expect(await first.json()).toEqual({
      ok: true,
      status: 'delivered',
      message: 'Thanks! You are signed up.',
    })
    expect((await put('live', promo({ lists: [LIST_1] }))).status).toBe(200)
    expect((await signup('live', { email: 'second@example.com' })).status).toBe(200)
    expect(cc.signupCalls.map((c) => c.body.list_memberships)).toEqual([[LIST_2], [LIST_1]])
    expect((await del('live')).status).toBe(204)
    const gone = await signup('live', { email: 'third@example.com' })
    expect(gone.status).toBe(404)
    expect(await gone.json()).toMatchObject({ error: 'unknown_form' })
    expect(cc.signupCalls).toHaveLength(2)
  })

  it('made by another isolate: a stale copy here is caught, and the sign-up checked again', async () => {
    expect((await put('shared', promo())).status).toBe(201)
    expect((await signup('shared', { email: 'a@example.com' })).status).toBe(200)
    // Saved straight into the object, as another isolate's request would: this isolate's copy of
    // the form is now stale, and nothing here was told.
    const elsewhere = (profile: ReturnType<typeof promo>) =>
      relay().saveForm({ id: 'shared', profile: { honeypot: '_gotcha', ...profile }, types: {} })
    await elsewhere(promo({ lists: [LIST_1] }))
    expect((await signup('shared', { email: 'b@example.com' })).status).toBe(200)
    expect(cc.signupCalls.at(-1)?.body.list_memberships).toEqual([LIST_1])

    // An origin taken away elsewhere: the copy would allow it, the object does not.
    await elsewhere(promo({ origins: ['https://moved.test'] }))
    const refused = await signup('shared', { email: 'c@example.com' })
    expect(refused.status).toBe(403)
    expect(await refused.json()).toMatchObject({ error: 'origin_not_allowed' })
    // An origin added elsewhere: the copy would refuse it, so the refusal is checked first.
    await elsewhere(promo({ origins: [PROMO, 'https://moved.test'] }))
    await signup('shared', { email: 'warm@example.com' }, 'https://moved.test') // the copy: both
    await elsewhere(promo({ origins: ['https://third.test'] }))
    expect((await signup('shared', { email: 'd@example.com' }, 'https://third.test')).status).toBe(
      200
    )

    // The honeypot renamed elsewhere: a post the copy takes for a bot's (it filled the old
    // honeypot) is checked against the current form, where it is a person's, and goes through.
    await elsewhere(promo())
    await signup('shared', { email: 'warm-again@example.com' })
    await elsewhere(promo({ honeypot: 'website' }))
    await settle() // rested pacing slots: each sign-up below is sent at once
    const calls = cc.signupCalls.length
    expect((await signup('shared', { email: 'e@example.com', _gotcha: 'x' })).status).toBe(200)
    expect(cc.signupCalls).toHaveLength(calls + 1)
    expect((await signup('shared', { email: 'bot@example.com', website: 'x' })).status).toBe(200)
    expect(cc.signupCalls).toHaveLength(calls + 1)

    // Deleted elsewhere: unknown at once.
    await relay().deleteForm('shared')
    expect((await signup('shared', { email: 'f@example.com' })).status).toBe(404)
  })

  it('survives a restart of the Durable Object, and is used by the new instance', async () => {
    expect((await put('lasting', promo({ custom_fields: { visits: VISITS_FIELD } }))).status).toBe(
      201
    )
    await evictDurableObject(relay())
    const { forms } = (await (await api('')).json()) as { forms: { id: string }[] }
    expect(forms.map((f) => f.id)).toContain('lasting')
    const res = await signup('lasting', { email: 'after@example.com', custom: { visits: '4.5' } })
    expect(res.status).toBe(200)
    expect(cc.signupCalls.at(-1)?.body.custom_fields).toEqual([
      { custom_field_id: VISITS_FIELD, value: '4.5' },
    ])
    // The types read from CC were stored with the form.
    expect((await relay().form('lasting'))?.types).toEqual({
      [VISITS_FIELD]: { type: 'number', decimal_places: 1 },
    })
    const stored = await runInDurableObject(relay(), (_r, state) =>
      state.storage.sql.exec<{ id: string }>("SELECT id FROM forms WHERE id = 'lasting'").toArray()
    )
    expect(stored).toEqual([{ id: 'lasting' }])
  })
})

describe('typed custom fields', () => {
  const typed = promo({
    custom_fields: {
      member: MEMBER_FIELD,
      visits: VISITS_FIELD,
      budget: BUDGET_FIELD,
      joined: JOINED_FIELD,
    },
  })

  it('a value not in its type’s documented format is 400 naming the field; CC sees nothing', async () => {
    expect((await put('typed', typed)).status).toBe(201)
    const res = await signup('typed', {
      email: 'typo@example.com',
      custom: { member: 'perhaps', visits: '-2', budget: '10.50', joined: 'whenever' },
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      error: 'invalid_input',
      fields: {
        'custom.member': 'Answer true or false.',
        'custom.visits': 'Enter a number of zero or more.',
        'custom.budget': 'Enter a whole number.',
      },
    })
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('valid values are sent in CC’s format, and CC (its model) takes them', async () => {
    const res = await signup('typed', {
      email: 'typed@example.com',
      custom: { member: 'on', visits: '3.5', budget: '120', joined: '2024-05-01' },
    })
    expect(res.status).toBe(200)
    expect(cc.signupCalls.map((c) => [c.body.custom_fields, c.answered])).toEqual([
      [
        [
          { custom_field_id: MEMBER_FIELD, value: 'true' },
          { custom_field_id: VISITS_FIELD, value: '3.5' },
          { custom_field_id: BUDGET_FIELD, value: '120' },
          { custom_field_id: JOINED_FIELD, value: '2024-05-01' },
        ],
        201,
      ],
    ])
  })

  it('a form in French answers in French, and reads a decimal comma', async () => {
    expect((await put('typed', { ...typed, language: 'fr' })).status).toBe(200)
    const wrong = await signup('typed', { email: 'fr@example.com', custom: { visits: 'trois' } })
    expect(await wrong.json()).toMatchObject({
      message: 'Certains champs sont à corriger. Veuillez les vérifier.',
      fields: { 'custom.visits': 'Saisissez un nombre.' },
    })
    const right = await signup('typed', { email: 'fr@example.com', custom: { visits: '2,5' } })
    expect(await right.json()).toMatchObject({
      message: 'Merci ! Votre inscription est enregistrée.',
    })
    expect(cc.signupCalls.at(-1)?.body.custom_fields).toEqual([
      { custom_field_id: VISITS_FIELD, value: '2.5' },
    ])
  })

  it('the owner’s own wording is what visitors read, in JSON and on the built-in pages', async () => {
    const own = promo({ language: 'de', messages: { success: 'Willkommen an Bord!' } })
    expect((await put('worded', own)).status).toBe(201)
    const json = await signup('worded', { email: 'de@example.com' })
    expect(await json.json()).toMatchObject({ message: 'Willkommen an Bord!' })
    const page = await call('/subscribe/worded', {
      method: 'POST',
      headers: { origin: PROMO, 'content-type': 'application/x-www-form-urlencoded' },
      body: 'email=not-an-address',
    })
    expect(page.status).toBe(400)
    const html = await page.text()
    expect(html).toContain('<html lang="de">')
    expect(html).toContain('Anmeldung nicht abgeschlossen')
    expect(html).toContain('Geben Sie eine gültige E-Mail-Adresse ein.')
    const thanks = await (await call('/subscribe/worded/thanks')).text()
    expect(thanks).toContain('Willkommen an Bord!')
    expect(thanks).toContain('Zurück zur Website')
  })
})
