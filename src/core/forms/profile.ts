/**
 * @module core/forms/profile
 * A form's profile: what a sign-up through it carries to Constant Contact, where it may come
 * from, and what its visitors read. The same schema checks `FORMS` and the dashboard's forms.
 */
import * as v from 'valibot'
import { httpsUrl, noControlChars, ONE_LINE } from '../lib/url.ts'
import {
  CONTRACT_FIELDS,
  LABEL_KEYS,
  STANDARD_FIELDS,
  type StandardField,
} from '../signup/form-fields.ts'
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
/** A field's label in the snippet: one short line. */
const label = v.pipe(
  v.string(),
  v.trim(),
  v.nonEmpty('must not be empty'),
  v.maxLength(100, 'must be at most 100 characters'),
  v.regex(ONE_LINE, 'must be one line of text')
)

/** `http:` or `https:` at the start, and the usual ways of mistyping it (`htps:/`, `https//`). */
const SCHEME_LIKE = /^(h[a-z]{0,6})?(?::\/*|\/\/+)/i

/**
 * The origin an owner probably meant by something that is not one: the origin of an address
 * with a path, `https://` before a bare host (`www.example.com`), `https` for a mistyped scheme.
 * Null when no guess is sound (no dot in the host, not a URL even then).
 */
export function suggestOrigin(typed: string): string | null {
  const s = typed.trim()
  try {
    const url = new URL(s)
    if (url.protocol === 'https:' || url.protocol === 'http:')
      return url.origin === s ? null : url.origin
  } catch {}
  const scheme = SCHEME_LIKE.exec(s)
  const rest = scheme ? s.slice(scheme[0].length) : s
  const protocol = scheme?.[1]?.toLowerCase() === 'http' ? 'http' : 'https'
  try {
    const url = new URL(`${protocol}://${rest}`)
    const plausible = url.hostname.includes('.') || url.hostname === 'localhost'
    return plausible && !/^[\d.]+$/.test(url.hostname) ? url.origin : null
  } catch {
    return null
  }
}

const ORIGIN_EXAMPLE =
  'must be an origin such as https://www.example.com — scheme and host (and a port if any), no path'
const origin = v.pipe(
  v.string(),
  v.trim(),
  noControlChars,
  v.check(
    (s) => {
      try {
        return new URL(s).origin === s.replace(/\/$/, '')
      } catch {
        return false
      }
    },
    (issue) => {
      const guess = typeof issue.input === 'string' ? suggestOrigin(issue.input) : null
      return guess ? `${ORIGIN_EXAMPLE}; did you mean ${guess}?` : ORIGIN_EXAMPLE
    }
  ),
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

/**
 * The path of an issue at `profile[key][index]` (an array's) or `profile[key][name]` (an
 * object's), so errors name it as `optional_lists.1` or `labels.custom.colour`.
 */
function issuePath(
  profile: Record<string, unknown>,
  key: string,
  index?: number | string
): [v.IssuePathItem, ...v.IssuePathItem[]] {
  const path: [v.IssuePathItem, ...v.IssuePathItem[]] = [
    { type: 'object', origin: 'value', input: profile, key, value: profile[key] },
  ]
  if (typeof index === 'number') {
    const value = profile[key] as unknown[]
    path.push({ type: 'array', origin: 'value', input: value, key: index, value: value[index] })
  } else if (index !== undefined) {
    const value = profile[key] as Record<string, unknown>
    path.push({ type: 'object', origin: 'value', input: value, key: index, value: value[index] })
  }
  return path
}

/** How a profile asks for a standard field (`fields`). */
export const FIELD_NEEDS = ['required', 'optional'] as const
export type FieldNeed = (typeof FIELD_NEEDS)[number]
const fieldNeed = v.optional(v.picklist(FIELD_NEEDS, 'must be "required" or "optional"'))

const CUSTOM_LABEL = /^custom\.[A-Za-z0-9_-]{1,50}$/

/** The honeypot field's name when a profile names none (in the snippet, hidden from people). */
export const DEFAULT_HONEYPOT = '_gotcha'

/** The profile's keys, each checked alone; `FormProfileSchema` adds the checks across keys. */
export const PROFILE_ENTRIES = {
  /** What the owner calls the form (the dashboard shows it in place of the id); never visitors. */
  name: v.optional(
    v.pipe(
      v.string(),
      v.trim(),
      v.nonEmpty('must not be empty'),
      v.maxLength(100, 'must be at most 100 characters'),
      v.regex(ONE_LINE, 'must be one line of text')
    )
  ),
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
  origins: v.pipe(
    v.array(origin),
    v.minLength(1, 'needs at least one origin, such as https://www.example.com')
  ),
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
  /** The standard fields the snippet asks for, each required or optional (form-fields.ts). */
  fields: v.optional(
    v.strictObject(
      Object.fromEntries(STANDARD_FIELDS.map((key) => [key, fieldNeed])) as Record<
        StandardField,
        typeof fieldNeed
      >,
      `must be an object mapping any of ${STANDARD_FIELDS.join(', ')} to "required" or "optional"`
    )
  ),
  /** The snippet's labels, by field name (LABEL_KEYS, `custom.<alias>`), over the built-in ones. */
  labels: v.optional(
    v.record(
      v.pipe(
        v.string(),
        v.check(
          (key) => (LABEL_KEYS as readonly string[]).includes(key) || CUSTOM_LABEL.test(key),
          `names a field: one of ${LABEL_KEYS.join(', ')}, or custom.<alias>`
        )
      ),
      label
    )
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
      'Choose at least one list (or some lists for the visitor to choose from)'
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
    for (const key of Object.keys(dataset.value.labels ?? {})) {
      if (CUSTOM_LABEL.test(key) && !Object.hasOwn(dataset.value.custom_fields ?? {}, key.slice(7)))
        addIssue({
          message: 'labels a custom field the form does not ask for (not in custom_fields)',
          path: issuePath(dataset.value, 'labels', key),
        })
    }
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

/** What the dashboard calls a form: its name, else its id. */
export function formName(profile: { name?: string }, formId: string): string {
  return profile.name ?? formId
}

/**
 * A form id made from a name, for a new form whose owner typed none: lower case, accents
 * removed, every run of other characters one `-` ("Lettre de printemps" → lettre-de-printemps),
 * within FORM_ID, and none of `taken` (then -2, -3…).
 */
export function formIdFromName(name: string, taken: (id: string) => boolean): string {
  const base =
    name
      .normalize('NFD')
      .replace(/\p{M}/gu, '')
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .slice(0, 64)
      .replace(/^-+|-+$/g, '') || 'form'
  if (!taken(base)) return base
  for (let n = 2; ; n++) {
    const suffix = `-${n}`
    const id = `${base.slice(0, 64 - suffix.length).replace(/-+$/, '')}${suffix}`
    if (!taken(id)) return id
  }
}

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
