import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { FormProfileSchema, formIdFromName, formName, suggestOrigin } from './profile.ts'

const LIST = '9e2f7d10-1111-4c3b-8e42-00000000000a'
const FIELD = '5a1d0c6e-2222-4f1a-9b7c-00000000000f'
const base = { lists: [LIST], origins: ['https://site.test'] }

/** The schema's problems by dot path. */
function problems(input: unknown): Record<string, string> {
  const result = v.safeParse(FormProfileSchema, input)
  return Object.fromEntries(result.issues?.map((i) => [v.getDotPath(i), i.message]) ?? [])
}

describe('formIdFromName', () => {
  const none = () => false
  it('lower-cases, drops accents, joins words with -', () => {
    expect(formIdFromName('Lettre de printemps', none)).toBe('lettre-de-printemps')
    expect(formIdFromName('  Été 2030 : Nouvelles ! ', none)).toBe('ete-2030-nouvelles')
    expect(formIdFromName('Größe_Newsletter', none)).toBe('gro-e-newsletter')
  })

  it('stays within the form id rule, and falls back to "form" when no letter is left', () => {
    const id = formIdFromName('word '.repeat(30), none)
    expect(id.length).toBeLessThanOrEqual(64)
    expect(id).toMatch(/^[a-z0-9][a-z0-9-]*[a-z0-9]$/)
    expect(formIdFromName('日本語', none)).toBe('form')
  })

  it('takes -2, -3… when the id is taken, still within 64 characters', () => {
    const taken = new Set(['news', 'news-2'])
    expect(formIdFromName('News', (id) => taken.has(id))).toBe('news-3')
    const long = formIdFromName('x'.repeat(80), (id) => id === 'x'.repeat(64))
    expect(long).toBe(`${'x'.repeat(62)}-2`)
  })
})

describe('formName', () => {
  it('is the name when there is one, else the id', () => {
    expect(formName({ name: 'Lettre de printemps' }, 'lettre')).toBe('Lettre de printemps')
    expect(formName({}, 'lettre')).toBe('lettre')
  })
})

describe('suggestOrigin', () => {
  it('guesses the origin behind the common mistakes', () => {
    expect(suggestOrigin('https://www.example.com/join')).toBe('https://www.example.com')
    expect(suggestOrigin('www.example.com')).toBe('https://www.example.com')
    expect(suggestOrigin('example.com/')).toBe('https://example.com')
    expect(suggestOrigin('htps://www.example.com')).toBe('https://www.example.com')
    expect(suggestOrigin('https//www.example.com')).toBe('https://www.example.com')
    expect(suggestOrigin('https:/www.example.com')).toBe('https://www.example.com')
    expect(suggestOrigin('http://site.test:8080/a?b')).toBe('http://site.test:8080')
    expect(suggestOrigin('localhost:8788')).toBe('https://localhost:8788')
  })

  it('makes no guess from what is no address, nor for an origin', () => {
    expect(suggestOrigin('my site')).toBeNull()
    expect(suggestOrigin('bakery')).toBeNull()
    expect(suggestOrigin('https://www.example.com')).toBeNull()
  })
})

describe('FormProfileSchema: messages that say what to type', () => {
  it('an origin: what one looks like, and what was probably meant', () => {
    expect(problems({ ...base, origins: ['www.example.com'] })['origins.0']).toBe(
      'must be an origin such as https://www.example.com — scheme and host (and a port if any), no path; did you mean https://www.example.com?'
    )
    expect(problems({ ...base, origins: ['my site'] })['origins.0']).not.toContain('did you mean')
    expect(problems({ ...base, origins: [] }).origins).toContain('https://www.example.com')
  })

  it('no list at all', () => {
    expect(problems({ ...base, lists: [] }).lists).toBe(
      'Choose at least one list (or some lists for the visitor to choose from)'
    )
  })
})

describe('FormProfileSchema: name, fields and labels', () => {
  it('takes a name, standard fields required or optional, and labels by field name', () => {
    const profile = {
      ...base,
      name: 'Lettre de printemps',
      fields: { first_name: 'required', address: 'optional' },
      custom_fields: { member: FIELD },
      labels: { email: 'Votre e-mail', street: 'Rue et numéro', 'custom.member': 'Membre' },
    }
    expect(problems(profile)).toEqual({})
  })

  it('names each wrong field, need or label', () => {
    expect(
      problems({
        ...base,
        name: '',
        fields: { first_name: 'yes', nickname: 'optional' },
        labels: { colour: 'Couleur', email: 'a\nb', 'custom.gone': 'Disparu' },
      })
    ).toEqual({
      name: 'must not be empty',
      'fields.first_name': 'must be "required" or "optional"',
      'fields.nickname': expect.stringContaining('first_name, last_name, job_title'),
      'labels.colour': expect.stringContaining('or custom.<alias>'),
      'labels.email': 'must be one line of text',
    })
    expect(problems({ ...base, labels: { 'custom.gone': 'Disparu' } })).toEqual({
      'labels.custom.gone':
        'labels a custom field the form does not ask for (not in custom_fields)',
    })
  })
})
