/**
 * @module core/signup/form-fields
 * The field names of the public form contract (README "The form contract"); users' HTML depends on
 * them.
 */

export const STREET_KEYS = ['street', 'city', 'state', 'postal_code', 'country'] as const
export const PERSON_KEYS = [
  'first_name',
  'last_name',
  'job_title',
  'company_name',
  'phone_number',
] as const

/**
 * The fields a profile's `fields` may ask for, each `required` or `optional`: a person's own, the
 * birthday (`birthday_month` and `birthday_day`) and the address (the street keys) as one each.
 */
export const STANDARD_FIELDS = [...PERSON_KEYS, 'birthday', 'anniversary', 'address'] as const
export type StandardField = (typeof STANDARD_FIELDS)[number]

/** The contract's field names a standard field stands for. */
export const STANDARD_FIELD_NAMES: Record<StandardField, readonly string[]> = {
  first_name: ['first_name'],
  last_name: ['last_name'],
  job_title: ['job_title'],
  company_name: ['company_name'],
  phone_number: ['phone_number'],
  birthday: ['birthday_month', 'birthday_day'],
  anniversary: ['anniversary'],
  address: STREET_KEYS,
}

/**
 * The names of a required field a visitor must fill in. The state and the postal code stay
 * optional in a required address: many countries have neither.
 */
export function requiredNames(field: StandardField): readonly string[] {
  return field === 'address' ? ['street', 'city', 'country'] : STANDARD_FIELD_NAMES[field]
}

/**
 * What the snippet labels: the email, each standard field's inputs, and the two groups (birthday,
 * address) by their legend. A profile's `labels` rewords any of them, and `custom.<alias>`.
 */
export const LABEL_KEYS = [
  'email',
  ...PERSON_KEYS,
  'birthday',
  'birthday_month',
  'birthday_day',
  'anniversary',
  'address',
  ...STREET_KEYS,
] as const
export type LabelKey = (typeof LABEL_KEYS)[number]

/**
 * Every field name the form contract reads (README "The form contract"; custom fields are
 * `custom.<alias>`). A profile's honeypot must be none of them (forms/profile.ts): a visitor
 * filling it in would be taken for a bot, and the sign-up answered with thanks but never sent.
 */
export const CONTRACT_FIELDS: readonly string[] = [
  'email',
  'email_address',
  ...PERSON_KEYS,
  'birthday_month',
  'birthday_day',
  'anniversary',
  ...STREET_KEYS,
  'list',
  'consent',
  'custom',
  '_next',
  '_page',
  '_referrer',
  'cf-turnstile-response',
]
