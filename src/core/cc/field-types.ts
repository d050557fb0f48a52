/**
 * @module core/cc/field-types
 * Constant Contact's custom field types, and the values `sign_up_form` takes for them.
 *
 * What CC documents, and so what is checked here:
 * - The types: string, text_area, date, datetime, number, currency, boolean, single_select,
 *   multi_select [D create_custom_fields:
 *   https://developer.constantcontact.com/api_guide/create_custom_fields.html].
 * - `boolean` "accepts true or false" [D create_custom_fields]. The value is a string in
 *   sign_up_form, so "true" or "false"; a checkbox's default "on" is read as "true".
 * - `number` "accepts a number"; `metadata.allow_negative` "determines if a value can be negative.
 *   By default, this value is false"; `metadata.decimal_places` "the number of decimal places
 *   possible in the value"; `metadata.integer` "whole numbers (integers) without decimal values"
 *   [D create_custom_fields; SW CustomFieldMetadata, v3.0.172]. Written as plain decimal digits
 *   with an optional leading minus and a point (the form of a JSON number); a form in French,
 *   Spanish or German may use a decimal comma, normalised to a point.
 * - `currency`: `decimal_places` and `integer` as for numbers [SW CustomFieldMetadata];
 *   `allow_negative` is documented for `number` only, so the sign is left to CC.
 * - `single_select`, `multi_select`: a contact's choices are set with `choice_ids`
 *   [SW ContactCustomField, used by POST/PUT /contacts], and sign_up_form's custom field object
 *   has only `custom_field_id` and `value` [SW CreateOrUpdateContactCustomField]: sign_up_form
 *   cannot set them. Profiles may not use them (forms.ts), and the dashboard says why.
 * What CC does not document for sign_up_form, and so is sent as text (at most 255 characters,
 * the spec's limit for every value): `string`, `text_area`, and `date`/`datetime`, whose
 * `metadata.display_format` only says how CC's own UI shows a date [SW CustomFieldMetadata].
 */
import type { Language } from '../signup/visitor-text.ts'

/** A custom field's type as CC reports it (GET /contact_custom_fields), with its metadata. */
export interface FieldType {
  /** CC's `type`; '' when CC did not say. */
  type: string
  allow_negative?: boolean
  decimal_places?: number
  integer?: boolean
}

/** Types by custom field id, lower-cased. */
export type FieldTypes = Record<string, FieldType>

/** False for the types sign_up_form has no way to set (see the module comment). */
export function signupFormCanSet(type: string): boolean {
  return type !== 'single_select' && type !== 'multi_select'
}

/** A value in CC's format, or why it is not one (a FIELD_MESSAGES key of visitor-text.ts, with its `{n}`). */
export type ValueCheck =
  | { ok: true; value: string }
  | {
      ok: false
      problem: 'trueFalse' | 'number' | 'wholeNumber' | 'decimals' | 'negative'
      n?: number
    }

const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/

/** `value` is trimmed and not empty. */
export function checkValue(
  field: FieldType | undefined,
  value: string,
  language: Language = 'en'
): ValueCheck {
  const type = field?.type
  if (type === 'boolean') {
    const answer = value.toLowerCase()
    if (answer === 'true' || answer === 'on') return { ok: true, value: 'true' }
    if (answer === 'false') return { ok: true, value: 'false' }
    return { ok: false, problem: 'trueFalse' }
  }
  if (type !== 'number' && type !== 'currency') return { ok: true, value }
  const written = language !== 'en' && /^-?\d+,\d+$/.test(value) ? value.replace(',', '.') : value
  const m = DECIMAL.exec(written)
  if (!m) return { ok: false, problem: field?.integer ? 'wholeNumber' : 'number' }
  const decimals = m[3]?.length ?? 0
  if (field?.integer && decimals > 0) return { ok: false, problem: 'wholeNumber' }
  const places = field?.decimal_places
  if (places !== undefined && decimals > places) {
    return places === 0
      ? { ok: false, problem: 'wholeNumber' }
      : { ok: false, problem: 'decimals', n: places }
  }
  if (type === 'number' && m[1] && !field?.allow_negative) return { ok: false, problem: 'negative' }
  return { ok: true, value: written }
}
