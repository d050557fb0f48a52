import { describe, expect, it } from 'vitest'
import { parseConfig } from '../app/config.ts'
import type { Catalog } from '../cc/catalog.ts'
import type { RelayBackend } from '../relay/backend.ts'
import {
  type Attempt,
  catalogProblems,
  describeChanges,
  FormDirectory,
  type FormEntry,
  parseProfile,
  withCurrentForm,
} from './forms.ts'
import type { FormProfile } from './profile.ts'
import type { StoredForm } from './repo.ts'

const LIST_A = '9e2f7d10-1111-4c3b-8e42-00000000000a'
const LIST_B = '9e2f7d10-1111-4c3b-8e42-00000000000b'
const FIELD = '5a1d0c6e-2222-4f1a-9b7c-00000000000f'
const TAG = 'c6915956-fde3-4081-977e-00000000000a'

const profile = (over: Partial<FormProfile> = {}): FormProfile => ({
  lists: [LIST_A],
  origins: ['https://site.test'],
  honeypot: '_gotcha',
  ...over,
})

describe('parseProfile', () => {
  it('names every bad field by its path, the FORMS schema’s messages', () => {
    const result = parseProfile({
      lists: ['not-a-uuid', LIST_A],
      origins: ['https://site.test/path'],
      custom_fields: { 'bad alias': FIELD },
      language: 'it',
      messages: { success: '' },
      colour: 'blue',
    })
    expect(result.ok).toBe(false)
    expect(result.ok === false && Object.keys(result.fields).sort()).toEqual([
      'colour',
      'custom_fields.bad alias',
      'language',
      'lists.0',
      'messages.success',
      'origins.0',
    ])
    expect(result.ok === false && result.fields['lists.0']).toBe('must be a UUID')
  })

  it('a body that is not an object is one problem, named "profile"', () => {
    expect(parseProfile('x')).toEqual({ ok: false, fields: { profile: expect.any(String) } })
  })
})

describe('catalogProblems', () => {
  const catalog: Catalog = {
    lists: [{ list_id: LIST_A.toUpperCase(), name: 'A' }],
    custom_fields: [
      {
        custom_field_id: FIELD,
        name: 'visits',
        label: 'Visits',
        type: 'number',
        metadata: { decimal_places: 1 },
      },
      {
        custom_field_id: 'c0000000-0000-4000-8000-000000000001',
        name: 'c',
        label: 'C',
        type: 'multi_select',
      },
    ],
    tags: [{ tag_id: TAG.toUpperCase(), name: 'Bakers' }],
    fetched_at: '',
  }

  it('every list and field must exist (ids compared case-insensitively)', () => {
    const found = catalogProblems(
      profile({
        lists: [LIST_A, LIST_B],
        custom_fields: { visits: FIELD, gone: 'd0000000-0000-4000-8000-000000000001' },
      }),
      catalog
    )
    expect(found.fields).toEqual({
      'lists.1': 'Constant Contact has no such list',
      'custom_fields.gone': 'Constant Contact has no such custom field',
    })
  })

  it('every tag must exist, each refused by its place in the list', () => {
    const gone = 'c6915956-fde3-4081-977e-00000000000b'
    expect(catalogProblems(profile({ tags: [TAG, gone] }), catalog).fields).toEqual({
      'tags.1': 'Constant Contact has no such tag',
    })
  })

  it('refuses a field sign_up_form cannot set, and keeps the others’ types', () => {
    const found = catalogProblems(
      profile({
        custom_fields: {
          visits: FIELD.toUpperCase(),
          pick: 'c0000000-0000-4000-8000-000000000001',
        },
      }),
      catalog
    )
    expect(found.fields).toEqual({
      'custom_fields.pick': expect.stringContaining(
        'multi_select field, which sign_up_form cannot set'
      ),
    })
    expect(found.types).toEqual({ [FIELD]: { type: 'number', decimal_places: 1 } })
  })
})

describe('describeChanges', () => {
  it('says what changed, one line each, and nothing when nothing did', () => {
    const before = profile({ custom_fields: { a: FIELD }, messages: { success: 'Hi' } })
    const after = profile({
      lists: [LIST_B],
      origins: ['https://site.test', 'https://www.site.test'],
      turnstile: true,
      language: 'fr',
      messages: { success: 'Salut' },
      name: 'Lettre',
      fields: { first_name: 'required' },
      labels: { first_name: 'Votre prénom' },
    })
    expect(describeChanges(before, after)).toEqual([
      'name: (none) → "Lettre"',
      `lists: +${LIST_B} −${LIST_A}`,
      'origins: +https://www.site.test',
      `custom_fields.a: "${FIELD}" → (none)`,
      'turnstile: (none) → true',
      'fields.first_name: (none) → "required"',
      'labels.first_name: (none) → "Votre prénom"',
      'language: (none) → "fr"',
      'messages.success: "Hi" → "Salut"',
    ])
    expect(describeChanges(after, after)).toEqual([])
  })

  it('a new form is all additions; a deleted one all removals', () => {
    expect(describeChanges(null, profile())).toEqual([
      `lists: +${LIST_A}`,
      'origins: +https://site.test',
      'honeypot: (none) → "_gotcha"',
    ])
    expect(describeChanges(profile(), null)[0]).toBe(`lists: −${LIST_A}`)
  })
})

describe('FormDirectory and withCurrentForm: the profile a sign-up is checked against', () => {
  const config = parseConfig({
    CC_CLIENT_ID: 'client',
    ADMIN_TOKEN: 'admin-token-0123456789',
    FORMS: JSON.stringify({ configured: profile() }),
  })
  const stored = (revision: number, over: Partial<FormProfile> = {}): StoredForm => ({
    id: 'made',
    profile: profile(over),
    types: {},
    revision,
    updatedAt: 0,
  })

  /** A backend whose `form()` answers `current` and counts the calls. */
  function backend(current: { form: StoredForm | null }) {
    const calls: string[] = []
    const fake = {
      form: async (id: string) => {
        calls.push(id)
        return current.form
      },
    } as unknown as RelayBackend
    return { directory: new FormDirectory(() => fake), calls }
  }

  it('FORMS needs no lookup; a dashboard form is read once, then its copy is used', async () => {
    const { directory, calls } = backend({ form: stored(1) })
    expect((await directory.find(config, 'configured'))?.current).toBe(true)
    expect(calls).toEqual([])
    expect(await directory.find(config, 'made')).toMatchObject({ revision: 1, current: true })
    expect(await directory.find(config, 'made')).toMatchObject({ revision: 1, current: false })
    expect(calls).toEqual(['made'])
  })

  it('an answer the backend confirmed (an accepted sign-up) costs no lookup', async () => {
    const { directory, calls } = backend({ form: stored(1) })
    await directory.find(config, 'made')
    const seen: (number | undefined)[] = []
    const done = await withCurrentForm(directory, config, 'made', async (f) => {
      seen.push(f?.revision)
      return { done: 'accepted', confirmed: true }
    })
    expect(done).toBe('accepted')
    expect(seen).toEqual([1])
    expect(calls).toEqual(['made'])
  })

  it('a stale copy: the backend’s current form is used at once, with no further lookup', async () => {
    const current = { form: stored(1) }
    const { directory, calls } = backend(current)
    await directory.find(config, 'made')
    const seen: (number | undefined)[] = []
    const done = await withCurrentForm(directory, config, 'made', async (f) => {
      seen.push(f?.revision)
      return f?.revision === 1 ? { stale: stored(2) } : { done: 'accepted', confirmed: true }
    })
    expect(done).toBe('accepted')
    expect(seen).toEqual([1, 2])
    expect(calls).toEqual(['made'])
    // The copy was replaced: the next sign-up starts from revision 2.
    expect(await directory.find(config, 'made')).toMatchObject({ revision: 2 })
  })

  it('a refusal from a copy is confirmed first, and redone when the form changed', async () => {
    const current = { form: stored(1) }
    const { directory, calls } = backend(current)
    await directory.find(config, 'made')
    const attempt = async (f: FormEntry | null): Promise<Attempt<string>> =>
      f?.profile.origins.includes('https://new.test')
        ? { done: 'accepted', confirmed: true }
        : { done: 'origin_not_allowed', confirmed: false }
    // Unchanged: the refusal stands, after one lookup.
    expect(await withCurrentForm(directory, config, 'made', attempt)).toBe('origin_not_allowed')
    expect(calls).toHaveLength(2)
    // Changed meanwhile (another isolate saved it): the sign-up is checked again, and accepted.
    await directory.find(config, 'made')
    current.form = stored(3, { origins: ['https://new.test'] })
    expect(await withCurrentForm(directory, config, 'made', attempt)).toBe('accepted')
  })

  it('a form deleted meanwhile is unknown; ids that cannot be form ids are never looked up', async () => {
    const current = { form: stored(1) as StoredForm | null }
    const { directory, calls } = backend(current)
    await directory.find(config, 'made')
    current.form = null
    const result = await withCurrentForm(directory, config, 'made', async (f) =>
      f ? { stale: null } : { done: 'unknown_form', confirmed: false }
    )
    expect(result).toBe('unknown_form')
    expect(await directory.find(config, '../../etc')).toBeNull()
    expect(calls).toEqual(['made'])
  })

  it('a form that keeps changing is unavailable after three tries, nothing accepted', async () => {
    const { directory } = backend({ form: stored(1) })
    let revision = 1
    await expect(
      withCurrentForm(directory, config, 'made', async () => ({ stale: stored(++revision) }))
    ).rejects.toMatchObject({ code: 'unavailable' })
  })
})
