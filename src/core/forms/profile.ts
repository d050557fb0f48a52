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

/** A list of 0 to `max` CC ids (lists and tags are UUIDs). */
function ids(noun: string, max: number) {
  return v.pipe(
    v.array(uuid, `must be a list of Constant Contact ${noun} ids`),
    v.maxLength(max, `takes at most ${max} ${noun} ids (a Constant Contact limit)`)
  )
}

/** Text with line breaks (a consent statement may have paragraphs), no other control characters. */
const PARAGRAPHS = /^[^\p{Cc}\u2028\u2029]*(?:\n[^\p{Cc}\u2028\u2029]*)*$/u

/** Where a sign-up came from: the page, its referrer, and the page's utm_* parameters. */
export const CAPTURE_KEYS = [
  'page',
  'referrer',
  'utm_source',
  'utm_medium',
  'utm_campaign',
  'utm_term',
  'utm_content',
] as const
export type CaptureKey = (typeof CAPTURE_KEYS)[number]

/** The path of an issue at `profile[key][index]`, so errors name it as `optional_lists.1`. */
function issuePath(
  profile: Record<string, unknown>,
  key: string,
  index?: number
): [v.IssuePathItem, ...v.IssuePathItem[]] {
  const value = profile[key] as unknown[]
  const path: [v.IssuePathItem, ...v.IssuePathItem[]] = [
    { type: 'object', origin: 'value', input: profile, key, value },
  ]
  if (index !== undefined)
    path.push({ type: 'array', origin: 'value', input: value, key: index, value: value[index] })
  return path
}

/** The honeypot field's name when a profile names none (in the snippet, hidden from people). */
export const DEFAULT_HONEYPOT = '_gotcha'

/** The profile's keys, each checked alone; `FormProfileSchema` adds the checks across keys. */
export const PROFILE_ENTRIES = {
  /** Applied to every sign-up. May be empty when `optional_lists` is not. */
  lists: ids('list', 50),
  /** The lists a visitor may tick (`list` fields); each ticked one is added to `lists`. */
  optional_lists: v.optional(ids('list', 50)),
  /** Added to every contact delivered through the form (sign_up_form takes no tags). */
  tags: v.optional(ids('tag', 50)),
  /** The statement beside the consent checkbox; a given consent leaves a receipt (core/consent). */
  consent: v.optional(
    v.strictObject(
      {
        text: v.pipe(
          v.string(),
          v.trim(),
          v.nonEmpty('must not be empty'),
          v.maxLength(1000, 'must be at most 1000 characters'),
          v.regex(PARAGRAPHS, 'must be text (line breaks allowed, no other control characters)')
        ),
        required: v.boolean('must be true or false'),
        privacy_url: v.optional(httpsUrl),
      },
      'must be an object with text, required and optionally privacy_url'
    )
  ),
  /** Where a sign-up came from, written into these text custom fields. */
  capture: v.optional(
    v.strictObject(
      Object.fromEntries(CAPTURE_KEYS.map((key) => [key, v.optional(uuid)])) as Record<
        CaptureKey,
        v.OptionalSchema<typeof uuid, undefined>
      >,
      `must be an object mapping any of ${CAPTURE_KEYS.join(', ')} to a custom field id`
    )
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
}

export const FormProfileSchema = v.pipe(
  v.strictObject(PROFILE_ENTRIES),
  v.forward(
    v.partialCheck(
      [['lists'], ['optional_lists']],
      (p) => p.lists.length > 0 || (p.optional_lists?.length ?? 0) > 0,
      'needs at least one list id (or optional_lists for the visitor to choose from)'
    ),
    ['lists']
  ),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const always = new Set(dataset.value.lists.map((id) => id.toLowerCase()))
    const optional = dataset.value.optional_lists ?? []
    optional.forEach((id, i) => {
      if (always.has(id.toLowerCase()))
        addIssue({
          message: 'is also in lists, which every sign-up gets: it cannot be optional',
          path: issuePath(dataset.value, 'optional_lists', i),
        })
    })
    // CC's maxItems for list_memberships: the union must fit, whatever the visitor ticks.
    if (always.size + optional.length > 50)
      addIssue({
        message: 'with lists, makes more than 50 lists (a Constant Contact limit)',
        path: issuePath(dataset.value, 'optional_lists'),
      })
    // And for custom_fields: the visitor's fields and where the sign-up came from, together.
    const fieldIds = new Set(
      [
        ...Object.values(dataset.value.custom_fields ?? {}),
        ...Object.values(dataset.value.capture ?? {}),
      ].flatMap((id) => (id === undefined ? [] : [id.toLowerCase()]))
    )
    if (fieldIds.size > 50)
      addIssue({
        message: 'with custom_fields, writes more than 50 custom fields (a Constant Contact limit)',
        path: issuePath(dataset.value, 'capture'),
      })
  })
)
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
