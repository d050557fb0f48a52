/**
 * @module core/forms/snippet
 * The copy-paste HTML for a form profile (README "The form contract"), pre-filled with its lists
 * and custom fields, in the form's language. Works without JavaScript; embed.js reads the texts it
 * needs before any answer from the form's attributes.
 */
import { html } from 'hono/html'
import type { Catalog } from '../cc/catalog.ts'
import type { FieldType, FieldTypes } from '../cc/field-types.ts'
import {
  type LabelKey,
  requiredNames,
  STANDARD_FIELD_NAMES,
  STANDARD_FIELDS,
  type StandardField,
} from '../signup/form-fields.ts'
import { fieldLabel, type VisitorText, visitorText } from '../signup/visitor-text.ts'
import { DEFAULT_HONEYPOT, type FormProfile } from './profile.ts'

/** What the snippet needs of a profile: a draft in the dashboard's editor may lack the rest. */
export type SnippetProfile = Pick<
  FormProfile,
  | 'lists'
  | 'optional_lists'
  | 'consent'
  | 'custom_fields'
  | 'turnstile'
  | 'turnstile_site_key'
  | 'language'
  | 'messages'
  | 'fields'
  | 'labels'
> & { honeypot?: string }

/** A standard field's input: the browser's autofill token, and a type or keyboard beyond text. */
interface InputSpec {
  autocomplete?: string
  type?: 'tel' | 'date'
  inputmode?: 'numeric'
}

const INPUTS: Record<Exclude<LabelKey, 'email' | 'birthday' | 'address'>, InputSpec> = {
  first_name: { autocomplete: 'given-name' },
  last_name: { autocomplete: 'family-name' },
  job_title: { autocomplete: 'organization-title' },
  company_name: { autocomplete: 'organization' },
  phone_number: { autocomplete: 'tel', type: 'tel' },
  birthday_month: { autocomplete: 'bday-month', inputmode: 'numeric' },
  birthday_day: { autocomplete: 'bday-day', inputmode: 'numeric' },
  // CC's formats include YYYY-MM-DD, which is what a date input sends.
  anniversary: { type: 'date' },
  street: { autocomplete: 'street-address' },
  city: { autocomplete: 'address-level2' },
  state: { autocomplete: 'address-level1' },
  postal_code: { autocomplete: 'postal-code' },
  country: { autocomplete: 'country-name' },
}

/** The inputs of the profile's standard fields (`fields`), in the contract's order. */
function standardFields(profile: SnippetProfile, text: VisitorText) {
  const label = (key: LabelKey) => fieldLabel(text, profile.labels, key)
  const input = (name: keyof typeof INPUTS, required: boolean, indent = '  ') => {
    const { autocomplete, type, inputmode } = INPUTS[name]
    // Each attribute's value interpolated, never the attribute: a whole one would be escaped.
    const fill = autocomplete ? html` autocomplete="${autocomplete}"` : ''
    const keyboard = inputmode ? html` inputmode="${inputmode}"` : ''
    return html`\n${indent}<label>${label(name)} <input type="${type ?? 'text'}" name="${name}"${fill}${keyboard}${required ? ' required' : ''}></label>`
  }
  const chosen = STANDARD_FIELDS.filter((key) => profile.fields?.[key] !== undefined)
  return chosen.map((key: StandardField) => {
    const required = profile.fields?.[key] === 'required' ? requiredNames(key) : []
    if (key !== 'birthday' && key !== 'address') return input(key, required.includes(key))
    const inputs = (STANDARD_FIELD_NAMES[key] as (keyof typeof INPUTS)[]).map((name) =>
      input(name, required.includes(name), '    ')
    )
    return html`\n  <fieldset>\n    <legend>${label(key)}</legend>${inputs}\n  </fieldset>`
  })
}

function customInput(name: string, label: string, field: FieldType | undefined) {
  if (field?.type === 'boolean')
    return html`\n  <label><input type="checkbox" name="${name}" value="true"> ${label}</label>`
  const numeric = field?.type === 'number' || field?.type === 'currency'
  // The attribute's value, not the attribute: an interpolated `inputmode="…"` would be escaped.
  const mode = numeric ? (field.integer ? 'numeric' : 'decimal') : null
  return mode
    ? html`\n  <label>${label} <input type="text" name="${name}" inputmode="${mode}"></label>`
    : html`\n  <label>${label} <input type="text" name="${name}"></label>`
}

/**
 * The lists a visitor ticks, grouped under a legend: a profile's `optional_lists`, unticked (its
 * `lists` are joined anyway, so they are not shown). A profile from before optional lists, with
 * several `lists`, offers those, ticked: the visitor may untick some (`list` narrows them).
 */
function listChoices(profile: SnippetProfile, name: (id: string) => string, legend: string) {
  const optional = profile.optional_lists ?? []
  const [ids, checked] =
    optional.length > 0
      ? [optional, '']
      : [profile.lists.length > 1 ? profile.lists : [], ' checked']
  if (ids.length === 0) return ''
  const boxes = ids.map(
    (id) =>
      html`\n    <label><input type="checkbox" name="list" value="${id}"${checked}> ${name(id)}</label>`
  )
  return html`\n  <fieldset>\n    <legend>${legend}</legend>${boxes}\n  </fieldset>`
}

/** The `<form>` element alone (the dashboard previews it); `formSnippet` adds the scripts. */
export async function formMarkup(
  relayOrigin: string,
  formId: string,
  profile: SnippetProfile,
  catalog: Catalog | null,
  types: FieldTypes = {}
): Promise<string> {
  const text = visitorText(profile)
  const listName = (id: string) =>
    catalog?.lists.find((l) => l.list_id.toLowerCase() === id.toLowerCase())?.name ?? id
  const lists = listChoices(profile, listName, text.lists_legend)
  const consent = profile.consent
    ? html`\n  <p><label><input type="checkbox" name="consent" value="yes"${profile.consent.required ? ' required' : ''}> ${profile.consent.text}</label>${profile.consent.privacy_url ? html` <a href="${profile.consent.privacy_url}">${text.privacy}</a>` : ''}</p>`
    : ''
  const custom = Object.entries(profile.custom_fields ?? {}).map(([alias, id]) => {
    const known = catalog?.custom_fields.find(
      (f) => f.custom_field_id.toLowerCase() === id.toLowerCase()
    )
    const type = types[id.toLowerCase()] ?? (known && { type: known.type, ...known.metadata })
    const label = profile.labels?.[`custom.${alias}`] ?? known?.label ?? alias
    return customInput(`custom.${alias}`, label, type)
  })
  const turnstile = profile.turnstile
    ? html`\n  <div class="cf-turnstile" data-sitekey="${profile.turnstile_site_key ?? 'YOUR_TURNSTILE_SITE_KEY'}" data-action="${formId}"></div>`
    : ''
  const form = html`<form action="${relayOrigin}/subscribe/${formId}" method="post" data-ctct-relay lang="${text.lang}" data-ctct-sending="${text.sending}" data-ctct-network="${text.network}">
  <label>${fieldLabel(text, profile.labels, 'email')} <input type="email" name="email" required autocomplete="email"></label>${standardFields(profile, text)}${lists}${custom}${consent}
  <input type="text" name="${profile.honeypot ?? DEFAULT_HONEYPOT}" hidden tabindex="-1" autocomplete="off">${turnstile}
  <button>${text.subscribe}</button>
  <p data-ctct-status aria-live="polite"></p>
</form>`
  return String(await form)
}

/** The whole snippet: `formMarkup`, then the embed script (and Turnstile's, when it is on). */
export async function formSnippet(...args: Parameters<typeof formMarkup>): Promise<string> {
  const [relayOrigin, , profile] = args
  const form = await formMarkup(...args)
  const turnstileScript = profile.turnstile
    ? '\n<script src="https://challenges.cloudflare.com/turnstile/v0/api.js" async defer></script>'
    : ''
  return `${form}\n<script src="${relayOrigin}/embed.js" defer></script>${turnstileScript}`
}
