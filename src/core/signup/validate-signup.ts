/**
 * @module core/signup/validate-signup
 * Validates a visitor's `Fields` against a form profile and builds the body of CC's
 * `POST /v3/contacts/sign_up_form`. CC's 400 is not retryable, so everything it would reject
 * (limits from CC's OpenAPI spec) is caught here while the visitor is still on the page. Unknown
 * fields are dropped, except `custom.<alias>` with an unknown alias: a typo that would silently
 * lose data.
 */
import * as v from 'valibot'
import { checkValue, type FieldTypes } from '../cc/field-types.ts'
import {
  CAPTURE_KEYS,
  type CaptureKey,
  DEFAULT_HONEYPOT,
  type FormProfile,
} from '../forms/profile.ts'
import { PERSON_KEYS, requiredNames, STANDARD_FIELDS, STREET_KEYS } from './form-fields.ts'
import type { Fields } from './read-fields.ts'
import { FIELD_MESSAGES, visitorText } from './visitor-text.ts'

export type StreetAddress = {
  kind: 'home'
  street?: string
  city?: string
  state?: string
  postal_code?: string
  country?: string
}

export type SignupFormBody = {
  email_address: string
  list_memberships: string[]
  first_name?: string
  last_name?: string
  job_title?: string
  company_name?: string
  phone_number?: string
  birthday_month?: number
  birthday_day?: number
  anniversary?: string
  street_address?: StreetAddress
  custom_fields?: { custom_field_id: string; value: string }[]
}

export type SignupResult =
  | {
      ok: true
      body: SignupFormBody
      email: string
      honeypotFilled: boolean
      next?: string
      turnstileToken?: string
      /** The visitor ticked the consent box of a form that has a consent statement. */
      consentGiven: boolean
      /** The page the form was on (`_page`, else the Referer), when known: for the receipt. */
      page?: string
    }
  /**
   * `fields`: what to tell the visitor, by field, in the form's language; `problems`: which
   * check each field failed (a FIELD_MESSAGES key, or `tooManyLists` or `invalid`), for the
   * owner's activity.
   */
  | { ok: false; fields: Record<string, string>; problems: Record<string, string> }

/** What the request says beyond its fields: where a plain form post came from. */
export interface SignupContext {
  /** The Referer header: the page, when `_page` is absent (a post without JavaScript). */
  referer?: string | null
}

/** FIELD_MESSAGES in a form's language (visitor-text.ts). */
type Messages = Record<keyof typeof FIELD_MESSAGES, string>

const withN = (message: string, n: number) => message.replace('{n}', String(n))

/**
 * The schema's messages are the checks' names (`tooLong:{n}` where a number goes with it): the
 * error loop words them in the form's language and keeps the name for the owner's activity.
 */
const PROBLEMS = Object.fromEntries(
  Object.entries(FIELD_MESSAGES).map(([key, text]) => [
    key,
    text.includes('{n}') ? `${key}:{n}` : key,
  ])
) as Messages
/** Checks whose words are not in FIELD_MESSAGES (no form translates them). */
const MORE_PROBLEMS: Record<string, string> = { tooManyLists: 'Choose at most 50 lists.' }

/**
 * C0 controls and DEL (CR/LF are the header-injection risk, TAB included because no contract
 * field has a use for it), plus U+2028/U+2029, which are line breaks to JavaScript and to some
 * mail clients. Checked on the raw value, before trimming could hide a trailing CR/LF.
 */
function allowedChars(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i)
    if (c <= 0x1f || c === 0x7f || c === 0x2028 || c === 0x2029) return false
  }
  return true
}

/**
 * A visitor's text: control characters rejected, trimmed, and empty meaning absent; unless the
 * profile requires the field (`fields`), where absent or empty is refused.
 */
function optionalText<T>(m: Messages, inner: v.GenericSchema<string, T>, required = false) {
  if (required)
    return v.pipe(
      v.optional(v.string(), ''),
      v.check(allowedChars, m.notAllowed),
      v.trim(),
      v.nonEmpty(m.required),
      inner
    )
  return v.optional(
    v.pipe(
      v.string(),
      v.check(allowedChars, m.notAllowed),
      v.trim(),
      v.transform((s) => (s === '' ? undefined : s)),
      v.optional(inner)
    )
  )
}

// Lengths are UTF-16 code units (JavaScript's `length`). That is never less than the code-point
// count JSON Schema uses, so a value that passes here cannot be over CC's limit either way.
const text = (m: Messages, max: number, required = false) =>
  optionalText(m, v.pipe(v.string(), v.maxLength(max, withN(m.tooLong, max))), required)

const wholeNumber = (max: number, message: string) =>
  v.pipe(
    v.string(),
    v.regex(/^\d{1,2}$/, message),
    v.transform(Number),
    v.minValue(1, message),
    v.maxValue(max, message)
  )

/** Day counts with February at 29: CC stores no birth year, so Feb 29 is always possible. */
const DAYS_IN_MONTH = [31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31]

/**
 * CC documents its anniversary formats as MM/DD/YYYY, M/D/YYYY, YYYY/MM/DD, YYYY/M/D, YYYY-MM-DD,
 * YYYY-M-D, M-D-YYYY and M-DD-YYYY. These are Java-style patterns, where a one-letter month or day
 * reads one or two digits, so together they are: month and day of 1-2 digits, a 4-digit year,
 * all `/` or all `-`, year first or year last.
 */
const ANNIVERSARY_FORMATS = [
  { re: /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/, order: 'mdy' },
  { re: /^(\d{4})\/(\d{1,2})\/(\d{1,2})$/, order: 'ymd' },
  { re: /^(\d{4})-(\d{1,2})-(\d{1,2})$/, order: 'ymd' },
  { re: /^(\d{1,2})-(\d{1,2})-(\d{4})$/, order: 'mdy' },
] as const

function anniversaryProblem(m: Messages, value: string): string | undefined {
  for (const { re, order } of ANNIVERSARY_FORMATS) {
    const parts = re.exec(value)
    if (!parts) continue
    const [a, b, c] = [Number(parts[1]), Number(parts[2]), Number(parts[3])]
    const [year, month, day] = order === 'ymd' ? [a, b, c] : [c, a, b]
    const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0
    const days = month === 2 ? (leap ? 29 : 28) : DAYS_IN_MONTH[month - 1]
    return month >= 1 && month <= 12 && day >= 1 && day <= days ? undefined : m.noSuchDate
  }
  return m.dateFormat
}

const anniversary = (m: Messages) =>
  v.pipe(
    v.string(),
    v.rawCheck(({ dataset, addIssue }) => {
      if (!dataset.typed) return
      const message = anniversaryProblem(m, dataset.value)
      if (message) addIssue({ message })
    })
  )

const email = (m: Messages) =>
  v.pipe(
    v.string(),
    v.check(allowedChars, m.notAllowed),
    v.trim(),
    v.nonEmpty(m.emailMissing),
    // CC upserts on the address, and a plugin changelog blames capital letters for errors on
    // resend, so one person is always one lowercase address.
    v.toLowerCase(),
    v.email(m.emailInvalid),
    // The spec gives this endpoint maxLength 50 (POST /contacts allows 80). Whether CC's server
    // enforces 50 is unconfirmed, so we keep to the documented limit: a 400 from CC after we
    // accepted the visitor would lose the sign-up.
    v.maxLength(50, withN(m.tooLong, 50))
  )

type CustomEntry = { alias: string; value: string | undefined }

/** `on` (a checkbox's default), `yes`, `true` or `1`, in any case: the visitor gave consent. */
export function givesConsent(value: string): boolean {
  return /^(on|yes|true|1)$/i.test(value.trim())
}

/**
 * The lists a sign-up joins, from the visitor's `list` fields. With `optional_lists`, every
 * sign-up joins `lists` and the optional ones the visitor ticked; ticking one of `lists` is
 * allowed (it is joined anyway). Without them (profiles from before optional lists), `list`
 * narrows `lists`, and no `list` means all of them, as the form contract always said.
 */
function listsChosen(m: Messages, profile: FormProfile) {
  const always = profile.lists
  // An empty `optional_lists` offers nothing to tick: the profile reads as one without them.
  const optional = profile.optional_lists?.length ? profile.optional_lists : undefined
  const known = new Map([...always, ...(optional ?? [])].map((id) => [id.toLowerCase(), id]))
  return v.pipe(
    v.array(
      v.pipe(
        v.string(),
        v.check(allowedChars, m.notAllowed),
        v.trim(),
        v.check((id) => id === '' || known.has(id.toLowerCase()), m.unknownList)
      )
    ),
    v.transform((ids) => {
      const ticked = new Set<string>()
      for (const id of ids) {
        const list = known.get(id.toLowerCase())
        if (list) ticked.add(list)
      }
      if (optional) return [...new Set([...always, ...ticked])]
      return ticked.size > 0 ? [...ticked] : [...always]
    }),
    // Only a profile with no `lists` can end here: the visitor ticked none of the optional ones.
    v.minLength(1, m.chooseList),
    // CC's maxItems for list_memberships (the profile schema keeps the union within it).
    v.maxLength(50, 'tooManyLists')
  )
}

/** A value written into a capture field: one line, at most 255 characters (CC's text limit). */
function captured(value: string | undefined): string | undefined {
  if (value === undefined || !allowedChars(value)) return undefined
  const trimmed = value.trim()
  return trimmed === '' ? undefined : trimmed.slice(0, 255)
}

/**
 * Where the sign-up came from: the page (`_page`, sent by embed.js, else the Referer of a plain
 * post), its referrer (`_referrer`), and the page's utm_* query parameters.
 */
export function signupSource(
  fields: Fields,
  context: SignupContext
): Partial<Record<CaptureKey, string>> {
  const rawPage = first(fields, '_page') ?? context.referer ?? undefined
  const page = captured(rawPage)
  const source: Partial<Record<CaptureKey, string>> = {}
  if (page !== undefined) source.page = page
  const referrer = captured(first(fields, '_referrer'))
  if (referrer !== undefined) source.referrer = referrer
  // From the whole address: a long page cut to 255 characters may have lost its query.
  let query: URLSearchParams | undefined
  try {
    query = page === undefined ? undefined : new URL((rawPage ?? '').trim()).searchParams
  } catch {
    query = undefined
  }
  for (const key of CAPTURE_KEYS) {
    if (!key.startsWith('utm_')) continue
    const value = captured(query?.get(key) ?? undefined)
    if (value !== undefined) source[key] = value
  }
  return source
}

function buildSchema(profile: FormProfile, types: FieldTypes) {
  const customIds = profile.custom_fields ?? {}
  const language = profile.language ?? 'en'
  const m = PROBLEMS
  // The names a visitor must fill in: the profile's required standard fields (form-fields.ts).
  const required = new Set(
    STANDARD_FIELDS.flatMap((key) =>
      profile.fields?.[key] === 'required' ? requiredNames(key) : []
    )
  )
  const must = (name: string) => required.has(name)

  return v.pipe(
    v.object({
      email: email(m),
      first_name: text(m, 50, must('first_name')),
      last_name: text(m, 50, must('last_name')),
      job_title: text(m, 50, must('job_title')),
      company_name: text(m, 50, must('company_name')),
      phone_number: text(m, 25, must('phone_number')),
      birthday_month: optionalText(m, wholeNumber(12, m.month), must('birthday_month')),
      birthday_day: optionalText(m, wholeNumber(31, m.day), must('birthday_day')),
      anniversary: optionalText(m, anniversary(m), must('anniversary')),
      street: text(m, 255, must('street')),
      city: text(m, 50, must('city')),
      state: text(m, 50, must('state')),
      postal_code: text(m, 50, must('postal_code')),
      country: text(m, 50, must('country')),
      list: listsChosen(m, profile),
      custom: v.array(
        v.pipe(
          v.object({
            alias: v.pipe(
              v.string(),
              v.check((alias) => Object.hasOwn(customIds, alias), m.unknownField)
            ),
            value: text(m, 255),
          }),
          // A typed field's value in CC's format (field-types.ts), or the visitor is told why.
          v.rawTransform(({ dataset, addIssue, NEVER }) => {
            const { alias, value } = dataset.value
            if (value === undefined) return dataset.value
            const type = types[customIds[alias].toLowerCase()]
            const checked = checkValue(type, value, language)
            if (checked.ok) return { alias, value: checked.value }
            addIssue({ message: withN(m[checked.problem], checked.n ?? 0) })
            return NEVER
          })
        )
      ),
      // Cloudflare's siteverify rejects tokens over 2048 characters, so a longer one is junk.
      'cf-turnstile-response': text(m, 2048),
      consent: v.pipe(
        v.optional(v.string(), ''),
        v.transform(givesConsent),
        v.check((given) => given || !profile.consent?.required, m.consentRequired)
      ),
    }),
    v.forward(
      v.partialCheck(
        [['birthday_month'], ['birthday_day']],
        (i) => i.birthday_month !== undefined || i.birthday_day === undefined,
        m.monthMissing
      ),
      ['birthday_month']
    ),
    v.forward(
      v.partialCheck(
        [['birthday_month'], ['birthday_day']],
        (i) => i.birthday_day !== undefined || i.birthday_month === undefined,
        m.dayMissing
      ),
      ['birthday_day']
    ),
    v.forward(
      v.partialCheck(
        [['birthday_month'], ['birthday_day']],
        (i) => {
          // partialCheck also runs when a part failed a validation (only a failed schema or
          // transformation untypes it), so an out-of-range month must pass here.
          const days = DAYS_IN_MONTH[(i.birthday_month ?? 0) - 1]
          return days === undefined || i.birthday_day === undefined || i.birthday_day <= days
        },
        m.noSuchDay
      ),
      ['birthday_day']
    ),
    v.transform((input) => {
      const body: SignupFormBody = { email_address: input.email, list_memberships: input.list }
      for (const key of PERSON_KEYS) {
        const value = input[key]
        if (value !== undefined) body[key] = value
      }
      if (input.birthday_month !== undefined && input.birthday_day !== undefined) {
        body.birthday_month = input.birthday_month
        body.birthday_day = input.birthday_day
      }
      if (input.anniversary !== undefined) body.anniversary = input.anniversary
      const street: StreetAddress = { kind: 'home' }
      let hasStreet = false
      for (const key of STREET_KEYS) {
        const value = input[key]
        if (value !== undefined) {
          street[key] = value
          hasStreet = true
        }
      }
      // CC answers 400 to a street_address without `kind`; a visitor's own address is 'home'.
      if (hasStreet) body.street_address = street
      const custom = input.custom.flatMap(({ alias, value }) =>
        value === undefined ? [] : [{ custom_field_id: customIds[alias], value }]
      )
      if (custom.length > 0) body.custom_fields = custom
      return {
        body,
        turnstileToken: input['cf-turnstile-response'],
        // No statement, no receipt: a `consent` field on a form without one means nothing.
        consentGiven: profile.consent !== undefined && input.consent,
      }
    })
  )
}

type Schema = ReturnType<typeof buildSchema>
const schemas = new WeakMap<FormProfile, { types: FieldTypes; schema: Schema }>()

/** Built once per profile (a form's copy is replaced, not edited, when the form changes). */
function schemaFor(profile: FormProfile, types: FieldTypes): Schema {
  let built = schemas.get(profile)
  if (built?.types !== types) {
    built = { types, schema: buildSchema(profile, types) }
    schemas.set(profile, built)
  }
  return built.schema
}

const NO_TYPES: FieldTypes = {}

function first(fields: Fields, name: string): string | undefined {
  return Object.hasOwn(fields, name) ? fields[name][0] : undefined
}

function isBlank(value: string | undefined): boolean {
  return value === undefined || value.trim() === ''
}

/**
 * `_next` is only honoured for the site's own origins, so the relay cannot be used as an open
 * redirect. A value with control characters is dropped rather than reported: URL parsing would
 * silently strip CR/LF/TAB, and the visitor cannot fix a hidden field anyway.
 */
function nextUrl(value: string | undefined, origins: readonly string[]): string | undefined {
  if (value === undefined || !allowedChars(value)) return undefined
  const trimmed = value.trim()
  if (!/^https?:\/\//i.test(trimmed)) return undefined
  let url: URL
  try {
    url = new URL(trimmed)
  } catch {
    return undefined
  }
  return origins.includes(url.origin) ? url.href : undefined
}

/** `types`: the CC types of the profile's custom fields, when known (field-types.ts). */
export function validateSignup(
  fields: Fields,
  profile: FormProfile,
  types: FieldTypes = NO_TYPES,
  context: SignupContext = {}
): SignupResult {
  // `email` wins over its alias `email_address`; errors are keyed by the name the visitor used.
  // A blank `email` next to a filled `email_address` (say, a hidden empty input) yields to it.
  const emailName =
    isBlank(first(fields, 'email')) &&
    Object.hasOwn(fields, 'email_address') &&
    (!Object.hasOwn(fields, 'email') || !isBlank(first(fields, 'email_address')))
      ? 'email_address'
      : 'email'

  const custom: CustomEntry[] = []
  for (const name of Object.keys(fields)) {
    if (name.startsWith('custom.'))
      custom.push({ alias: name.slice(7), value: first(fields, name) })
  }

  const input: Record<string, unknown> = {
    email: first(fields, emailName) ?? '',
    list: Object.hasOwn(fields, 'list') ? fields.list : [],
    custom,
  }
  // A hidden `consent=no` before the checkbox (a common pattern) must not hide the tick.
  if (Object.hasOwn(fields, 'consent'))
    input.consent = fields.consent.find(givesConsent) ?? fields.consent[0]
  for (const name of [
    ...PERSON_KEYS,
    'birthday_month',
    'birthday_day',
    'anniversary',
    ...STREET_KEYS,
    'cf-turnstile-response',
  ]) {
    const value = first(fields, name)
    if (value !== undefined) input[name] = value
  }

  const result = v.safeParse(schemaFor(profile, types), input)
  if (!result.success) {
    const language = profile.language ?? 'en'
    const words: Messages = { ...FIELD_MESSAGES, ...visitorText({ language }).fields }
    const errors: Record<string, string> = {}
    const problems: Record<string, string> = {}
    for (const issue of result.issues) {
      const path = issue.path ?? []
      let key = String(path[0]?.key ?? emailName)
      if (key === 'email') key = emailName
      if (key === 'custom') key = `custom.${custom[Number(path[1]?.key)]?.alias ?? ''}`
      if (key in errors) continue
      const [problem, n] = issue.message.split(':')
      const text = Object.hasOwn(words, problem)
        ? words[problem as keyof Messages]
        : Object.hasOwn(MORE_PROBLEMS, problem)
          ? MORE_PROBLEMS[problem]
          : undefined
      // A message that is no check's name is valibot's own (a type the form never sends).
      errors[key] = text === undefined ? issue.message : withN(text, Number(n))
      problems[key] = text === undefined ? 'invalid' : problem
    }
    return { ok: false, fields: errors, problems }
  }

  const { body, turnstileToken, consentGiven } = result.output
  const source = signupSource(fields, context)
  addCapture(body, profile, source)
  const honeypot = profile.honeypot ?? DEFAULT_HONEYPOT
  const honeypotFilled = Object.hasOwn(fields, honeypot) && fields[honeypot].some((s) => s !== '')
  const next = nextUrl(first(fields, '_next'), profile.origins)
  return {
    ok: true,
    body,
    email: body.email_address,
    honeypotFilled,
    consentGiven,
    ...(source.page === undefined ? {} : { page: source.page }),
    ...(next === undefined ? {} : { next }),
    ...(turnstileToken === undefined ? {} : { turnstileToken }),
  }
}

/** Writes where the sign-up came from into the profile's capture fields (over a visitor's own). */
function addCapture(
  body: SignupFormBody,
  profile: FormProfile,
  source: Partial<Record<CaptureKey, string>>
): void {
  const custom = new Map((body.custom_fields ?? []).map((f) => [f.custom_field_id, f.value]))
  for (const key of CAPTURE_KEYS) {
    const id = profile.capture?.[key]
    const value = source[key]
    if (id !== undefined && value !== undefined) custom.set(id, value)
  }
  if (custom.size > 0)
    body.custom_fields = [...custom].map(([custom_field_id, value]) => ({ custom_field_id, value }))
}
