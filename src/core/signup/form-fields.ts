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
