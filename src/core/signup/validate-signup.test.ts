import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { type FormProfile, FormProfileSchema } from '../forms/profile.ts'
import type { Fields } from './read-fields.ts'
import { type SignupFormBody, validateSignup } from './validate-signup.ts'
import { FIELD_MESSAGES } from './visitor-text.ts'

const LIST_A = '9e2f7d10-1111-4c3b-8e42-00000000000a'
const LIST_B = '9e2f7d10-1111-4c3b-8e42-00000000000b'
const SOURCE_ID = '5a1d0c6e-2222-4f1a-9b7c-000000000001'
const REGION_ID = '5a1d0c6e-2222-4f1a-9b7c-000000000002'

const PROFILE: FormProfile = v.parse(FormProfileSchema, {
  lists: [LIST_A, LIST_B],
  origins: ['https://site.test', 'http://localhost:8080'],
  custom_fields: { source: SOURCE_ID, region: REGION_ID },
})

const EMAIL = 'ann@site.test'
const BASE: SignupFormBody = { email_address: EMAIL, list_memberships: [LIST_A, LIST_B] }

function fields(input: Record<string, string | string[]>): Fields {
  return Object.fromEntries(
    Object.entries(input).map(([k, value]) => [k, Array.isArray(value) ? value : [value]])
  )
}

function validate(input: Record<string, string | string[]>, profile = PROFILE) {
  return validateSignup(fields(input), profile)
}

/** Expects success and returns the body, compared strictly by callers (no undefined keys). */
function body(input: Record<string, string | string[]>, profile = PROFILE): SignupFormBody {
  const result = validate(input, profile)
  if (!result.ok) throw new Error(`expected success, got ${JSON.stringify(result.fields)}`)
  return result.body
}

function errors(input: Record<string, string | string[]>, profile = PROFILE) {
  const result = validate(input, profile)
  if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.body)}`)
  return result.fields
}

const tooLong = (n: number) => `Use at most ${n} characters.`

describe('validateSignup: the whole result', () => {
  it('needs only an email, and subscribes to every list of the profile', () => {
    expect(validate({ email: EMAIL })).toStrictEqual({
      ok: true,
      body: BASE,
      email: EMAIL,
      honeypotFilled: false,
      consentGiven: false,
    })
  })

  it('maps every contract field to exactly the body CC takes', () => {
    const result = validate({
      email: EMAIL,
      first_name: 'Ann',
      last_name: 'Lee',
      job_title: 'Editor',
      company_name: 'Lee & Co',
      phone_number: '+1 555 0100',
      birthday_month: '3',
      birthday_day: '14',
      anniversary: '2015-06-20',
      street: '1 Main St',
      city: 'Springfield',
      state: 'IL',
      postal_code: '62701',
      country: 'US',
      list: LIST_B,
      'custom.source': 'Footer',
      'custom.region': 'North',
      'cf-turnstile-response': 'token-123',
      _next: 'https://site.test/thanks',
      _gotcha: '',
    })
    expect(result).toStrictEqual({
      ok: true,
      email: EMAIL,
      honeypotFilled: false,
      consentGiven: false,
      next: 'https://site.test/thanks',
      turnstileToken: 'token-123',
      body: {
        email_address: EMAIL,
        list_memberships: [LIST_B],
        first_name: 'Ann',
        last_name: 'Lee',
        job_title: 'Editor',
        company_name: 'Lee & Co',
        phone_number: '+1 555 0100',
        birthday_month: 3,
        birthday_day: 14,
        anniversary: '2015-06-20',
        street_address: {
          kind: 'home',
          street: '1 Main St',
          city: 'Springfield',
          state: 'IL',
          postal_code: '62701',
          country: 'US',
        },
        custom_fields: [
          { custom_field_id: SOURCE_ID, value: 'Footer' },
          { custom_field_id: REGION_ID, value: 'North' },
        ],
      },
    })
  })

  it('never forwards fields outside the contract', () => {
    expect(
      body({
        email: EMAIL,
        permission_to_send: 'explicit',
        opt_in_source: 'Contact',
        list_memberships: 'x',
        email_address: 'other@site.test',
        custom: 'x',
        message: 'hello\r\nworld',
        toString: 'x',
      })
    ).toStrictEqual(BASE)
  })

  it('reports every bad field at once, one message each', () => {
    expect(
      errors({
        email: 'nope',
        first_name: 'x'.repeat(51),
        birthday_month: '13',
        birthday_day: '5',
        list: 'not-a-list',
        'custom.nope': 'x',
      })
    ).toStrictEqual({
      email: FIELD_MESSAGES.emailInvalid,
      first_name: tooLong(50),
      birthday_month: FIELD_MESSAGES.month,
      list: FIELD_MESSAGES.unknownList,
      'custom.nope': FIELD_MESSAGES.unknownField,
    })
  })

  it('uses the first value of a field that is not repeatable', () => {
    expect(
      body({
        email: [EMAIL, 'bob@site.test'],
        first_name: ['Ann', 'x'.repeat(60)],
        'custom.source': ['a', 'b'],
      })
    ).toStrictEqual({
      ...BASE,
      first_name: 'Ann',
      custom_fields: [{ custom_field_id: SOURCE_ID, value: 'a' }],
    })
  })

  it('accepts Fields with a null prototype, as readFields makes them', () => {
    const input = Object.assign(Object.create(null) as Fields, { email: [EMAIL] })
    expect(validateSignup(input, PROFILE)).toStrictEqual({
      ok: true,
      body: BASE,
      email: EMAIL,
      honeypotFilled: false,
      consentGiven: false,
    })
  })
})

describe('validateSignup: email', () => {
  it('trims and lowercases the whole address', () => {
    const result = validate({ email: '  Ann.Lee@Site.TEST \u00a0' })
    expect(result).toStrictEqual({
      ok: true,
      body: { ...BASE, email_address: 'ann.lee@site.test' },
      email: 'ann.lee@site.test',
      honeypotFilled: false,
      consentGiven: false,
    })
  })

  it('is required', () => {
    expect(errors({})).toStrictEqual({ email: 'Enter your email address.' })
    expect(errors({ email: '   ' })).toStrictEqual({ email: 'Enter your email address.' })
    expect(errors({ first_name: 'Ann' })).toStrictEqual({ email: 'Enter your email address.' })
  })

  it.each(['ann', 'ann@', '@site.test', 'ann@site', 'ann site@site.test', 'ann@@site.test'])(
    'rejects %j',
    (email) => {
      expect(errors({ email })).toStrictEqual({ email: FIELD_MESSAGES.emailInvalid })
    }
  )

  it('takes at most 50 characters', () => {
    const at50 = `${'a'.repeat(40)}@site.test`
    expect(at50).toHaveLength(50)
    expect(body({ email: at50 }).email_address).toBe(at50)
    expect(errors({ email: `a${at50}` })).toStrictEqual({ email: tooLong(50) })
  })

  it('accepts email_address as an alias', () => {
    expect(body({ email_address: 'Ann@Site.test' })).toStrictEqual(BASE)
  })

  it('prefers email when both are given', () => {
    expect(body({ email: EMAIL, email_address: 'bob@site.test' })).toStrictEqual(BASE)
    expect(body({ email: EMAIL, email_address: 'not valid' })).toStrictEqual(BASE)
  })

  it('keys errors by the name the visitor used', () => {
    expect(errors({ email_address: 'nope' })).toStrictEqual({
      email_address: FIELD_MESSAGES.emailInvalid,
    })
    expect(errors({ email_address: '' })).toStrictEqual({
      email_address: 'Enter your email address.',
    })
    expect(errors({ email: 'nope', email_address: EMAIL })).toStrictEqual({
      email: FIELD_MESSAGES.emailInvalid,
    })
    expect(errors({ email: '', email_address: '' })).toStrictEqual({
      email: 'Enter your email address.',
    })
  })

  it('falls back to email_address when email is blank', () => {
    expect(body({ email: '', email_address: EMAIL })).toStrictEqual(BASE)
  })
})

describe('validateSignup: text fields', () => {
  it.each([
    ['first_name', 50],
    ['last_name', 50],
    ['job_title', 50],
    ['company_name', 50],
    ['phone_number', 25],
  ] as const)('%s takes up to %i characters', (name, max) => {
    expect(body({ email: EMAIL, [name]: 'é'.repeat(max) })).toStrictEqual({
      ...BASE,
      [name]: 'é'.repeat(max),
    })
    expect(errors({ email: EMAIL, [name]: 'é'.repeat(max + 1) })).toStrictEqual({
      [name]: tooLong(max),
    })
  })

  it('counts the limit after trimming', () => {
    const padded = `  ${'x'.repeat(50)}  `
    expect(body({ email: EMAIL, first_name: padded })).toStrictEqual({
      ...BASE,
      first_name: 'x'.repeat(50),
    })
  })

  it('trims, and treats empty as absent', () => {
    expect(
      body({ email: EMAIL, first_name: '  Ann ', last_name: '', job_title: '   ' })
    ).toStrictEqual({ ...BASE, first_name: 'Ann' })
  })
})

describe('validateSignup: control characters', () => {
  it.each([
    ['CRLF', 'Ann\r\nBcc: x@evil.test'],
    ['a trailing CRLF', 'Ann\r\n'],
    ['LF', 'Ann\nLee'],
    ['CR', 'Ann\rLee'],
    ['TAB', 'Ann\tLee'],
    ['NUL', 'Ann\u0000'],
    ['U+001F', '\u001fAnn'],
    ['DEL', 'Ann\u007f'],
    ['U+2028', 'Ann\u2028Lee'],
    ['U+2029', 'Ann\u2029Lee'],
  ])('rejects %s', (_label, value) => {
    expect(errors({ email: EMAIL, first_name: value })).toStrictEqual({
      first_name: FIELD_MESSAGES.notAllowed,
    })
  })

  it('checks every field it reads, keyed by its name', () => {
    expect(
      errors({
        email: `${EMAIL}\r\nBcc: x@evil.test`,
        phone_number: '555\n0100',
        anniversary: '2020-01-01\n',
        birthday_month: '\t3',
        birthday_day: '4',
        street: '1 Main St\r\nApt 2',
        list: [LIST_A, `${LIST_B}\r\n`],
        'custom.source': 'x\u0000',
        'cf-turnstile-response': 'tok\nen',
      })
    ).toStrictEqual({
      email: FIELD_MESSAGES.notAllowed,
      phone_number: FIELD_MESSAGES.notAllowed,
      anniversary: FIELD_MESSAGES.notAllowed,
      birthday_month: FIELD_MESSAGES.notAllowed,
      street: FIELD_MESSAGES.notAllowed,
      list: FIELD_MESSAGES.notAllowed,
      'custom.source': FIELD_MESSAGES.notAllowed,
      'cf-turnstile-response': FIELD_MESSAGES.notAllowed,
    })
  })

  it('allows ordinary non-ASCII text', () => {
    expect(body({ email: EMAIL, first_name: 'Zoë', city: 'Zürich – Süd' })).toStrictEqual({
      ...BASE,
      first_name: 'Zoë',
      street_address: { kind: 'home', city: 'Zürich – Süd' },
    })
  })
})

describe('validateSignup: birthday', () => {
  it('maps a month and day to numbers', () => {
    expect(body({ email: EMAIL, birthday_month: '03', birthday_day: ' 7 ' })).toStrictEqual({
      ...BASE,
      birthday_month: 3,
      birthday_day: 7,
    })
  })

  it('needs both halves, with the error on the missing one', () => {
    expect(errors({ email: EMAIL, birthday_month: '3' })).toStrictEqual({
      birthday_day: FIELD_MESSAGES.dayMissing,
    })
    expect(errors({ email: EMAIL, birthday_day: '3', birthday_month: '' })).toStrictEqual({
      birthday_month: FIELD_MESSAGES.monthMissing,
    })
  })

  it('treats two empty halves as no birthday', () => {
    expect(body({ email: EMAIL, birthday_month: '', birthday_day: ' ' })).toStrictEqual(BASE)
  })

  it.each(['0', '13', 'x', '1.5', '-1', '3rd', '123'])('rejects month %j', (month) => {
    expect(errors({ email: EMAIL, birthday_month: month, birthday_day: '1' })).toStrictEqual({
      birthday_month: FIELD_MESSAGES.month,
    })
  })

  it.each(['0', '32', 'x', '1e1'])('rejects day %j', (day) => {
    expect(errors({ email: EMAIL, birthday_month: '1', birthday_day: day })).toStrictEqual({
      birthday_day: FIELD_MESSAGES.day,
    })
  })

  it('accepts the edges 1/1, 12/31 and 2/29', () => {
    for (const [m, d] of [
      [1, 1],
      [12, 31],
      [2, 29],
      [1, 31],
    ]) {
      expect(body({ email: EMAIL, birthday_month: String(m), birthday_day: String(d) })).toEqual({
        ...BASE,
        birthday_month: m,
        birthday_day: d,
      })
    }
  })

  it.each([
    ['2', '30'],
    ['2', '31'],
    ['4', '31'],
    ['6', '31'],
    ['9', '31'],
    ['11', '31'],
  ])('rejects the impossible date %s/%s', (month, day) => {
    expect(errors({ email: EMAIL, birthday_month: month, birthday_day: day })).toStrictEqual({
      birthday_day: FIELD_MESSAGES.noSuchDay,
    })
  })
})

describe('validateSignup: anniversary', () => {
  it.each([
    ['MM/DD/YYYY', '06/15/2020'],
    ['M/D/YYYY', '6/5/2020'],
    ['YYYY/MM/DD', '2020/06/15'],
    ['YYYY/M/D', '2020/6/5'],
    ['YYYY-MM-DD', '2020-06-15'],
    ['YYYY-M-D', '2020-6-5'],
    ['M-D-YYYY', '6-5-2020'],
    ['M-DD-YYYY', '6-15-2020'],
    ['a leap day', '02/29/2020'],
    ['a leap day in a 400th year', '2000-02-29'],
  ])('passes %s through as given (%s)', (_format, value) => {
    expect(body({ email: EMAIL, anniversary: ` ${value} ` })).toStrictEqual({
      ...BASE,
      anniversary: value,
    })
  })

  it.each([
    '2020.06.15',
    '15/06/20',
    '2020-06-15T00:00:00Z',
    'June 5, 2020',
    '2020/06-15',
    '06/15/2020x',
    '20200615',
    '06/15/20',
    '123/1/2020',
    '2020-006-15',
    '06\\15\\2020',
  ])('rejects the format %j', (value) => {
    expect(errors({ email: EMAIL, anniversary: value })).toStrictEqual({
      anniversary: FIELD_MESSAGES.dateFormat,
    })
  })

  it.each([
    '02/30/2021',
    '2021-02-29',
    '1900-02-29',
    '2020-13-01',
    '00/10/2020',
    '2020/04/31',
    '6-0-2020',
  ])('rejects the impossible date %j', (value) => {
    expect(errors({ email: EMAIL, anniversary: value })).toStrictEqual({
      anniversary: FIELD_MESSAGES.noSuchDate,
    })
  })

  it('treats empty as absent', () => {
    expect(body({ email: EMAIL, anniversary: '' })).toStrictEqual(BASE)
  })
})

describe('validateSignup: street address', () => {
  it('is sent only when a part of it is present, always with kind home', () => {
    expect(body({ email: EMAIL, street: '', city: ' ' })).toStrictEqual(BASE)
    expect(body({ email: EMAIL, postal_code: ' 62701 ' })).toStrictEqual({
      ...BASE,
      street_address: { kind: 'home', postal_code: '62701' },
    })
  })

  it.each([
    ['street', 255],
    ['city', 50],
    ['state', 50],
    ['postal_code', 50],
    ['country', 50],
  ] as const)('%s takes up to %i characters', (name, max) => {
    expect(body({ email: EMAIL, [name]: 'x'.repeat(max) })).toStrictEqual({
      ...BASE,
      street_address: { kind: 'home', [name]: 'x'.repeat(max) },
    })
    expect(errors({ email: EMAIL, [name]: 'x'.repeat(max + 1) })).toStrictEqual({
      [name]: tooLong(max),
    })
  })
})

describe('validateSignup: required standard fields (the profile’s `fields`)', () => {
  const asking = (fields: FormProfile['fields'], language?: 'fr') =>
    v.parse(FormProfileSchema, { ...PROFILE, fields, ...(language ? { language } : {}) })

  it('refuses a required field absent or blank, in the form’s language', () => {
    const profile = asking({ first_name: 'required', phone_number: 'optional' }, 'fr')
    expect(errors({ email: EMAIL }, profile)).toStrictEqual({
      first_name: 'Remplissez ce champ.',
    })
    expect(errors({ email: EMAIL, first_name: ' \t ' }, profile)).toStrictEqual({
      first_name: 'Contient des caractères non autorisés.',
    })
    expect(errors({ email: EMAIL, first_name: '   ' }, profile)).toStrictEqual({
      first_name: 'Remplissez ce champ.',
    })
    expect(body({ email: EMAIL, first_name: ' Ada ' }, profile)).toStrictEqual({
      ...BASE,
      first_name: 'Ada',
    })
  })

  it('a required birthday needs both halves; a required address its street, city and country', () => {
    const profile = asking({ birthday: 'required', address: 'required' })
    expect(errors({ email: EMAIL, state: 'IL' }, profile)).toStrictEqual({
      birthday_month: FIELD_MESSAGES.required,
      birthday_day: FIELD_MESSAGES.required,
      street: FIELD_MESSAGES.required,
      city: FIELD_MESSAGES.required,
      country: FIELD_MESSAGES.required,
    })
    const filled = {
      birthday_month: '6',
      birthday_day: '15',
      street: '1 Main St',
      city: 'Springfield',
      country: 'US',
    }
    expect(body({ email: EMAIL, ...filled }, profile)).toStrictEqual({
      ...BASE,
      birthday_month: 6,
      birthday_day: 15,
      street_address: { kind: 'home', street: '1 Main St', city: 'Springfield', country: 'US' },
    })
  })

  it('optional fields, and profiles without `fields`, keep the usual rules: absent is fine', () => {
    const profile = asking({ first_name: 'optional', anniversary: 'optional' })
    expect(body({ email: EMAIL }, profile)).toStrictEqual(BASE)
    expect(errors({ email: EMAIL, anniversary: 'soon' }, profile)).toStrictEqual({
      anniversary: FIELD_MESSAGES.dateFormat,
    })
    expect(body({ email: EMAIL })).toStrictEqual(BASE)
  })
})

describe('validateSignup: lists', () => {
  it('subscribes to the chosen subset', () => {
    expect(body({ email: EMAIL, list: LIST_B })).toStrictEqual({
      ...BASE,
      list_memberships: [LIST_B],
    })
    expect(body({ email: EMAIL, list: [LIST_B, LIST_A] })).toStrictEqual({
      ...BASE,
      list_memberships: [LIST_B, LIST_A],
    })
  })

  it('dedupes, trims and matches ids case-insensitively, sending the profile spelling', () => {
    expect(
      body({ email: EMAIL, list: [LIST_A, ` ${LIST_A.toUpperCase()} `, LIST_A] })
    ).toStrictEqual({ ...BASE, list_memberships: [LIST_A] })
  })

  it('falls back to every list when none is chosen', () => {
    expect(body({ email: EMAIL, list: [] })).toStrictEqual(BASE)
    expect(body({ email: EMAIL, list: '' })).toStrictEqual(BASE)
    expect(body({ email: EMAIL, list: ['', ' '] })).toStrictEqual(BASE)
  })

  it('rejects a list that is not in the profile, even next to a good one', () => {
    const other = '9e2f7d10-1111-4c3b-8e42-0000000000ff'
    expect(errors({ email: EMAIL, list: other })).toStrictEqual({ list: 'Unknown list.' })
    expect(errors({ email: EMAIL, list: [LIST_A, other] })).toStrictEqual({ list: 'Unknown list.' })
  })

  it('sends at most 50 lists', () => {
    const many = Array.from(
      { length: 50 },
      (_, i) => `9e2f7d10-1111-4c3b-8e42-${String(i).padStart(12, '0')}`
    )
    const profile = v.parse(FormProfileSchema, { lists: many, origins: ['https://site.test'] })
    expect(body({ email: EMAIL, list: [...many, ...many] }, profile).list_memberships).toEqual(many)
    expect(body({ email: EMAIL }, profile).list_memberships).toHaveLength(50)
  })
})

describe('validateSignup: custom fields', () => {
  it('maps aliases to ids, trimmed, skipping empty values', () => {
    expect(body({ email: EMAIL, 'custom.source': '  Footer ', 'custom.region': '' })).toStrictEqual(
      {
        ...BASE,
        custom_fields: [{ custom_field_id: SOURCE_ID, value: 'Footer' }],
      }
    )
  })

  it('omits custom_fields when every value is empty', () => {
    expect(body({ email: EMAIL, 'custom.source': ' ' })).toStrictEqual(BASE)
  })

  it('takes values of up to 255 characters', () => {
    expect(body({ email: EMAIL, 'custom.source': 'x'.repeat(255) })).toStrictEqual({
      ...BASE,
      custom_fields: [{ custom_field_id: SOURCE_ID, value: 'x'.repeat(255) }],
    })
    expect(errors({ email: EMAIL, 'custom.source': 'x'.repeat(256) })).toStrictEqual({
      'custom.source': tooLong(255),
    })
  })

  it('rejects an alias the profile does not define, keyed by the field name', () => {
    expect(errors({ email: EMAIL, 'custom.Source': 'x' })).toStrictEqual({
      'custom.Source': 'Unknown field.',
    })
    expect(
      errors({ email: EMAIL, 'custom.constructor': 'x', 'custom.__proto__': 'y', 'custom.': 'z' })
    ).toStrictEqual({
      'custom.constructor': 'Unknown field.',
      'custom.__proto__': 'Unknown field.',
      'custom.': 'Unknown field.',
    })
  })

  it('rejects an unknown alias even when its value is empty', () => {
    expect(errors({ email: EMAIL, 'custom.typo': '' })).toStrictEqual({
      'custom.typo': 'Unknown field.',
    })
  })

  it('treats every alias as unknown when the profile has no custom fields', () => {
    const profile = v.parse(FormProfileSchema, { lists: [LIST_A], origins: ['https://site.test'] })
    expect(errors({ email: EMAIL, 'custom.source': 'x' }, profile)).toStrictEqual({
      'custom.source': 'Unknown field.',
    })
  })
})

describe('validateSignup: honeypot', () => {
  it('is filled when any value is non-empty', () => {
    const filled = (input: Record<string, string | string[]>, profile = PROFILE) => {
      const result = validate({ email: EMAIL, ...input }, profile)
      return result.ok && result.honeypotFilled
    }
    expect(filled({})).toBe(false)
    expect(filled({ _gotcha: '' })).toBe(false)
    expect(filled({ _gotcha: 'https://spam.test' })).toBe(true)
    expect(filled({ _gotcha: ['', 'x'] })).toBe(true)
    expect(filled({ _gotcha: ' ' })).toBe(true)
  })

  it('uses the field name the profile chose', () => {
    const profile = v.parse(FormProfileSchema, {
      lists: [LIST_A],
      origins: ['https://site.test'],
      honeypot: 'website',
    })
    const result = validate({ email: EMAIL, website: 'x', _gotcha: '' }, profile)
    expect(result).toStrictEqual({
      ok: true,
      body: { email_address: EMAIL, list_memberships: [LIST_A] },
      email: EMAIL,
      honeypotFilled: true,
      consentGiven: false,
    })
    expect(validate({ email: EMAIL, _gotcha: 'x' }, profile)).toMatchObject({
      ok: true,
      honeypotFilled: false,
      consentGiven: false,
    })
  })

  it('does not change how the other fields are validated or mapped', () => {
    expect(validate({ email: EMAIL, first_name: 'Ann', _gotcha: 'x' })).toStrictEqual({
      ok: true,
      body: { ...BASE, first_name: 'Ann' },
      email: EMAIL,
      honeypotFilled: true,
      consentGiven: false,
    })
    expect(errors({ email: 'nope', _gotcha: 'x' })).toStrictEqual({
      email: FIELD_MESSAGES.emailInvalid,
    })
  })
})

describe('validateSignup: Turnstile token', () => {
  it('is returned, not forwarded to CC', () => {
    const token = 'x'.repeat(2048)
    expect(validate({ email: EMAIL, 'cf-turnstile-response': token })).toStrictEqual({
      ok: true,
      body: BASE,
      email: EMAIL,
      honeypotFilled: false,
      consentGiven: false,
      turnstileToken: token,
    })
  })

  it('is at most 2048 characters', () => {
    expect(errors({ email: EMAIL, 'cf-turnstile-response': 'x'.repeat(2049) })).toStrictEqual({
      'cf-turnstile-response': tooLong(2048),
    })
  })

  it('is absent when empty', () => {
    expect(validate({ email: EMAIL, 'cf-turnstile-response': '' })).toStrictEqual({
      ok: true,
      body: BASE,
      email: EMAIL,
      honeypotFilled: false,
      consentGiven: false,
    })
  })
})

describe('validateSignup: _next', () => {
  const next = (value: string | string[]) => {
    const result = validate({ email: EMAIL, _next: value })
    if (!result.ok) throw new Error('a bad _next must never be an error')
    return result.next
  }

  it('is returned for an absolute URL on one of the profile origins', () => {
    expect(next('https://site.test/thanks?from=form#top')).toBe(
      'https://site.test/thanks?from=form#top'
    )
    expect(next(' https://site.test ')).toBe('https://site.test/')
    expect(next('HTTPS://SITE.TEST/ok')).toBe('https://site.test/ok')
    expect(next('http://localhost:8080/ok')).toBe('http://localhost:8080/ok')
    expect(next(['https://site.test/first', 'https://site.test/second'])).toBe(
      'https://site.test/first'
    )
  })

  it.each([
    ['a foreign origin', 'https://evil.test/thanks'],
    ['a look-alike host', 'https://site.test.evil.test/'],
    ['credentials before a foreign host', 'https://site.test@evil.test/'],
    ['another scheme on the same host', 'http://site.test/thanks'],
    ['another port', 'http://localhost:9999/'],
    ['javascript:', 'javascript:alert(document.cookie)'],
    ['data:', 'data:text/html,<script>alert(1)</script>'],
    ['a relative path', '/thanks'],
    ['a protocol-relative URL', '//site.test/thanks'],
    ['a scheme without slashes', 'https:site.test/thanks'],
    ['CRLF injection', 'https://site.test/\r\nSet-Cookie: a=b'],
    ['a tab URL parsing would strip', 'https://site.test/\tthanks'],
    ['garbage', 'https://'],
    ['empty', ''],
  ])('is dropped for %s, without an error', (_label, value) => {
    expect(next(value)).toBeUndefined()
    expect(validate({ email: EMAIL, _next: value })).not.toHaveProperty('next')
  })
})

describe('validateSignup: typed custom fields (field-types.ts)', () => {
  const VISITS_ID = '5a1d0c6e-2222-4f1a-9b7c-000000000003'
  const TYPED: FormProfile = v.parse(FormProfileSchema, {
    lists: [LIST_A],
    origins: ['https://site.test'],
    custom_fields: { member: SOURCE_ID, visits: VISITS_ID, note: REGION_ID },
  })
  const TYPES = {
    [SOURCE_ID]: { type: 'boolean' },
    [VISITS_ID]: { type: 'number', decimal_places: 1 },
    [REGION_ID]: { type: 'date' },
  }
  const typed = (input: Record<string, string>, profile = TYPED) =>
    validateSignup(fields({ email: EMAIL, ...input }), profile, TYPES)

  it('sends values in CC’s format: a checkbox’s "on" as true, numbers as written', () => {
    const result = typed({ 'custom.member': 'on', 'custom.visits': ' 2.5 ', 'custom.note': 'x' })
    expect(result.ok && result.body.custom_fields).toEqual([
      { custom_field_id: SOURCE_ID, value: 'true' },
      { custom_field_id: VISITS_ID, value: '2.5' },
      { custom_field_id: REGION_ID, value: 'x' },
    ])
  })

  it('names each field whose value is not in its type’s format', () => {
    const result = typed({ 'custom.member': 'maybe', 'custom.visits': '2.25' })
    expect(result).toEqual({
      ok: false,
      fields: {
        'custom.member': FIELD_MESSAGES.trueFalse,
        'custom.visits': 'Too many decimals: at most 1.',
      },
      problems: { 'custom.member': 'trueFalse', 'custom.visits': 'decimals' },
    })
  })

  it('without types (a FORMS profile) every value is text, as before', () => {
    const result = validateSignup(fields({ email: EMAIL, 'custom.visits': 'lots' }), TYPED)
    expect(result.ok && result.body.custom_fields).toEqual([
      { custom_field_id: VISITS_ID, value: 'lots' },
    ])
  })

  it('speaks the form’s language, and reads its decimal comma', () => {
    const french = v.parse(FormProfileSchema, { ...TYPED, language: 'fr' })
    expect(typed({ 'custom.visits': 'beaucoup' }, french)).toEqual({
      ok: false,
      fields: { 'custom.visits': 'Saisissez un nombre.' },
      problems: { 'custom.visits': 'number' },
    })
    const accepted = typed({ 'custom.visits': '1,5' }, french)
    expect(accepted.ok && accepted.body.custom_fields).toEqual([
      { custom_field_id: VISITS_ID, value: '1.5' },
    ])
    expect(validateSignup(fields({ email: 'nope' }), french)).toEqual({
      ok: false,
      fields: { email: 'Saisissez une adresse e-mail valide.' },
      problems: { email: 'emailInvalid' },
    })
  })
})

describe('validateSignup: the problem names the owner’s activity keeps', () => {
  it('names each refused field’s check, never its value', () => {
    const profile = v.parse(FormProfileSchema, { lists: [LIST_A], origins: ['https://site.test'] })
    const result = validateSignup(
      fields({ email: 'jane@', list: 'not-a-list', first_name: 'x'.repeat(60) }),
      profile
    )
    expect(result.ok ? null : result.problems).toEqual({
      email: 'emailInvalid',
      list: 'unknownList',
      first_name: 'tooLong',
    })
    expect(result.ok ? null : result.fields.first_name).toBe('Use at most 50 characters.')
    expect(JSON.stringify(result.ok ? null : result.problems)).not.toContain('jane')
  })
})

describe('validateSignup: optional lists (optional_lists)', () => {
  const LIST_C = '9e2f7d10-1111-4c3b-8e42-00000000000c'
  const WITH_OPTIONAL = v.parse(FormProfileSchema, {
    lists: [LIST_A],
    optional_lists: [LIST_B, LIST_C],
    origins: ['https://site.test'],
  })
  const ONLY_OPTIONAL = v.parse(FormProfileSchema, {
    lists: [],
    optional_lists: [LIST_B, LIST_C],
    origins: ['https://site.test'],
  })

  it('always applies lists, and adds the ticked optional ones', () => {
    expect(body({ email: EMAIL }, WITH_OPTIONAL).list_memberships).toStrictEqual([LIST_A])
    expect(body({ email: EMAIL, list: [LIST_C] }, WITH_OPTIONAL).list_memberships).toStrictEqual([
      LIST_A,
      LIST_C,
    ])
    expect(
      body({ email: EMAIL, list: [LIST_B, LIST_C.toUpperCase()] }, WITH_OPTIONAL).list_memberships
    ).toStrictEqual([LIST_A, LIST_B, LIST_C])
  })

  it('takes a ticked list that every sign-up gets anyway, once', () => {
    expect(
      body({ email: EMAIL, list: [LIST_A, LIST_B] }, WITH_OPTIONAL).list_memberships
    ).toStrictEqual([LIST_A, LIST_B])
  })

  it('refuses a list that is neither, naming the field', () => {
    const other = '9e2f7d10-1111-4c3b-8e42-0000000000ff'
    expect(errors({ email: EMAIL, list: [LIST_B, other] }, WITH_OPTIONAL)).toStrictEqual({
      list: FIELD_MESSAGES.unknownList,
    })
  })

  it('asks the visitor to choose a list when nothing would be joined', () => {
    expect(errors({ email: EMAIL }, ONLY_OPTIONAL)).toStrictEqual({
      list: FIELD_MESSAGES.chooseList,
    })
    expect(errors({ email: EMAIL, list: '' }, ONLY_OPTIONAL)).toStrictEqual({
      list: FIELD_MESSAGES.chooseList,
    })
    expect(body({ email: EMAIL, list: LIST_B }, ONLY_OPTIONAL).list_memberships).toStrictEqual([
      LIST_B,
    ])
  })

  it('asks in the form language', () => {
    const german = { ...ONLY_OPTIONAL, language: 'de' as const }
    expect(errors({ email: EMAIL }, german)).toStrictEqual({
      list: 'Wählen Sie mindestens eine Liste.',
    })
  })

  it('leaves a profile without optional_lists as it was: list narrows lists', () => {
    expect(body({ email: EMAIL, list: LIST_B }).list_memberships).toStrictEqual([LIST_B])
  })

  it('reads an empty optional_lists as none: the snippet offers lists to untick, and they count', () => {
    const empty = v.parse(FormProfileSchema, { ...PROFILE, optional_lists: [] })
    expect(body({ email: EMAIL, list: LIST_B }, empty).list_memberships).toStrictEqual([LIST_B])
  })

  it('refuses a profile whose custom fields and capture fields pass CC’s 50 together', () => {
    const ids = Array.from(
      { length: 50 },
      (_, i) => `5a1d0c6e-2222-4f1a-9b7c-${String(i).padStart(12, '0')}`
    )
    const profile = {
      lists: [LIST_A],
      origins: ['https://site.test'],
      custom_fields: Object.fromEntries(ids.map((id, i) => [`f${i}`, id])),
    }
    expect(v.safeParse(FormProfileSchema, profile).success).toBe(true)
    // The same field again is still 50; a new one is 51.
    expect(v.safeParse(FormProfileSchema, { ...profile, capture: { page: ids[0] } }).success).toBe(
      true
    )
    const over = v.safeParse(FormProfileSchema, {
      ...profile,
      capture: { page: SOURCE_ID.replace('1', '9') },
    })
    expect(over.success).toBe(false)
    expect(over.issues?.map((i) => v.getDotPath(i))).toEqual(['capture'])
  })
})

describe('validateSignup: consent', () => {
  const STATEMENT = 'I agree to receive the newsletter.'
  const consentProfile = (required: boolean) =>
    v.parse(FormProfileSchema, {
      lists: [LIST_A],
      origins: ['https://site.test'],
      consent: { text: STATEMENT, required },
    })

  it.each(['on', 'yes', 'YES', 'true', 'True', '1'])('reads %s as given', (value) => {
    const result = validate({ email: EMAIL, consent: value }, consentProfile(true))
    expect(result.ok && result.consentGiven).toBe(true)
  })

  it.each(['', 'no', 'false', '0', 'off', 'yes please'])('reads %j as not given', (value) => {
    const result = validate({ email: EMAIL, consent: value }, consentProfile(false))
    expect(result.ok && !result.consentGiven).toBe(true)
  })

  it('refuses a sign-up without consent when the form requires it', () => {
    expect(errors({ email: EMAIL }, consentProfile(true))).toStrictEqual({
      consent: FIELD_MESSAGES.consentRequired,
    })
    expect(errors({ email: EMAIL, consent: 'no' }, consentProfile(true))).toStrictEqual({
      consent: FIELD_MESSAGES.consentRequired,
    })
  })

  it('finds the tick behind a hidden "no" of the same name', () => {
    const result = validate({ email: EMAIL, consent: ['no', 'yes'] }, consentProfile(true))
    expect(result.ok && result.consentGiven).toBe(true)
  })

  it('accepts an optional consent left unticked, as not given', () => {
    const result = validate({ email: EMAIL }, consentProfile(false))
    expect(result.ok && result.consentGiven).toBe(false)
  })

  it('ignores a consent field on a form without a statement', () => {
    const result = validate({ email: EMAIL, consent: 'yes' })
    expect(result.ok && result.consentGiven).toBe(false)
  })

  it('never sends consent to CC', () => {
    expect(body({ email: EMAIL, consent: 'yes' }, consentProfile(true))).toStrictEqual({
      email_address: EMAIL,
      list_memberships: [LIST_A],
    })
  })
})

describe('validateSignup: where the sign-up came from (capture)', () => {
  const PAGE_ID = '5a1d0c6e-2222-4f1a-9b7c-0000000000a1'
  const REF_ID = '5a1d0c6e-2222-4f1a-9b7c-0000000000a2'
  const CAMPAIGN_ID = '5a1d0c6e-2222-4f1a-9b7c-0000000000a3'
  const CAPTURING = v.parse(FormProfileSchema, {
    lists: [LIST_A],
    origins: ['https://site.test'],
    custom_fields: { source: SOURCE_ID },
    capture: { page: PAGE_ID, referrer: REF_ID, utm_campaign: CAMPAIGN_ID },
  })
  const captured = (
    input: Record<string, string | string[]>,
    context: { referer?: string } = {}
  ) => {
    const result = validateSignup(fields(input), CAPTURING, undefined, context)
    if (!result.ok) throw new Error(JSON.stringify(result.fields))
    return Object.fromEntries(
      (result.body.custom_fields ?? []).map((f) => [f.custom_field_id, f.value])
    )
  }

  it('writes the page, its referrer and its utm values into the mapped fields', () => {
    const page = 'https://site.test/news?utm_campaign=spring&utm_source=mail'
    expect(
      captured({ email: EMAIL, _page: page, _referrer: 'https://search.example/?q=x' })
    ).toStrictEqual({
      [PAGE_ID]: page,
      [REF_ID]: 'https://search.example/?q=x',
      [CAMPAIGN_ID]: 'spring',
    })
  })

  it('takes the page from the Referer header when the post has no _page (no JavaScript)', () => {
    const referer = 'https://site.test/join?utm_campaign=fall'
    expect(captured({ email: EMAIL }, { referer })).toStrictEqual({
      [PAGE_ID]: referer,
      [CAMPAIGN_ID]: 'fall',
    })
    expect(captured({ email: EMAIL, _page: 'https://site.test/a' }, { referer })).toStrictEqual({
      [PAGE_ID]: 'https://site.test/a',
    })
  })

  it('cuts each value to 255 characters', () => {
    const page = `https://site.test/?utm_campaign=${'c'.repeat(300)}`
    const values = captured({ email: EMAIL, _page: page })
    expect(values[PAGE_ID]).toBe(page.slice(0, 255))
    expect(values[CAMPAIGN_ID]).toBe('c'.repeat(255))
  })

  it('drops a value with control characters instead of refusing the visitor', () => {
    expect(captured({ email: EMAIL, _referrer: 'https://x.example/\r\nevil' })).toStrictEqual({})
  })

  it('keeps the visitor own fields, and writes nothing for an unmapped key', () => {
    expect(
      captured({ email: EMAIL, 'custom.source': 'flyer', _page: 'https://site.test/?utm_term=x' })
    ).toStrictEqual({ [SOURCE_ID]: 'flyer', [PAGE_ID]: 'https://site.test/?utm_term=x' })
  })

  it('captures nothing for a profile without capture', () => {
    expect(body({ email: EMAIL, _page: 'https://site.test/', _referrer: 'x' })).toStrictEqual(BASE)
  })
})
