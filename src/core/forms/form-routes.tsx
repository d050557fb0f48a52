/**
 * @module core/forms/form-routes
 * HTTP for forms made in the dashboard (forms.ts). Both the JSON API and the editor check a
 * profile with `checkForm`: the FORMS schema, Turnstile's secret, then the account's lists and
 * custom fields when they can be read.
 *   GET    /admin/api/forms          200 {"forms":[{"id","source","profile","updated_at"}]}
 *   PUT    /admin/api/forms/:formId  201 created / 200 updated; 400 invalid_input with `fields`;
 *                                    409 form_managed_by_config
 *   DELETE /admin/api/forms/:formId  204; 404 unknown_form; 409 form_managed_by_config
 *   GET  /admin/forms/new, /admin/forms/:formId/edit   the editor, with a preview
 *   POST /admin/forms/editor         action=preview re-renders; action=save saves, 303 to its page
 *   POST /admin/forms/:formId/delete
 * The API is mounted ahead of the dashboard's routes; the editor inside them (their CSP and CSRF).
 */
import type { Context, MiddlewareHandler } from 'hono'
import { Hono } from 'hono/tiny'
import type { AppEnv } from '../app/app-env.ts'
import type { Config } from '../app/config.ts'
import { AppError } from '../app/errors.ts'
import { type Catalog, checkProfiles } from '../cc/catalog.ts'
import type { FieldTypes } from '../cc/field-types.ts'
import { formFields, readOwnerJson } from '../owner/owner-body.ts'
import { sameOriginUnlessBearer } from '../owner/owner-only.ts'
import type { RelayBackend } from '../relay/backend.ts'
import { profileFor } from '../signup/accept-signup.ts'
import {
  LABEL_KEYS,
  STANDARD_FIELD_NAMES,
  STANDARD_FIELDS,
  type StandardField,
} from '../signup/form-fields.ts'
import type { Fields } from '../signup/read-fields.ts'
import { LANGUAGES, type Language, MESSAGE_KEYS } from '../signup/visitor-text.ts'
import type { FormCard } from './form-list-pages.tsx'
import { type FormDraft, FormEditorPage } from './form-pages.tsx'
import { catalogProblems, type FieldProblems, type FormDirectory, parseProfile } from './forms.ts'
import {
  CAPTURE_KEYS,
  DEFAULT_HONEYPOT,
  FIELD_NEEDS,
  type FieldNeed,
  FORM_ID,
  type FormProfile,
  formIdFromName,
  formName,
} from './profile.ts'
import type { StoredForm } from './repo.ts'
import { formMarkup, formSnippet, type SnippetProfile } from './snippet.ts'

export interface FormsDeps {
  backend: () => RelayBackend
  forms: FormDirectory
  ownerOnly: MiddlewareHandler<AppEnv>
  now: () => number
}

/** A catalog read longer ago than this is read again before an id is called unknown. */
const CATALOG_FRESH_MS = 60_000

const invalidInput = (fields: FieldProblems) =>
  new AppError('invalid_input', 'Some fields are invalid', { details: { fields } })
const managedByConfig = (id: string) =>
  new AppError(
    'form_managed_by_config',
    `The form "${id}" is defined in FORMS: change it in the deployment's configuration`
  )
const unknownForm = (id: string) =>
  new AppError('unknown_form', `There is no form "${id}" made in the dashboard`)

type Checked =
  | { ok: true; profile: FormProfile; types: FieldTypes }
  | { ok: false; fields: FieldProblems }

/** The profile before a save (see the module comment); `types` as read from the catalog. */
async function checkForm(deps: FormsDeps, config: Config, input: unknown): Promise<Checked> {
  const parsed = parseProfile(input)
  if (!parsed.ok) return parsed
  const { profile } = parsed
  const fields: FieldProblems = {}
  // FORMS with Turnstile is refused at start without the secret (config.ts); so is this.
  if (profile.turnstile && !config.TURNSTILE_SECRET_KEY && !config.sandbox)
    fields.turnstile = 'needs the TURNSTILE_SECRET_KEY secret (npx wrangler secret put)'
  const backend = deps.backend()
  let catalog = await backend.catalog()
  let found = catalog.ok ? catalogProblems(profile, catalog.value) : { fields: {}, types: {} }
  // A list or field made in CC moments ago is missing from an older read: read once more.
  const stale = catalog.ok && deps.now() - Date.parse(catalog.value.fetched_at) > CATALOG_FRESH_MS
  if (stale && Object.keys(found.fields).length > 0) {
    catalog = await backend.catalog({ refresh: true })
    if (catalog.ok) found = catalogProblems(profile, catalog.value)
  }
  Object.assign(fields, found.fields)
  if (Object.keys(fields).length > 0) return { ok: false, fields }
  return { ok: true, profile, types: found.types }
}

/** Every form, FORMS first; a dashboard form under a FORMS id is shadowed, so not listed. */
function allForms(config: Config, dashboard: StoredForm[]) {
  return [
    ...Object.entries(config.FORMS).map(([id, profile]) => ({
      id,
      profile,
      types: {} as FieldTypes,
      updatedAt: null as number | null,
    })),
    ...dashboard.filter((f) => !profileFor(config, f.id)),
  ]
}

export function formsApiRoutes(deps: FormsDeps): Hono<AppEnv> {
  const api = new Hono<AppEnv>()
  api.use(deps.ownerOnly, sameOriginUnlessBearer)

  api.get('/', async (c) => {
    const { forms } = await deps.backend().forms()
    for (const form of forms) deps.forms.remember(form.id, form)
    return c.json({
      forms: allForms(c.var.config, forms).map((f) => ({
        id: f.id,
        source: f.updatedAt === null ? 'config' : 'dashboard',
        profile: f.profile,
        updated_at: f.updatedAt === null ? null : new Date(f.updatedAt).toISOString(),
      })),
    })
  })

  api.put('/:formId', async (c) => {
    const id = c.req.param('formId')
    if (!FORM_ID.test(id)) throw invalidInput({ id: 'form ids use A-Z a-z 0-9 _ - (at most 64)' })
    if (profileFor(c.var.config, id)) throw managedByConfig(id)
    const checked = await checkForm(deps, c.var.config, await readOwnerJson(c.req.raw, 'profile'))
    if (!checked.ok) throw invalidInput(checked.fields)
    const { profile, types } = checked
    const { form, created } = await deps.backend().saveForm({ id, profile, types })
    deps.forms.remember(id, form)
    return c.json({ id, source: 'dashboard', profile: form.profile }, created ? 201 : 200)
  })

  // The snippet to paste, as the dashboard shows it: a form of FORMS or of the dashboard.
  api.get('/:formId/snippet', async (c) => {
    const id = c.req.param('formId')
    const form = FORM_ID.test(id) ? await deps.forms.find(c.var.config, id) : null
    if (!form) throw new AppError('unknown_form', `There is no form "${id}"`)
    const read = await deps.backend().catalog()
    const origin = new URL(c.req.url).origin
    const snippet = await formSnippet(
      origin,
      id,
      form.profile,
      read.ok ? read.value : null,
      form.types
    )
    return c.body(snippet, 200, { 'content-type': 'text/html; charset=utf-8' })
  })

  api.delete('/:formId', async (c) => {
    const id = c.req.param('formId')
    if (profileFor(c.var.config, id)) throw managedByConfig(id)
    if (!FORM_ID.test(id) || !(await deps.backend().deleteForm(id))) throw unknownForm(id)
    deps.forms.remember(id, null)
    return c.body(null, 204)
  })

  return api
}

/** The dashboard's form cards: every form with its drift check (its page adds the snippet). */
export function formCards(
  config: Config,
  dashboard: StoredForm[],
  catalog: Catalog | null
): FormCard[] {
  const forms = allForms(config, dashboard)
  const checks = catalog
    ? checkProfiles(Object.fromEntries(forms.map((f) => [f.id, f.profile])), catalog)
    : []
  return forms.map((f) => ({
    formId: f.id,
    name: formName(f.profile, f.id),
    profile: f.profile,
    types: f.types,
    check: checks.find((k) => k.form_id === f.id) ?? null,
    updatedAt: f.updatedAt,
    turnstile: f.profile.turnstile === true,
    optionalLists: (f.profile.optional_lists ?? []).map((id) => ({
      id,
      name: catalog?.lists.find((l) => l.list_id.toLowerCase() === id.toLowerCase())?.name ?? id,
    })),
    consent: f.profile.consent
      ? { text: f.profile.consent.text, required: f.profile.consent.required }
      : null,
  }))
}

// ─── The editor ───────────────────────────────────────────────────────────────────────────────

const lines = (text: string) =>
  text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter(Boolean)

function draftOf(id: string, profile: FormProfile | null): FormDraft {
  return {
    name: profile?.name ?? '',
    id,
    isNew: profile === null,
    lists: profile?.lists ?? [],
    optional_lists: profile?.optional_lists ?? [],
    tags: profile?.tags ?? [],
    new_tag: '',
    consent_text: profile?.consent?.text ?? '',
    consent_required: profile?.consent?.required ?? false,
    consent_privacy_url: profile?.consent?.privacy_url ?? '',
    capture: profile?.capture ?? {},
    customFields: profile?.custom_fields ?? {},
    fields: profile?.fields ?? {},
    labels: profile?.labels ?? {},
    origins: profile?.origins.join('\n') ?? '',
    success_url: profile?.success_url ?? '',
    error_url: profile?.error_url ?? '',
    turnstile: profile?.turnstile ?? false,
    turnstile_site_key: profile?.turnstile_site_key ?? '',
    honeypot: profile?.honeypot ?? DEFAULT_HONEYPOT,
    language: profile?.language ?? 'en',
    messages: profile?.messages ?? {},
  }
}

/** The editor's fields as typed, and the problems only the editor can have (a repeated name). */
function draftFromBody(body: Fields): { draft: FormDraft; problems: FieldProblems } {
  const all = (key: string) => body[key] ?? []
  const one = (key: string) => all(key)[0] ?? ''
  const problems: FieldProblems = {}
  const customFields: Record<string, string> = {}
  const chosen = all('fields').map((id) => [one(`alias.${id.toLowerCase()}`).trim() || id, id])
  const typed = lines(one('custom_text')).map((line) => line.split('=').map((s) => s.trim()))
  for (const [alias, id] of [...chosen, ...typed]) {
    if (customFields[alias] !== undefined) problems[`custom_fields.${alias}`] = 'is used twice'
    customFields[alias] = id ?? ''
  }
  const language = one('language') as Language
  const messages: FormDraft['messages'] = {}
  for (const key of MESSAGE_KEYS)
    if (one(`message.${key}`).trim()) messages[key] = one(`message.${key}`)
  const fields: FormDraft['fields'] = {}
  for (const key of STANDARD_FIELDS) {
    const need = one(`field.${key}`) as FieldNeed
    if (FIELD_NEEDS.includes(need)) fields[key] = need
  }
  // Labels of the fields asked for: the email's, the chosen standard fields' (and their
  // inputs'), and each ticked custom field's, typed under its id and kept under its alias.
  const labels: FormDraft['labels'] = {}
  const asked = new Set<string>(['email'])
  for (const key of Object.keys(fields) as StandardField[])
    for (const name of [key, ...STANDARD_FIELD_NAMES[key]]) asked.add(name)
  for (const key of LABEL_KEYS)
    if (asked.has(key) && one(`label.${key}`).trim()) labels[key] = one(`label.${key}`)
  for (const [alias, id] of Object.entries(customFields)) {
    const label = one(`label.custom.${(id ?? '').toLowerCase()}`)
    if (label.trim()) labels[`custom.${alias}`] = label
  }
  const draft: FormDraft = {
    name: one('name').trim(),
    id: one('id').trim(),
    isNew: one('mode') !== 'edit',
    lists: [...all('lists'), ...lines(one('lists_text'))],
    optional_lists: [...all('optional_lists'), ...lines(one('optional_lists_text'))],
    tags: [...all('tags'), ...lines(one('tags_text'))],
    new_tag: one('new_tag'),
    consent_text: one('consent_text'),
    consent_required: one('consent_required') === 'on',
    consent_privacy_url: one('consent_privacy_url'),
    capture: Object.fromEntries(
      CAPTURE_KEYS.map((key) => [key, one(`capture.${key}`).trim()]).filter(([, id]) => id)
    ),
    customFields,
    fields,
    labels,
    origins: one('origins'),
    success_url: one('success_url'),
    error_url: one('error_url'),
    turnstile: one('turnstile') === 'on',
    turnstile_site_key: one('turnstile_site_key'),
    honeypot: one('honeypot'),
    language: LANGUAGES.includes(language) ? language : 'en',
    messages,
  }
  return { draft, problems }
}

/** The draft as a profile to check: empty optional fields left out, as in a FORMS entry. */
function draftInput(draft: FormDraft): Record<string, unknown> {
  const input: Record<string, unknown> = { lists: draft.lists, origins: lines(draft.origins) }
  if (draft.name) input.name = draft.name
  if (Object.keys(draft.fields).length > 0) input.fields = draft.fields
  if (Object.keys(draft.labels).length > 0) input.labels = draft.labels
  if (draft.optional_lists.length > 0) input.optional_lists = draft.optional_lists
  if (draft.tags.length > 0) input.tags = draft.tags
  if (draft.consent_text.trim()) {
    input.consent = {
      // The textarea sends CRLF line breaks; the statement keeps plain LF ones.
      text: draft.consent_text.replace(/\r\n?/g, '\n'),
      required: draft.consent_required,
      ...(draft.consent_privacy_url.trim() ? { privacy_url: draft.consent_privacy_url } : {}),
    }
  } else if (draft.consent_required || draft.consent_privacy_url.trim()) {
    input.consent = { text: '', required: draft.consent_required }
  }
  if (Object.keys(draft.capture).length > 0) input.capture = draft.capture
  if (Object.keys(draft.customFields).length > 0) input.custom_fields = draft.customFields
  for (const key of ['success_url', 'error_url', 'turnstile_site_key', 'honeypot'] as const) {
    if (draft[key].trim()) input[key] = draft[key]
  }
  if (draft.turnstile) input.turnstile = true
  if (draft.language !== 'en') input.language = draft.language
  if (Object.keys(draft.messages).length > 0) input.messages = draft.messages
  return input
}

async function editorPage(
  c: Context<AppEnv>,
  deps: FormsDeps,
  draft: FormDraft,
  problems: FieldProblems,
  types: FieldTypes = {}
): Promise<Response> {
  const read = await deps.backend().catalog()
  const catalog = read.ok ? read.value : null
  const origin = new URL(c.req.url).origin
  const profile = draftInput(draft) as SnippetProfile
  const id = draft.id || 'new-form'
  const preview = {
    markup: await formMarkup(origin, id, profile, catalog, types),
    snippet: await formSnippet(origin, id, profile, catalog, types),
  }
  const status = Object.keys(problems).length > 0 ? 400 : 200
  return c.html(
    <FormEditorPage
      draft={draft}
      relayOrigin={origin}
      catalog={catalog}
      catalogError={read.ok ? null : read.message}
      problems={problems}
      preview={preview}
    />,
    status
  )
}

/** A free form id made from a name: none of FORMS's ids, nor of the dashboard's forms. */
async function idFromName(deps: FormsDeps, config: Config, name: string): Promise<string> {
  const { forms } = await deps.backend().forms()
  const taken = new Set([...Object.keys(config.FORMS), ...forms.map((f) => f.id)])
  return formIdFromName(name, (id) => taken.has(id))
}

/**
 * The editor's "Create tag": makes the tag in CC (the owner pressed the button for it, never a
 * side effect of Preview or Save) and shows the editor again with it ticked, or says why not.
 */
async function createTag(c: Context<AppEnv>, deps: FormsDeps, draft: FormDraft) {
  const name = draft.new_tag.trim()
  if (!name) return editorPage(c, deps, draft, { new_tag: 'type the new tag’s name first' })
  const created = await deps.backend().createTag(name)
  if (!created.ok) return editorPage(c, deps, draft, { new_tag: created.message })
  const tags = [...draft.tags, created.value.tag_id]
  return editorPage(c, deps, { ...draft, tags, new_tag: '' }, {})
}

export function formEditorRoutes(deps: FormsDeps): Hono<AppEnv> {
  const editor = new Hono<AppEnv>()
  editor.use(deps.ownerOnly)

  editor.get('/new', (c) => editorPage(c, deps, draftOf('', null), {}))

  editor.get('/:formId/edit', async (c) => {
    const id = c.req.param('formId')
    if (profileFor(c.var.config, id)) throw managedByConfig(id)
    const form = FORM_ID.test(id) ? await deps.backend().form(id) : null
    if (!form) throw unknownForm(id)
    return editorPage(c, deps, draftOf(id, form.profile), {}, form.types)
  })

  editor.post('/editor', async (c) => {
    const config = c.var.config
    // Read by `ownerForm` (owner/owner-body.ts), bounded like every owner POST.
    const body = formFields(c)
    const { draft, problems } = draftFromBody(body)
    // A new form without an id gets one from its name, shown on Preview and kept on Save.
    if (draft.isNew && !draft.id && draft.name)
      draft.id = await idFromName(deps, config, draft.name)
    if (body.action?.[0] === 'create_tag') return createTag(c, deps, draft)
    if (body.action?.[0] !== 'save') return editorPage(c, deps, draft, {})
    const { id } = draft
    if (!id) problems.id = 'type a name (the id is made from it) or an id, such as spring-news'
    else if (!FORM_ID.test(id))
      problems.id = 'use letters, digits, _ and - only, at most 64, such as spring-news'
    else if (profileFor(config, id)) problems.id = 'is a form defined in FORMS'
    else if (draft.isNew && (await deps.backend().form(id)))
      problems.id = 'is taken by another form'
    const checked = await checkForm(deps, config, draftInput(draft))
    if (!checked.ok) Object.assign(problems, checked.fields)
    if (!checked.ok || Object.keys(problems).length > 0) return editorPage(c, deps, draft, problems)
    const { profile, types } = checked
    const { form } = await deps.backend().saveForm({ id, profile, types })
    deps.forms.remember(id, form)
    return c.redirect(`/admin/forms/${id}?notice=form_saved`, 303)
  })

  editor.post('/:formId/delete', async (c) => {
    const id = c.req.param('formId')
    if (profileFor(c.var.config, id)) throw managedByConfig(id)
    if (!FORM_ID.test(id) || !(await deps.backend().deleteForm(id))) throw unknownForm(id)
    deps.forms.remember(id, null)
    return c.redirect('/admin/forms?notice=form_deleted', 303)
  })

  return editor
}
