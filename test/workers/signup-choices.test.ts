/**
 * What the owner decides about each sign-up (issue 19), through the real entry points: a form with
 * optional lists, a consent statement and capture fields, made through the owner's JSON API and
 * checked against the account; visitors' posts in JSON and as plain forms; what reached Constant
 * Contact (its model); and the snippet the owner pastes.
 */
import { describe, expect, it } from 'vitest'
import { cc } from '../support/edge.ts'
import { call, connectedWithSettledOutbox, ORIGIN, OWNER, runOutbox } from '../support/helpers.ts'
import { LIST_1, LIST_2, LIST_3, MEMBER_FIELD, SOURCE_FIELD } from '../support/network.ts'

const SITE = 'https://choices.test'
const STATEMENT = 'I agree to receive <b>news</b> & offers by email.'
const PRIVACY = 'https://choices.test/privacy'
let ip = 0

const put = (id: string, profile: unknown) =>
  call(`/admin/api/forms/${id}`, {
    method: 'PUT',
    headers: { ...OWNER, 'content-type': 'application/json' },
    body: JSON.stringify(profile),
  })

const CHOICES = {
  lists: [LIST_1],
  optional_lists: [LIST_2, LIST_3],
  origins: [SITE],
  consent: { text: STATEMENT, required: true, privacy_url: PRIVACY },
  capture: { page: SOURCE_FIELD },
}

const postJson = (data: Record<string, unknown>, form = 'choices') =>
  call(`/subscribe/${form}`, {
    method: 'POST',
    headers: {
      origin: SITE,
      'content-type': 'application/json',
      'cf-connecting-ip': `198.51.100.${++ip}`,
    },
    body: JSON.stringify(data),
  })

const postForm = (data: [string, string][], headers: Record<string, string> = {}) =>
  call('/subscribe/choices', {
    method: 'POST',
    headers: {
      origin: SITE,
      'content-type': 'application/x-www-form-urlencoded',
      'cf-connecting-ip': `198.51.100.${++ip}`,
      ...headers,
    },
    body: new URLSearchParams(data).toString(),
  })

/** What CC holds for `email` once the outbox has run (a sign-up may have been queued). */
async function atCc(email: string) {
  await runOutbox()
  const body = cc.contacts.get(email)?.body as
    | { list_memberships: string[]; custom_fields?: { custom_field_id: string; value: string }[] }
    | undefined
  return body
}

connectedWithSettledOutbox()

describe('a form with optional lists, consent and capture', () => {
  it('is made through the owner API, and checked against the account', async () => {
    expect((await put('choices', CHOICES)).status).toBe(201)
    const unknownList = '9e2f7d10-1111-4c3b-8e42-0000000000ff'
    const bad = await put('bad', {
      ...CHOICES,
      optional_lists: [LIST_2, unknownList],
      capture: { page: MEMBER_FIELD },
    })
    expect(bad.status).toBe(400)
    const { fields } = (await bad.json()) as { fields: Record<string, string> }
    expect(fields).toEqual({
      'optional_lists.1': 'Constant Contact has no such list',
      'capture.page': 'is a boolean field; it must take text',
    })
    const overlap = await put('bad', { ...CHOICES, optional_lists: [LIST_1] })
    expect(((await overlap.json()) as { fields: object }).fields).toHaveProperty('optional_lists.0')
  })

  it('delivers lists plus the ticked ones, and the page, for a JSON post', async () => {
    const page = 'https://choices.test/join?utm_source=mail'
    const res = await postJson({
      email: 'tick@choices.test',
      list: [LIST_3],
      consent: 'yes',
      _page: page,
      _referrer: 'https://search.test/',
    })
    expect([200, 202]).toContain(res.status)
    const body = await atCc('tick@choices.test')
    expect(body?.list_memberships).toEqual([LIST_1, LIST_3])
    expect(body?.custom_fields).toEqual([{ custom_field_id: SOURCE_FIELD, value: page }])
  })

  it('takes a plain form post: repeated list fields, a ticked box, the Referer as the page', async () => {
    const res = await postForm(
      [
        ['email', 'plain@choices.test'],
        ['list', LIST_2],
        ['list', LIST_3],
        ['consent', 'on'],
      ],
      { referer: 'https://choices.test/plain' }
    )
    expect(res.status).toBe(303)
    const body = await atCc('plain@choices.test')
    expect(body?.list_memberships).toEqual([LIST_1, LIST_2, LIST_3])
    expect(body?.custom_fields).toEqual([
      { custom_field_id: SOURCE_FIELD, value: 'https://choices.test/plain' },
    ])
  })

  it('refuses a missing required consent, and sends nothing to CC', async () => {
    const before = cc.signupCalls.length
    const res = await postJson({ email: 'noconsent@choices.test', list: [LIST_2] })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({
      ok: false,
      error: 'invalid_input',
      fields: { consent: 'Tick the box to give your consent.' },
    })
    await runOutbox()
    expect(cc.signupCalls.length).toBe(before)
    expect(cc.contacts.has('noconsent@choices.test')).toBe(false)
  })

  it('refuses a list the form does not offer, naming the field', async () => {
    const res = await postJson({
      email: 'other@choices.test',
      list: ['9e2f7d10-1111-4c3b-8e42-0000000000ff'],
      consent: 'yes',
    })
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ fields: { list: 'Unknown list.' } })
  })

  it('asks a visitor of a form with only optional lists to choose one', async () => {
    expect((await put('pick', { ...CHOICES, lists: [], consent: undefined })).status).toBe(201)
    const res = await postJson({ email: 'none@choices.test' }, 'pick')
    expect(res.status).toBe(400)
    expect(await res.json()).toMatchObject({ fields: { list: 'Choose at least one list.' } })
    const chosen = await postJson({ email: 'one@choices.test', list: LIST_2 }, 'pick')
    expect([200, 202]).toContain(chosen.status)
    expect((await atCc('one@choices.test'))?.list_memberships).toEqual([LIST_2])
  })

  it('tells a visitor without JavaScript what to tick, on the built-in error page', async () => {
    const res = await postForm([['email', 'page@choices.test']], { accept: 'text/html' })
    expect(res.status).toBe(400)
    const page = await res.text()
    expect(page).toContain('Tick the box to give your consent.')
    // Named by the statement the visitor saw, escaped.
    expect(page).toContain('I agree to receive &lt;b&gt;news&lt;/b&gt; &amp; offers by email.')
    expect(page).not.toContain('<b>news</b>')
  })
})

describe('GET /admin/api/forms/:formId/snippet', () => {
  it('answers the snippet to paste: optional lists by name in a fieldset, the consent box', async () => {
    const res = await call('/admin/api/forms/choices/snippet', { headers: OWNER })
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8')
    const html = await res.text()
    expect(html).toContain('action="https://relay.test/subscribe/choices"')
    expect(html).toMatch(/<fieldset>\s*<legend>Lists to join<\/legend>/)
    expect(html).toContain(
      `<label><input type="checkbox" name="list" value="${LIST_2}"> Product updates</label>`
    )
    expect(html).toContain(
      `<label><input type="checkbox" name="list" value="${LIST_3}"> Events</label>`
    )
    // Lists every sign-up joins are not offered.
    expect(html).not.toContain(`value="${LIST_1}"`)
    expect(html).toContain(
      '<input type="checkbox" name="consent" value="yes" required> I agree to receive &lt;b&gt;news&lt;/b&gt; &amp; offers by email.</label>'
    )
    expect(html).toContain(`<a href="${PRIVACY}">Privacy policy</a>`)
    expect(html).toContain('<script src="https://relay.test/embed.js" defer></script>')
  })

  it('serves FORMS forms too, and only to the owner', async () => {
    const config = await call('/admin/api/forms/newsletter/snippet', { headers: OWNER })
    expect(config.status).toBe(200)
    // Two lists and no optional ones: the visitor may narrow them, as before.
    expect(await config.text()).toContain(
      `<input type="checkbox" name="list" value="${LIST_1}" checked>`
    )
    expect((await call('/admin/api/forms/newsletter/snippet')).status).toBe(401)
    const missing = await call('/admin/api/forms/nosuch/snippet', { headers: OWNER })
    expect(missing.status).toBe(404)
  })
})

describe('the owner’s test sign-up of such a form', () => {
  it('offers the optional lists and the consent box, and sends what was ticked', async () => {
    const page = await (await call('/admin/forms/choices', { headers: OWNER })).text()
    const card = page.slice(page.indexOf('action="/admin/forms/choices/test"')).slice(0, 1500)
    expect(card).toContain(`<input type="checkbox" name="list" value="${LIST_3}"/> Events`)
    expect(card).toMatch(/<input type="checkbox" name="consent" value="yes" required=""\/>/)
    const test = (body: string) =>
      call('/admin/forms/choices/test', {
        method: 'POST',
        headers: { ...OWNER, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
        body,
      })
    const refused = await test('email=owner-test%40choices.test')
    expect(refused.status).toBe(400)
    expect(await refused.text()).toContain('Tick the box to give your consent.')
    const sent = await test(`email=owner-test%40choices.test&list=${LIST_3}&consent=yes`)
    expect(sent.status).toBe(200)
    expect((await atCc('owner-test@choices.test'))?.list_memberships).toEqual([LIST_1, LIST_3])
  })
})
