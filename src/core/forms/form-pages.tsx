/**
 * @module core/forms/form-pages
 * The dashboard's form pages: each form's source (and edit/delete links for dashboard forms), the
 * audit trail, and the editor. No script: the server renders the preview.
 */

import { raw } from 'hono/html'
import type { PropsWithChildren } from 'hono/jsx'
import type { Catalog } from '../cc/catalog.ts'
import { type FieldType, signupFormCanSet } from '../cc/field-types.ts'
import { VISITOR_MESSAGES } from '../signup/accept-signup.ts'
import {
  LABEL_KEYS,
  STANDARD_FIELD_NAMES,
  STANDARD_FIELDS,
  type StandardField,
} from '../signup/form-fields.ts'
import {
  fieldLabel,
  LANGUAGE_NAMES,
  LANGUAGES,
  type Language,
  MESSAGE_KEYS,
  type MessageKey,
  visitorText,
} from '../signup/visitor-text.ts'
import { Page } from '../ui/layout.tsx'
import { FormTabs } from './form-tabs.tsx'
import type { FieldProblems } from './forms.ts'
import { CAPTURE_KEYS, type CaptureKey, DEFAULT_HONEYPOT, type FieldNeed } from './profile.ts'
import type { FormAuditEntry } from './repo.ts'

const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z')

/** Under a form's heading on /admin: where it comes from; edit and delete for dashboard forms. */
export function FormSource({ formId, updatedAt }: { formId: string; updatedAt: number | null }) {
  if (updatedAt === null) {
    return (
      <p data-source="config">
        From configuration (<code>FORMS</code>): read-only here, changed in the deployment's
        configuration.
      </p>
    )
  }
  return (
    <div data-source="dashboard">
      <p>
        Made in the dashboard, last changed {iso(updatedAt)}.{' '}
        <a class="button secondary" href={`/admin/forms/${formId}/edit`}>
          Edit {formId}
        </a>
      </p>
      <details>
        <summary>Delete this form</summary>
        <p>Sign-ups to it are refused from then on; queued ones are still delivered.</p>
        <form method="post" action={`/admin/forms/${formId}/delete`}>
          <button class="danger" type="submit">
            Delete {formId}
          </button>
        </form>
      </details>
    </div>
  )
}

export function NewFormLink() {
  return (
    <p>
      <a class="button" href="/admin/forms/new">
        New form
      </a>
    </p>
  )
}

/** The audit trail: when, which form, and what changed (newest first; storage.md for limits). */
export function FormAuditCard({ audit }: { audit: FormAuditEntry[] }) {
  return (
    <section class="card" id="form-changes">
      <h2>Form changes</h2>
      {audit.length === 0 ? (
        <p>No form has been made or changed in the dashboard yet.</p>
      ) : (
        <ul class="audit">
          {audit.map((e) => (
            <li data-audit={e.formId}>
              <strong>{iso(e.at)}</strong> · {e.formId} {e.action}
              {e.changes.length > 0 && (
                <ul>
                  {e.changes.map((change) => (
                    <li>
                      <code>{change}</code>
                    </li>
                  ))}
                </ul>
              )}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

/** The editor's values, as typed: what is saved is parsed from them (forms/form-routes.tsx). */
export interface FormDraft {
  /** What the owner calls the form; a new form's id is made from it when none is typed. */
  name: string
  id: string
  isNew: boolean
  lists: string[]
  optional_lists: string[]
  tags: string[]
  /** A tag to create in CC by name (the editor's "Create tag"), then ticked. */
  new_tag: string
  /** The consent statement; empty: the form asks for no consent. */
  consent_text: string
  consent_required: boolean
  consent_privacy_url: string
  /** Where a sign-up came from → the custom field id it is written into. */
  capture: Partial<Record<CaptureKey, string>>
  /** alias → custom field id */
  customFields: Record<string, string>
  /** The standard fields asked for, each required or optional. */
  fields: Partial<Record<StandardField, FieldNeed>>
  /** The owner's labels, by the profile's `labels` keys (`custom.<alias>` for custom fields). */
  labels: Partial<Record<string, string>>
  origins: string
  success_url: string
  error_url: string
  turnstile: boolean
  turnstile_site_key: string
  honeypot: string
  language: Language
  messages: Partial<Record<MessageKey, string>>
}

/**
 * The id of the input a problem is about (the summary links to it). A custom field's label is
 * typed under the field's id (its alias may change in the same post): `customFields` finds it.
 */
function problemInput(key: string, customFields: Record<string, string>): string {
  const [head, ...rest] = key.split('.')
  const tail = rest.join('.')
  const custom = /^custom\.(.+)$/.exec(tail)?.[1]
  if (head === 'labels' && custom && customFields[custom])
    return `f-label.custom.${customFields[custom].toLowerCase()}`
  if (['lists', 'optional_lists', 'tags', 'custom_fields', 'origins', 'fields'].includes(head))
    return `f-${head}`
  if (head === 'messages') return `f-message.${tail}`
  if (head === 'labels') return `f-label.${tail}`
  if (head === 'consent') return `f-consent_${tail || 'text'}`
  if (head === 'capture') return tail ? `f-capture.${tail}` : 'f-capture'
  return `f-${head === 'profile' ? 'id' : head}`
}

/** The profile's keys as the editor names them. */
const FIELD_WORDS: Record<string, string> = {
  profile: 'The form',
  name: 'Name',
  id: 'Form id',
  lists: 'Lists',
  optional_lists: 'Lists the visitor may tick',
  tags: 'Tags',
  new_tag: 'New tag',
  'consent.text': 'Consent statement',
  'consent.required': 'Consent needed',
  'consent.privacy_url': 'Privacy policy address',
  capture: 'Where sign-ups came from',
  origins: 'Origins',
  success_url: 'After a sign-up, go to',
  error_url: 'After a failure, go to',
  custom_fields: 'Custom fields',
  fields: 'Fields',
  labels: 'Labels',
  turnstile: 'Turnstile',
  turnstile_site_key: 'Turnstile site key',
  honeypot: 'Honeypot field name',
  language: 'Language',
  messages: 'Your own wording',
}

/** Standard fields as the editor names them (the snippet's own labels are in visitor-text.ts). */
const STANDARD_WORDS: Record<StandardField, string> = {
  first_name: 'First name',
  last_name: 'Last name',
  job_title: 'Job title',
  company_name: 'Company',
  phone_number: 'Phone',
  birthday: 'Birthday (month and day)',
  anniversary: 'Anniversary (a date)',
  address: 'Address (street, city, state, postal code, country)',
}

/**
 * A problem's key in words: `origins.0` is "Origins, line 1", `lists.2` the list's name (from
 * `names`, lower-case id → name) or id, `custom_fields.member` "Custom field “member”".
 */
function problemWords(
  key: string,
  draft: Pick<FormDraft, 'lists' | 'optional_lists' | 'tags'>,
  names: ReadonlyMap<string, string> = new Map()
): string {
  const [head, ...rest] = key.split('.')
  const tail = rest.join('.')
  const index = /^\d+$/.test(tail) ? Number(tail) : null
  if (head === 'origins' && index !== null) return `Origins, line ${index + 1}`
  if ((head === 'lists' || head === 'optional_lists' || head === 'tags') && index !== null) {
    const id = draft[head][index]
    const which = id === undefined ? `number ${index + 1}` : (names.get(id.toLowerCase()) ?? id)
    return `${FIELD_WORDS[head]}: ${which}`
  }
  if (head === 'custom_fields' && tail) return `Custom field “${tail}”`
  if (head === 'capture' && tail)
    return `${FIELD_WORDS.capture}: ${CAPTURE_LABELS[tail as CaptureKey] ?? tail}`
  if (head === 'messages' && tail)
    return `${FIELD_WORDS.messages}: ${MESSAGE_LABELS[tail as MessageKey] ?? tail}`
  if (head === 'labels' && tail) return `Label of ${labelWords(tail)}`
  if (head === 'fields' && tail) return STANDARD_WORDS[tail as StandardField] ?? tail
  return FIELD_WORDS[key] ?? FIELD_WORDS[head] ?? key
}

/** A `labels` key in words. */
function labelWords(key: string): string {
  if (key.startsWith('custom.')) return `the custom field “${key.slice(7)}”`
  if (key === 'email') return 'the email'
  return `the field ${key.replace(/_/g, ' ')}`
}

/** A CC type as the owner reads it, with what CC says of its values. */
function describeType({ type, integer, decimal_places, allow_negative }: FieldType): string {
  if (!signupFormCanSet(type)) return `${type}: sign_up_form cannot set it`
  if (type === 'boolean') return 'boolean (a checkbox: true or false)'
  if (type !== 'number' && type !== 'currency') return `${type || 'no type given'} (sent as text)`
  const places =
    integer || decimal_places === 0
      ? 'whole numbers'
      : decimal_places === undefined
        ? 'any decimals'
        : `up to ${decimal_places} decimals`
  return `${type} (${places}${type === 'number' && !allow_negative ? ', not negative' : ''})`
}

const CAPTURE_LABELS: Record<CaptureKey, string> = {
  page: 'The page the form is on',
  referrer: 'The page that led there (referrer)',
  utm_source: 'utm_source of the page',
  utm_medium: 'utm_medium of the page',
  utm_campaign: 'utm_campaign of the page',
  utm_term: 'utm_term of the page',
  utm_content: 'utm_content of the page',
}

const MESSAGE_LABELS: Record<MessageKey, string> = {
  success: 'After a sign-up',
  sending: 'While sending',
  network: 'When the relay cannot be reached',
  invalid_input: 'When fields need fixing',
  challenge_failed: 'When the anti-spam check fails',
  rate_limited: 'When one network signs up too often',
  delivery_failed: 'When Constant Contact refuses the sign-up',
  unavailable: 'When sign-ups are unavailable',
}

/**
 * The account's lists or tags as named checkboxes, ticked where `chosen`, then any chosen id the
 * account does not have (still ticked, so that saving keeps it until the owner unticks it).
 */
function IdChoices(p: { name: string; options: { id: string; name: string }[]; chosen: string[] }) {
  const lower = (id: string) => id.toLowerCase()
  const selected = new Set(p.chosen.map(lower))
  const known = new Set(p.options.map((o) => lower(o.id)))
  return (
    <>
      {p.options.map((o) => (
        <label class="choice">
          <input type="checkbox" name={p.name} value={o.id} checked={selected.has(lower(o.id))} />{' '}
          {o.name}
        </label>
      ))}
      {p.chosen
        .filter((id) => !known.has(lower(id)))
        .map((id) => (
          <label class="choice">
            <input type="checkbox" name={p.name} value={id} checked /> Not in your account:{' '}
            <code>{id}</code>
          </label>
        ))}
    </>
  )
}

interface EditorProps {
  draft: FormDraft
  /** The relay's origin: a saved form's address is shown whole. */
  relayOrigin: string
  catalog: Catalog | null
  catalogError: string | null
  problems: FieldProblems
  preview: { markup: string; snippet: string }
}

export function FormEditorPage(props: EditorProps) {
  const { draft, catalog, catalogError, problems, preview } = props
  const entries = Object.entries(problems)
  const inputOf = (key: string) => problemInput(key, draft.customFields)
  const problemAt = (id: string) =>
    entries.filter(([key]) => inputOf(key) === id).map(([, message]) => message)
  /** Whether any problem is about one of these inputs: its section is then open. */
  const troubled = (...ids: string[]) =>
    entries.some(([key]) => ids.some((id) => inputOf(key).startsWith(id)))
  /** A problem next to its input, tied to it by aria-describedby (`described`). */
  const Problem = ({ id }: { id: string }) => {
    const messages = problemAt(id)
    return messages.length > 0 ? (
      <span class="error problem" id={`${id}-problem`}>
        {messages.join(' ')}
      </span>
    ) : null
  }
  const described = (id: string, hint?: string) => {
    const ids = [hint, problemAt(id).length > 0 ? `${id}-problem` : ''].filter(Boolean).join(' ')
    return ids ? { 'aria-describedby': ids } : {}
  }
  /** A yes-or-no setting of the draft: a labelled checkbox, described by its problem. */
  const Toggle = (p: PropsWithChildren<{ name: 'consent_required' | 'turnstile' }>) => (
    <label class="choice">
      <input
        id={`f-${p.name}`}
        type="checkbox"
        name={p.name}
        checked={draft[p.name]}
        {...described(`f-${p.name}`)}
      />{' '}
      {p.children}
    </label>
  )
  /** A labelled text input (or textarea), with its problem. */
  const Text = (p: {
    name: string
    label: string
    value: string
    type?: string
    rows?: number
    placeholder?: string
    hint?: string
  }) => {
    const id = `f-${p.name}`
    const attributes = {
      id,
      name: p.name,
      placeholder: p.placeholder,
      ...described(id, p.hint && `${id}-hint`),
      ...(problemAt(id).length > 0 ? { 'aria-invalid': 'true' } : {}),
    }
    return (
      <p>
        <label for={id}>{p.label}</label>
        {p.rows ? (
          <textarea rows={p.rows} {...attributes}>
            {p.value}
          </textarea>
        ) : (
          <input type={p.type ?? 'text'} value={p.value} {...attributes} />
        )}
        {p.hint && (
          <span class="hint" id={`${id}-hint`}>
            {p.hint}
          </span>
        )}
        <Problem id={id} />
      </p>
    )
  }
  /** An optional part of the form: closed unless it is used, or has a problem. */
  const Section = (p: PropsWithChildren<{ summary: string; open: boolean }>) => (
    <details class="section" open={p.open}>
      <summary>{p.summary}</summary>
      {p.children}
    </details>
  )
  const lower = (id: string) => id.toLowerCase()
  /** Lists by name from the catalog (else ids, one per line), ticked where `chosen`. */
  const ListChoices = (p: { name: string; legend: string; hint?: string; chosen: string[] }) => {
    const id = `f-${p.name}`
    return (
      <fieldset id={id} {...described(id, p.hint && `${id}-hint`)}>
        <legend>{p.legend}</legend>
        {p.hint && (
          <p class="hint" id={`${id}-hint`}>
            {p.hint}
          </p>
        )}
        <Problem id={id} />
        {catalog ? (
          <IdChoices
            name={p.name}
            options={catalog.lists.map((l) => ({ id: l.list_id, name: l.name }))}
            chosen={p.chosen}
          />
        ) : (
          <>
            <p>{catalogError ?? 'Connect to Constant Contact to choose lists by name.'}</p>
            <Text
              name={`${p.name}_text`}
              label="List ids, one per line"
              value={p.chosen.join('\n')}
              rows={3}
            />
          </>
        )}
      </fieldset>
    )
  }
  const text = visitorText({ language: draft.language })
  const builtIn = (key: MessageKey) =>
    key === 'success' || key === 'sending' || key === 'network'
      ? text[key]
      : (text.errors[key] ?? VISITOR_MESSAGES[key])
  /** A label of the snippet, empty for the built-in one (shown as the placeholder). */
  const LabelInput = (p: { labelKey: string; label: string; placeholder: string }) => (
    <Text
      name={`label.${p.labelKey}`}
      label={p.label}
      value={draft.labels[p.labelKey] ?? ''}
      placeholder={p.placeholder}
    />
  )
  const names = new Map(
    [
      ...(catalog?.lists ?? []).map((l) => [l.list_id, l.name]),
      ...(catalog?.tags ?? []).map((t) => [t.tag_id, t.name]),
    ].map(([id, name]) => [id.toLowerCase(), name])
  )
  const aliases = new Map(Object.entries(draft.customFields).map(([a, id]) => [lower(id), a]))
  const fieldIds = new Set(catalog?.custom_fields.map((f) => lower(f.custom_field_id)))
  const usesMessages = Object.keys(draft.messages).length > 0
  const spam =
    draft.turnstile || draft.turnstile_site_key !== '' || draft.honeypot !== DEFAULT_HONEYPOT
  const title = draft.isNew ? 'New form' : `Edit ${draft.name || draft.id}`
  return (
    <Page title={title} owner="forms">
      {!draft.isNew && <FormTabs formId={draft.id} editable current="settings" />}
      {entries.length > 0 && (
        <section class="card" role="alert" aria-labelledby="problems">
          <h2 id="problems">Not saved: fix these first</h2>
          <ul>
            {entries.map(([key, message]) => (
              <li>
                <a href={`#${inputOf(key)}`}>{problemWords(key, draft, names)}</a>: {message}
              </li>
            ))}
          </ul>
        </section>
      )}
      <div class="editor-layout">
        <form method="post" action="/admin/forms/editor#preview" class="card editor">
          <input type="hidden" name="mode" value={draft.isNew ? 'new' : 'edit'} />
          <Text
            name="name"
            label="Name"
            value={draft.name}
            placeholder="Lettre de printemps"
            hint="What you call the form in this dashboard; visitors never see it."
          />
          {draft.isNew ? (
            <Text
              name="id"
              label="Form id (optional)"
              value={draft.id}
              hint="Left empty, it is made from the name: “Lettre de printemps” gives lettre-de-printemps. It is part of the form's address (/subscribe/<id>): letters, digits, _ and -, at most 64. It cannot change once saved."
            />
          ) : (
            <p>
              <input type="hidden" name="id" value={draft.id} />
              Form id <code>{draft.id}</code>; its address is{' '}
              <code>
                {props.relayOrigin}/subscribe/{draft.id}
              </code>
              .
            </p>
          )}
          <p>
            <label for="f-language">Language visitors read</label>
            <select id="f-language" name="language">
              {LANGUAGES.map((lang) => (
                <option value={lang} selected={lang === draft.language}>
                  {LANGUAGE_NAMES[lang]}
                </option>
              ))}
            </select>
          </p>
          <Text
            name="origins"
            label="Origins: the sites the form is on, one per line"
            value={draft.origins}
            rows={2}
            placeholder="https://www.example.com"
            hint="Scheme and host, no path: https://www.example.com. The form works only there."
          />

          <ListChoices name="lists" legend="Lists every sign-up joins" chosen={draft.lists} />
          <Section
            summary="Lists the visitor may tick"
            open={draft.optional_lists.length > 0 || troubled('f-optional_lists')}
          >
            <ListChoices
              name="optional_lists"
              legend="Lists the visitor may tick (optional)"
              hint="Shown as checkboxes in the snippet; a sign-up joins the ones ticked as well. If every sign-up joins no list, the visitor must tick one."
              chosen={draft.optional_lists}
            />
          </Section>

          <fieldset id="f-fields" {...described('f-fields')}>
            <legend>Fields the visitor fills in</legend>
            <Problem id="f-fields" />
            <details
              class="field-row"
              open={draft.labels.email !== undefined || troubled('f-label.email')}
            >
              <summary>Email (always asked, required)</summary>
              <LabelInput labelKey="email" label="Label of the email" placeholder={text.email} />
            </details>
            {STANDARD_FIELDS.map((key) => {
              const id = `f-field.${key}`
              const need = draft.fields[key]
              // A group (birthday, address) has its legend's label, then each input's.
              const labelKeys = LABEL_KEYS.filter(
                (k) => k === key || STANDARD_FIELD_NAMES[key].includes(k)
              )
              return (
                <div class="field-row standard" data-standard={key}>
                  <label for={id}>{STANDARD_WORDS[key]}</label>
                  <select id={id} name={`field.${key}`}>
                    <option value="">Not asked</option>
                    <option value="optional" selected={need === 'optional'}>
                      Asked, optional
                    </option>
                    <option value="required" selected={need === 'required'}>
                      Asked, required
                    </option>
                  </select>
                  <details
                    open={need !== undefined || troubled(...labelKeys.map((k) => `f-label.${k}`))}
                  >
                    <summary>Label{labelKeys.length > 1 ? 's' : ''} in the form</summary>
                    {labelKeys.map((k) => (
                      <LabelInput
                        labelKey={k}
                        label={`Label of ${labelWords(k).replace(/^the field /, '')}`}
                        placeholder={fieldLabel(text, undefined, k)}
                      />
                    ))}
                  </details>
                </div>
              )
            })}
          </fieldset>

          <fieldset id="f-custom_fields" {...described('f-custom_fields')}>
            <legend>Custom fields</legend>
            <Problem id="f-custom_fields" />
            {catalog ? (
              <>
                <p>
                  Tick a field to ask for it. Its name in the form is{' '}
                  <code>custom.&lt;name&gt;</code>.
                </p>
                {catalog.custom_fields.map((f) => {
                  const key = lower(f.custom_field_id)
                  const settable = signupFormCanSet(f.type)
                  const alias = aliases.get(key)
                  return (
                    <div class="field-row" data-field={f.custom_field_id}>
                      <label class="choice">
                        <input
                          type="checkbox"
                          name="fields"
                          value={f.custom_field_id}
                          checked={alias !== undefined}
                          disabled={!settable}
                        />{' '}
                        {f.label}
                      </label>
                      <span class={settable ? 'hint' : 'error'}>
                        {describeType({ type: f.type, ...f.metadata })}
                      </span>
                      {settable && (
                        <details open={alias !== undefined}>
                          <summary>Its name and label in the form</summary>
                          <Text
                            name={`alias.${key}`}
                            label="name in the form"
                            value={alias ?? f.name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 50)}
                          />
                          <Text
                            name={`label.custom.${key}`}
                            label={`Label, in ${LANGUAGE_NAMES[draft.language]}`}
                            value={(alias && draft.labels[`custom.${alias}`]) ?? ''}
                            placeholder={f.label}
                          />
                        </details>
                      )}
                    </div>
                  )
                })}
                {Object.entries(draft.customFields)
                  .filter(([, id]) => !fieldIds.has(lower(id)))
                  .map(([alias, id]) => (
                    <label class="choice">
                      <input type="checkbox" name="fields" value={id} checked />
                      <input type="hidden" name={`alias.${lower(id)}`} value={alias} /> Not in your
                      account: <code>{alias}</code> <code>{id}</code>
                    </label>
                  ))}
              </>
            ) : (
              <Text
                name="custom_text"
                label="One per line: the name in the form = the custom field's id"
                value={Object.entries(draft.customFields)
                  .map(([alias, id]) => `${alias} = ${id}`)
                  .join('\n')}
                rows={3}
              />
            )}
          </fieldset>

          <Section
            summary="Tags every contact gets"
            open={draft.tags.length > 0 || troubled('f-tags', 'f-new_tag')}
          >
            <fieldset id="f-tags" {...described('f-tags', 'f-tags-hint')}>
              <legend>Tags every contact gets (optional)</legend>
              <p class="hint" id="f-tags-hint">
                Added in Constant Contact to each contact delivered through this form.
              </p>
              <Problem id="f-tags" />
              {catalog ? (
                <>
                  <IdChoices
                    name="tags"
                    options={catalog.tags.map((t) => ({ id: t.tag_id, name: t.name }))}
                    chosen={draft.tags}
                  />
                  <Text
                    name="new_tag"
                    label="Or create a tag in Constant Contact"
                    value={draft.new_tag}
                    placeholder="Spring fair 2030"
                  />
                  <p>
                    <button
                      class="secondary"
                      type="submit"
                      name="action"
                      value="create_tag"
                      formaction="/admin/forms/editor#f-tags"
                    >
                      Create tag
                    </button>
                  </p>
                </>
              ) : (
                <Text
                  name="tags_text"
                  label="Tag ids, one per line"
                  value={draft.tags.join('\n')}
                  rows={2}
                />
              )}
            </fieldset>
          </Section>

          <Section summary="Consent" open={draft.consent_text !== '' || troubled('f-consent')}>
            <fieldset id="f-consent">
              <legend>Consent</legend>
              <Text
                name="consent_text"
                label="Consent statement beside a checkbox (optional; empty: no consent box)"
                value={draft.consent_text}
                rows={3}
                hint="Each sign-up with the box ticked keeps a receipt of this exact text, when and where it was given."
              />
              <Toggle name="consent_required">A sign-up needs the box ticked</Toggle>
              <Problem id="f-consent_required" />
              <Text
                name="consent_privacy_url"
                label="Privacy policy address (optional; linked beside the statement)"
                value={draft.consent_privacy_url}
                type="url"
                placeholder="https://www.example.com/privacy"
              />
            </fieldset>
          </Section>

          <Section
            summary="Where sign-ups came from"
            open={Object.keys(draft.capture).length > 0 || troubled('f-capture')}
          >
            <fieldset id="f-capture" {...described('f-capture')}>
              <legend>Where sign-ups came from</legend>
              <p>Written into text custom fields of the contact (optional, each on its own).</p>
              <Problem id="f-capture" />
              {CAPTURE_KEYS.map((key) => {
                const id = `f-capture.${key}`
                const current = draft.capture[key] ?? ''
                const textFields = (catalog?.custom_fields ?? []).filter(
                  (f) => f.type === 'string' || f.type === 'text_area'
                )
                const listed = textFields.some((f) => lower(f.custom_field_id) === lower(current))
                return catalog ? (
                  <p>
                    <label for={id}>{CAPTURE_LABELS[key]}</label>
                    <select id={id} name={`capture.${key}`} {...described(id)}>
                      <option value="">Not recorded</option>
                      {textFields.map((f) => (
                        <option
                          value={f.custom_field_id}
                          selected={lower(f.custom_field_id) === lower(current)}
                        >
                          {f.label}
                        </option>
                      ))}
                      {current && !listed && (
                        <option value={current} selected>
                          Not a text field of your account: {current}
                        </option>
                      )}
                    </select>
                    <Problem id={id} />
                  </p>
                ) : (
                  <Text
                    name={`capture.${key}`}
                    label={`${CAPTURE_LABELS[key]}: custom field id`}
                    value={current}
                  />
                )
              })}
            </fieldset>
          </Section>

          <Section
            summary="Pages after a plain form post"
            open={
              draft.success_url !== '' ||
              draft.error_url !== '' ||
              troubled('f-success_url', 'f-error_url')
            }
          >
            <Text
              name="success_url"
              label="After a sign-up, go to (optional; else a built-in page)"
              value={draft.success_url}
              type="url"
              placeholder="https://www.example.com/thanks"
            />
            <Text
              name="error_url"
              label="After a failure, go to (optional; gets ?error=code)"
              value={draft.error_url}
              type="url"
              placeholder="https://www.example.com/sign-up-failed"
            />
          </Section>

          <Section summary="Spam protection" open={spam || troubled('f-turnstile', 'f-honeypot')}>
            <Toggle name="turnstile">
              Require Cloudflare Turnstile (needs the TURNSTILE_SECRET_KEY secret)
            </Toggle>
            <Problem id="f-turnstile" />
            <Text
              name="turnstile_site_key"
              label="Turnstile site key (goes into the snippet)"
              value={draft.turnstile_site_key}
            />
            <Text
              name="honeypot"
              label="Honeypot field name (hidden; bots fill it in)"
              value={draft.honeypot}
              hint="A name your form sends nothing else under, such as _gotcha."
            />
          </Section>

          <Section
            summary="Your own wording of what visitors read"
            open={usesMessages || troubled('f-message')}
          >
            <p>Left empty, the built-in text shown in the box is used.</p>
            {MESSAGE_KEYS.map((key) => (
              <Text
                name={`message.${key}`}
                label={MESSAGE_LABELS[key]}
                value={draft.messages[key] ?? ''}
                placeholder={builtIn(key)}
              />
            ))}
          </Section>

          {/* Save posts without #preview: a browser would keep that fragment across the 303 to the
              form's page; problems, if any, are listed at the top. */}
          <p>
            <button class="secondary" type="submit" name="action" value="preview">
              Preview
            </button>{' '}
            <button type="submit" name="action" value="save" formaction="/admin/forms/editor">
              Save form
            </button>{' '}
            <a href={draft.isNew ? '/admin/forms' : `/admin/forms/${draft.id}`}>Cancel</a>
          </p>
        </form>

        <section class="card preview-pane" id="preview" aria-labelledby="preview-heading">
          <h2 id="preview-heading">Preview</h2>
          <p>
            The form as visitors see it on your site (inactive here). Preview updates it from your
            choices without saving.
          </p>
          <div class="preview" inert>
            {raw(preview.markup)}
          </div>
          <p>After a sign-up, visitors read: “{draft.messages.success ?? text.success}”</p>
          <h3 id="snippet-heading">The snippet to paste into your site</h3>
          {/* biome-ignore lint/a11y/useSemanticElements: a scrolling <pre> must be focusable and named; <pre> takes no name without a role */}
          <pre tabindex={0} role="region" aria-labelledby="snippet-heading">
            <code>{preview.snippet}</code>
          </pre>
        </section>
      </div>
    </Page>
  )
}
