/**
 * @module core/forms/profile
 * A form's profile: what a sign-up through it carries to Constant Contact, where it may come
 * from, and what its visitors read. The same schema checks `FORMS` and the dashboard's forms.
 */
import * as v from 'valibot'
import { httpsUrl, noControlChars, ONE_LINE } from '../lib/url.ts'
import { CONTRACT_FIELDS } from '../signup/form-fields.ts'
import { LANGUAGES, MESSAGE_KEYS, type MessageKey } from '../signup/visitor-text.ts'

const uuid = v.pipe(v.string(), v.trim(), v.uuid('must be a UUID'))
/** A visitor-facing sentence: no control characters (it lands in pages, JSON and attributes). */
const visitorText = v.pipe(
  v.string(),
  v.trim(),
  v.nonEmpty('must not be empty'),
  v.maxLength(300, 'must be at most 300 characters'),
  v.regex(ONE_LINE, 'must be one line of text')
)
const origin = v.pipe(
  v.string(),
  v.trim(),
  noControlChars,
  v.check((s) => {
    try {
      return new URL(s).origin === s.replace(/\/$/, '')
    } catch {
      return false
    }
  }, 'must be an origin such as https://site.example (scheme, host and optional port, no path)'),
  v.transform((s) => s.replace(/\/$/, ''))
)

/** The honeypot field's name when a profile names none (in the snippet, hidden from people). */
export const DEFAULT_HONEYPOT = '_gotcha'

export const FormProfileSchema = v.strictObject({
  lists: v.pipe(
    v.array(uuid, 'must be a list of Constant Contact list ids'),
    v.minLength(1, 'needs at least one list id'),
    v.maxLength(50, 'takes at most 50 list ids (a Constant Contact limit)')
  ),
  origins: v.pipe(v.array(origin), v.minLength(1, 'needs at least one origin')),
  success_url: v.optional(httpsUrl),
  error_url: v.optional(httpsUrl),
  custom_fields: v.optional(
    v.pipe(
      v.record(
        v.pipe(v.string(), v.regex(/^[A-Za-z0-9_-]{1,50}$/, 'aliases use A-Z a-z 0-9 _ - only')),
        uuid
      ),
      v.check((r) => Object.keys(r).length <= 50, 'takes at most 50 custom fields')
    )
  ),
  turnstile: v.optional(v.boolean()),
  /** The widget's public site key, printed into the snippet (the secret stays a secret). */
  turnstile_site_key: v.optional(
    v.pipe(v.string(), v.trim(), v.regex(/^[A-Za-z0-9_-]{1,100}$/, 'must be a Turnstile site key'))
  ),
  honeypot: v.optional(
    v.pipe(
      v.string(),
      v.regex(/^[A-Za-z0-9_-]{1,64}$/, 'must be a plain field name'),
      v.check(
        (name) => !CONTRACT_FIELDS.includes(name),
        'must not be a field the form sends (email, first_name, …): filled in, it would mark a person as a bot'
      )
    ),
    DEFAULT_HONEYPOT
  ),
  /** What visitors read: the built-in texts' language, and the owner's own wording (visitor-text.ts). */
  language: v.optional(v.picklist(LANGUAGES, `must be one of ${LANGUAGES.join(', ')}`)),
  messages: v.optional(
    v.strictObject(
      Object.fromEntries(MESSAGE_KEYS.map((key) => [key, v.optional(visitorText)])) as Record<
        MessageKey,
        v.OptionalSchema<typeof visitorText, undefined>
      >
    )
  ),
})
export type FormProfile = v.InferOutput<typeof FormProfileSchema>

/** The form ids of FORMS and of the dashboard's forms alike: they are URL path segments. */
export const FORM_ID = /^[A-Za-z0-9_-]{1,64}$/

export const FormsSchema = v.pipe(
  v.unknown(),
  // A TOML table arrives as an object; `--var` and secrets can only carry a JSON string.
  v.rawTransform(({ dataset, addIssue, NEVER }) => {
    const value = dataset.value
    if (typeof value !== 'string') return value
    try {
      return JSON.parse(value) as unknown
    } catch {
      addIssue({ message: 'is a string but not valid JSON' })
      return NEVER
    }
  }),
  v.record(
    v.pipe(v.string(), v.regex(FORM_ID, 'form ids use A-Z a-z 0-9 _ - (at most 64)')),
    FormProfileSchema,
    'must be a table of form profiles, or the same as a JSON string'
  )
)
export type Forms = v.InferOutput<typeof FormsSchema>
