/**
 * The dashboard's form editor, as a browser without JavaScript uses it: plain pages and form
 * posts with the session cookie. Lists as checkboxes with their CC names, custom fields with
 * their CC types (select types flagged), a server-rendered preview, saving, editing, deleting,
 * and the audit trail on /admin.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { cc } from '../support/edge.ts'
import { call, connect, ORIGIN, relay, signIn } from '../support/helpers.ts'
import {
  COLOUR_FIELD,
  LIST_1,
  LIST_2,
  MEMBER_FIELD,
  SOURCE_FIELD,
  TAG_2,
  VISITS_FIELD,
} from '../support/network.ts'

let cookie = ''

beforeAll(async () => {
  expect((await connect()).status).toBe(303)
  cookie = await signIn()
})

const page = async (path: string) => {
  const res = await call(path, { headers: { cookie } })
  return { res, html: await res.text() }
}
const post = (path: string, form: [string, string][]) =>
  call(path, {
    method: 'POST',
    headers: { cookie, origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  })

/** What the editor posts for the form "bakery" (a new one), the way a browser would. */
const bakery = (action: 'preview' | 'save', extra: [string, string][] = []): [string, string][] => [
  ['mode', 'new'],
  ['id', 'bakery'],
  ['lists', LIST_1],
  ['lists', LIST_2],
  ['fields', MEMBER_FIELD],
  [`alias.${MEMBER_FIELD}`, 'member'],
  [`alias.${VISITS_FIELD}`, 'visits'], // not ticked: not asked for
  ['origins', 'https://bakery.test\r\nhttps://www.bakery.test'],
  ['success_url', ''],
  ['error_url', ''],
  ['turnstile_site_key', ''],
  ['honeypot', '_gotcha'],
  ['language', 'es'],
  ['message.success', '¡Bienvenido a la panadería!'],
  ['message.sending', ''],
  ['action', action],
  ...extra,
]

describe('the form editor', () => {
  it('offers lists by name, custom fields by label with their CC type; select types flagged', async () => {
    const { res, html } = await page('/admin/forms/new')
    expect(res.status).toBe(200)
    expect(html).toMatch(
      /<input type="checkbox" name="lists" value="9e2f7d10-[^"]+0001"\/?> Newsletter/
    )
    expect(html).toContain('Product updates')
    expect(html).toContain('Member')
    expect(html).toContain('boolean (a checkbox: true or false)')
    expect(html).toContain('number (up to 1 decimals, not negative)')
    expect(html).toContain('currency (whole numbers)')
    expect(html).toContain('date (sent as text)')
    const colour = html.slice(html.indexOf(`data-field="${COLOUR_FIELD}"`)).slice(0, 600)
    expect(colour).toContain('disabled')
    expect(colour).toContain('single_select: sign_up_form cannot set it')
    expect(html).toContain('<option value="fr">Français</option>')
  })

  it('Preview renders the form and its snippet from what was typed, and saves nothing', async () => {
    const res = await post('/admin/forms/editor', bakery('preview'))
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('<div class="preview" inert="">')
    // The preview: in Spanish, with both lists and the member checkbox.
    expect(html).toContain(
      'action="https://relay.test/subscribe/bakery" method="post" data-ctct-relay lang="es"'
    )
    expect(html).toContain(
      '<label><input type="checkbox" name="custom.member" value="true"> Member</label>'
    )
    expect(html).toContain('<button>Suscribirse</button>')
    // The snippet, escaped inside a focusable, named <pre>.
    expect(html).toMatch(/<pre tabindex="0" role="region" aria-labelledby="snippet-heading">/)
    expect(html).toContain('&lt;script src=&quot;https://relay.test/embed.js&quot; defer&gt;')
    expect(html).toContain('¡Bienvenido a la panadería!')
    expect(await relay().form('bakery')).toBeNull()
  })

  it('Save with problems answers 400 with every problem listed and the values kept', async () => {
    const res = await post('/admin/forms/editor', [
      ...bakery('save').filter(([k]) => !['origins', 'id', 'message.success'].includes(k)),
      ['id', 'has space'],
      ['origins', 'bakery.test'],
      ['message.success', 'x'.repeat(301)],
    ])
    expect(res.status).toBe(400)
    const html = await res.text()
    expect(html).toContain('role="alert"')
    expect(html).toContain('Not saved: fix these first')
    // Each problem by the field's name in words, saying what to type, with an example.
    expect(html).toContain(
      '<a href="#f-id">Form id</a>: use letters, digits, _ and - only, at most 64, such as spring-news'
    )
    expect(html).toContain(
      '<a href="#f-origins">Origins, line 1</a>: must be an origin such as https://www.example.com — scheme and host (and a port if any), no path; did you mean https://bakery.test?'
    )
    expect(html).toContain('<a href="#f-message.success">Your own wording: After a sign-up</a>')
    // The section with a problem is open: the link in the summary lands on a visible field.
    expect(html).toMatch(/<details class="section" open="">\s*<summary>Your own wording/)
    expect(html).toMatch(/id="f-origins"[^>]*aria-invalid="true"/)
    expect(html).toContain('value="has space"')
    expect(await relay().form('has space')).toBeNull()
  })

  it('Save stores the form and shows its page; /admin/forms lists it, with the change', async () => {
    const saved = await post('/admin/forms/editor', bakery('save'))
    expect(saved.status).toBe(303)
    expect(saved.headers.get('location')).toBe('/admin/forms/bakery?notice=form_saved')
    const form = await relay().form('bakery')
    expect(form?.profile).toEqual({
      lists: [LIST_1, LIST_2],
      origins: ['https://bakery.test', 'https://www.bakery.test'],
      custom_fields: { member: MEMBER_FIELD },
      honeypot: '_gotcha',
      language: 'es',
      messages: { success: '¡Bienvenido a la panadería!' },
    })
    expect(form?.types).toEqual({ [MEMBER_FIELD]: { type: 'boolean' } })
    // Its page: the notice, its Settings (the editor), and the snippet.
    const own = (await page('/admin/forms/bakery?notice=form_saved')).html
    expect(own).toContain('Form saved. It takes sign-ups from now on.')
    expect(own).toContain('<a href="/admin/forms/bakery/edit">Settings</a>')
    const card = own.slice(own.indexOf('data-form="bakery"'))
    expect(card).toContain('name=&quot;custom.member&quot; value=&quot;true&quot;')
    // Its Changes: the trail, Edit and Delete.
    const changes = (await page('/admin/forms/bakery/changes')).html
    expect(changes).toContain('Made in the dashboard')
    expect(changes).toContain('href="/admin/forms/bakery/edit"')
    expect(changes).toContain('action="/admin/forms/bakery/delete"')
    expect(changes).toContain('bakery created')
    expect(changes).not.toContain('newsletter')
    const { html } = await page('/admin/forms')
    expect(html.slice(html.indexOf('data-form="bakery"')).slice(0, 400)).toContain(
      'data-source="dashboard"'
    )
    const config = html.slice(html.indexOf('data-form="newsletter"'))
    expect(config.slice(0, 400)).toContain('data-source="config"')
    const trail = html.slice(html.indexOf('id="form-changes"'))
    expect(trail).toContain('bakery created')
    expect(trail).toContain('language: (none) → &quot;es&quot;')
  })

  it('a new form cannot take the id of one that exists', async () => {
    const res = await post('/admin/forms/editor', bakery('save'))
    expect(res.status).toBe(400)
    expect(await res.text()).toContain('is taken by another form')
  })

  it('Edit shows the saved values; saving a change is in the trail', async () => {
    const { html } = await page('/admin/forms/bakery/edit')
    expect(html).toContain('<input type="hidden" name="mode" value="edit"')
    expect(html).toMatch(/value="9e2f7d10-[^"]+0002" checked/)
    expect(html).toContain('<option value="es" selected="">Español</option>')
    const edited = await post('/admin/forms/editor', [
      ...bakery('save').filter(([k, v]) => k !== 'mode' && v !== LIST_2),
      ['mode', 'edit'],
    ])
    expect(edited.status).toBe(303)
    expect((await relay().form('bakery'))?.profile.lists).toEqual([LIST_1])
    const trail = (await page('/admin/forms/bakery/changes')).html
    expect(trail).toContain('bakery updated')
    expect(trail).toContain(`lists: −${LIST_2}`)
  })

  it('ids the account no longer has stay in the editor, ticked and marked, never dropped', async () => {
    const ghostList = '9e2f7d10-1111-4c3b-8e42-0000000000ff'
    const ghostField = '5a1d0c6e-2222-4f1a-9b7c-0000000000ff'
    await relay().saveForm({
      id: 'drifted',
      profile: {
        lists: [LIST_1, ghostList],
        origins: ['https://drift.test'],
        custom_fields: { gone: ghostField },
        honeypot: '_gotcha',
      },
      types: {},
    })
    const { html } = await page('/admin/forms/drifted/edit')
    expect(html).toContain(`value="${ghostList}" checked=""/> Not in your account:`)
    expect(html).toContain(`name="fields" value="${ghostField}" checked=""`)
    expect(html).toContain(`name="alias.${ghostField}" value="gone"`)
    // Saved as it is, the account says no: the owner decides, nothing is dropped silently.
    const form: [string, string][] = [
      ['mode', 'edit'],
      ['id', 'drifted'],
      ['lists', LIST_1],
      ['lists', ghostList],
      ['fields', ghostField],
      [`alias.${ghostField}`, 'gone'],
      ['origins', 'https://drift.test'],
      ['action', 'save'],
    ]
    const res = await post('/admin/forms/editor', form)
    expect(res.status).toBe(400)
    const body = await res.text()
    expect(body).toContain(`Lists: ${ghostList}</a>: Constant Contact has no such list`)
    expect(body).toContain('Custom field “gone”</a>: Constant Contact has no such custom field')
    await relay().deleteForm('drifted')
  })

  it('forms from FORMS are not edited here: 409', async () => {
    const res = await call('/admin/forms/newsletter/edit', {
      headers: { cookie, accept: 'text/html' },
    })
    expect(res.status).toBe(409)
    expect((await post('/admin/forms/newsletter/delete', [])).status).toBe(409)
  })

  it('Delete removes it: the trail says so, and its sign-ups are refused', async () => {
    const res = await post('/admin/forms/bakery/delete', [])
    expect(res.status).toBe(303)
    expect(res.headers.get('location')).toBe('/admin/forms?notice=form_deleted')
    const { html } = await page('/admin/forms?notice=form_deleted')
    expect(html).toContain('Form deleted.')
    expect(html).not.toContain('data-form="bakery"')
    expect(html).toContain('bakery deleted')
    const signup = await call('/subscribe/bakery', {
      method: 'POST',
      headers: { origin: 'https://bakery.test', 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'late@example.com' }),
    })
    expect(signup.status).toBe(404)
    expect(cc.signupCalls).toHaveLength(0)
  })

  it('has no script and no inline style under the strict CSP; owner only', async () => {
    for (const path of ['/admin/forms/new', '/admin']) {
      const { res, html } = await page(path)
      expect(html).not.toMatch(/<script[^>]*>[^<]/i)
      expect(html).not.toMatch(/style=/i)
      expect(res.headers.get('content-security-policy')).toContain("default-src 'none'")
    }
    expect((await call('/admin/forms/new')).status).toBe(401)
    const anonymous = await call('/admin/forms/editor', {
      method: 'POST',
      headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(bakery('save')),
    })
    expect(anonymous.status).toBe(401)
    // The dashboard's CSRF check holds for the editor: a cross-site post is refused.
    const crossSite = await call('/admin/forms/editor', {
      method: 'POST',
      headers: {
        cookie,
        origin: 'https://evil.test',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams(bakery('save')),
    })
    expect(crossSite.status).toBe(403)
  })
})

describe('the form editor: optional lists, consent and capture', () => {
  const choir = (
    action: 'preview' | 'save',
    extra: [string, string][] = []
  ): [string, string][] => [
    ['mode', 'new'],
    ['id', 'choir'],
    ['optional_lists', LIST_1],
    ['optional_lists', LIST_2],
    ['consent_text', 'I agree to the choir newsletter.\r\nUnsubscribe at any time.'],
    ['consent_required', 'on'],
    ['consent_privacy_url', 'https://choir.test/privacy'],
    ['capture.page', SOURCE_FIELD],
    ['capture.utm_campaign', ''],
    ['origins', 'https://choir.test'],
    ['honeypot', '_gotcha'],
    ['language', 'en'],
    ['action', action],
    ...extra,
  ]

  it('offers the lists again as optional, the consent statement, and text fields to capture into', async () => {
    const { html } = await page('/admin/forms/new')
    expect(html).toContain('<legend>Lists the visitor may tick (optional)</legend>')
    expect(html).toMatch(
      /<input type="checkbox" name="optional_lists" value="[^"]+0002"\/?> Product updates/
    )
    expect(html).toContain('<textarea rows="3" id="f-consent_text" name="consent_text"')
    const capture = html.slice(html.indexOf('id="f-capture.page"')).slice(0, 800)
    // Text fields only: a boolean field cannot hold a page address.
    expect(capture).toContain('Where did you hear of us?')
    expect(capture).not.toContain('>Member<')
  })

  it('Preview shows the ticks and the consent box; Save stores them as a profile', async () => {
    const preview = await post('/admin/forms/editor', choir('preview'))
    const html = await preview.text()
    expect(html).toContain('&lt;legend&gt;Lists to join&lt;/legend&gt;')
    expect(html).toContain('name="consent" value="yes" required')
    const saved = await post('/admin/forms/editor', choir('save'))
    expect(saved.status).toBe(303)
    const form = await relay().form('choir')
    expect(form?.profile).toMatchObject({
      lists: [],
      optional_lists: [LIST_1, LIST_2],
      consent: {
        text: 'I agree to the choir newsletter.\nUnsubscribe at any time.',
        required: true,
        privacy_url: 'https://choir.test/privacy',
      },
      capture: { page: SOURCE_FIELD },
    })
    // Editing starts from what was saved.
    const { html: edit } = await page('/admin/forms/choir/edit')
    expect(edit).toMatch(/name="optional_lists" value="[^"]+0001" checked/)
    expect(edit).toMatch(/<option value="[^"]+" selected="">Where did you hear of us\?<\/option>/)
  })

  it('names what is wrong: a required consent without a statement, a list in both groups', async () => {
    const res = await post(
      '/admin/forms/editor',
      choir('save', [['lists', LIST_1]]).map(([k, v]) => [k, k === 'consent_text' ? '' : v])
    )
    expect(res.status).toBe(400)
    const html = await res.text()
    expect(html).toContain('<a href="#f-consent_text">Consent statement</a>: must not be empty')
    expect(html).toContain('<a href="#f-optional_lists">Lists the visitor may tick: Newsletter</a>')
    // Nothing was saved over the stored form.
    expect((await relay().form('choir'))?.profile.lists).toEqual([])
  })
})

describe('the form editor: tags', () => {
  const shop = (action: string, extra: [string, string][] = []): [string, string][] => [
    ['mode', 'new'],
    ['id', 'shop'],
    ['lists', LIST_1],
    ['origins', 'https://shop.test'],
    ['honeypot', '_gotcha'],
    ['language', 'en'],
    ['action', action],
    ...extra,
  ]

  it('offers the account’s tags by name, and saves the ticked ones', async () => {
    const { html } = await page('/admin/forms/new')
    expect(html).toContain('<legend>Tags every contact gets (optional)</legend>')
    expect(html).toMatch(new RegExp(`name="tags" value="${TAG_2}"/?> Bread lover`))
    const saved = await post('/admin/forms/editor', shop('save', [['tags', TAG_2]]))
    expect(saved.status).toBe(303)
    expect((await relay().form('shop'))?.profile.tags).toEqual([TAG_2])
  })

  it('Create tag makes it in Constant Contact by name and ticks it, saving nothing', async () => {
    const before = cc.tags.length
    const res = await post(
      '/admin/forms/editor',
      shop('create_tag', [
        ['mode', 'edit'],
        ['tags', TAG_2],
        ['new_tag', 'Spring fair'],
      ])
    )
    expect(res.status).toBe(200)
    const made = cc.tags.find((t) => t.name === 'Spring fair')
    expect(cc.tags.length).toBe(before + 1)
    const html = await res.text()
    // Listed by name now, and ticked with the one ticked before.
    expect(html).toMatch(
      new RegExp(`name="tags" value="${made?.tag_id}" checked=""/?> Spring fair`)
    )
    expect(html).toMatch(new RegExp(`name="tags" value="${TAG_2}" checked=""/?> Bread lover`))
    expect((await relay().form('shop'))?.profile.tags).toEqual([TAG_2])
  })

  it('a name that is taken is said so, next to the field', async () => {
    const res = await post('/admin/forms/editor', shop('create_tag', [['new_tag', 'Website']]))
    const html = await res.text()
    expect(html).toMatch(/id="f-new_tag-problem">[^<]*Website/)
  })
})

describe('the form editor: a name, standard fields and labels', () => {
  /** A French form named, not given an id, asking for a required first name and an address. */
  const lettre = (action: string, extra: [string, string][] = []): [string, string][] => [
    ['mode', 'new'],
    ['name', 'Lettre de printemps'],
    ['id', ''],
    ['lists', LIST_1],
    ['origins', 'https://lettre.test'],
    ['language', 'fr'],
    ['field.first_name', 'required'],
    ['field.last_name', ''],
    ['field.address', 'optional'],
    ['label.first_name', 'Votre prénom'],
    ['label.last_name', 'not asked, so not kept'],
    ['fields', MEMBER_FIELD],
    [`alias.${MEMBER_FIELD}`, 'member'],
    [`label.custom.${MEMBER_FIELD}`, 'Membre du club'],
    ['honeypot', '_gotcha'],
    ['action', action],
    ...extra,
  ]

  it('starts with the Name; the id is optional; unasked fields and unused sections are closed', async () => {
    const { html } = await page('/admin/forms/new')
    expect(html.indexOf('id="f-name"')).toBeLessThan(html.indexOf('id="f-id"'))
    expect(html).toContain('<label for="f-id">Form id (optional)</label>')
    // The owner's navigation, Forms marked.
    expect(html).toContain('<a href="/admin/forms" aria-current="page">Forms</a>')
    // Preview comes back at the preview; Save, which redirects, carries no fragment over.
    expect(html).toContain('action="/admin/forms/editor#preview"')
    expect(html).toMatch(/value="save" formaction="\/admin\/forms\/editor">/)
    const first = html.slice(html.indexOf('data-standard="first_name"')).slice(0, 900)
    expect(first).toContain('<option value="">Not asked</option>')
    expect(first).toMatch(/<details>\s*<summary>Label in the form<\/summary>/)
    expect(html).toMatch(/<details class="section">\s*<summary>Consent<\/summary>/)
    // Two columns from 1024 px, the editor's CSS in the owner pages' stylesheet.
    const css = await (await call('/assets/app.css')).text()
    expect(css).toContain('@media (min-width: 1024px)')
    expect(css).toContain('.editor-layout')
  })

  it('Preview makes the id from the name, and shows the chosen fields with their labels', async () => {
    const res = await post('/admin/forms/editor', lettre('preview'))
    expect(res.status).toBe(200)
    const html = await res.text()
    expect(html).toContain('id="f-id" name="id"')
    expect(html).toMatch(/value="lettre-de-printemps" id="f-id"/)
    expect(html).toContain('action="https://relay.test/subscribe/lettre-de-printemps"')
    expect(html).toContain(
      '<label>Votre prénom <input type="text" name="first_name" autocomplete="given-name" required></label>'
    )
    expect(html).toContain('<legend>Adresse</legend>')
    expect(html).toContain(
      '<label>Rue <input type="text" name="street" autocomplete="street-address"></label>'
    )
    expect(html).toContain(
      '<input type="checkbox" name="custom.member" value="true"> Membre du club'
    )
    expect(html).not.toContain('name="last_name" autocomplete')
    expect(await relay().form('lettre-de-printemps')).toBeNull()
  })

  it('a label too long is named in words, and said beside its input', async () => {
    const tooLong = lettre('save').map(([k, v]): [string, string] => [
      k,
      k === `label.custom.${MEMBER_FIELD}` ? 'x'.repeat(101) : v,
    ])
    const res = await post('/admin/forms/editor', tooLong)
    expect(res.status).toBe(400)
    const html = await res.text()
    expect(html).toContain(
      `<a href="#f-label.custom.${MEMBER_FIELD}">Label of the custom field “member”</a>: must be at most 100 characters`
    )
    expect(html).toContain(`id="f-label.custom.${MEMBER_FIELD}-problem"`)
    expect(await relay().form('lettre-de-printemps')).toBeNull()
  })

  it('Save keeps the name, the fields and the labels; a second one with the name gets -2', async () => {
    const saved = await post('/admin/forms/editor', lettre('save'))
    expect(saved.status).toBe(303)
    expect(saved.headers.get('location')).toBe('/admin/forms/lettre-de-printemps?notice=form_saved')
    const form = await relay().form('lettre-de-printemps')
    expect(form?.profile).toMatchObject({
      name: 'Lettre de printemps',
      language: 'fr',
      fields: { first_name: 'required', address: 'optional' },
      labels: { first_name: 'Votre prénom', 'custom.member': 'Membre du club' },
    })
    const again = await post('/admin/forms/editor', lettre('save'))
    expect(again.status).toBe(303)
    expect((await relay().form('lettre-de-printemps-2'))?.profile.name).toBe('Lettre de printemps')
    await relay().deleteForm('lettre-de-printemps-2')
    // The forms list calls it by its name.
    const list = (await page('/admin/forms')).html
    expect(list).toContain('<a href="/admin/forms/lettre-de-printemps">Lettre de printemps</a>')
    // Editing it: its name in the title, its id fixed with its address, its fields open.
    const { html } = await page('/admin/forms/lettre-de-printemps/edit')
    expect(html).toContain('<h1>Edit Lettre de printemps</h1>')
    expect(html).toContain('<code>https://relay.test/subscribe/lettre-de-printemps</code>')
    expect(html).not.toContain('id="f-id"')
    const first = html.slice(html.indexOf('data-standard="first_name"')).slice(0, 900)
    expect(first).toContain('<option value="required" selected="">')
    expect(first).toMatch(/<details open="">/)
    expect(first).toContain('value="Votre prénom"')
  })

  it('a visitor’s post without the required first name is refused in French, and CC never hears of it', async () => {
    const before = cc.signupCalls.length
    const res = await call('/subscribe/lettre-de-printemps', {
      method: 'POST',
      headers: {
        origin: 'https://lettre.test',
        accept: 'text/html',
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ email: 'ada@example.com', first_name: '  ' }),
    })
    expect(res.status).toBe(400)
    const html = await res.text()
    expect(html).toContain('<strong>Votre prénom</strong>: Remplissez ce champ.')
    const json = await call('/subscribe/lettre-de-printemps', {
      method: 'POST',
      headers: { origin: 'https://lettre.test', 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com' }),
    })
    expect(json.status).toBe(400)
    expect(((await json.json()) as { fields: unknown }).fields).toEqual({
      first_name: 'Remplissez ce champ.',
    })
    expect(cc.signupCalls.length).toBe(before)
    // The address is optional: none is fine, with the first name.
    const ok = await call('/subscribe/lettre-de-printemps', {
      method: 'POST',
      headers: { origin: 'https://lettre.test', 'content-type': 'application/json' },
      body: JSON.stringify({ email: 'ada@example.com', first_name: 'Ada' }),
    })
    expect(ok.status).toBe(200)
    await relay().deleteForm('lettre-de-printemps')
  })
})
