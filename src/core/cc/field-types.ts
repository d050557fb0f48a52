/**
 * @module core/cc/field-types
 * Constant Contact's custom field types and the values `sign_up_form` accepts for each. Only what
 * CC documents is checked: `boolean` ("true" or "false"; a checkbox's "on" is true), `number` and
 * `currency` (plain decimal digits; a decimal comma becomes a point; a currency's sign is left to
 * CC). `string`, `text_area`, `date` and `datetime` go as text (≤ 255 characters). Select types
 * cannot be set through sign_up_form, so profiles may not use them.
 * Sources: docs/constant-contact.md §7.
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
