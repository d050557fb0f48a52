/**
 * @module core/forms/form-pages
 * The dashboard's form pages: each form's source (and edit/delete links for dashboard forms), the
 * audit trail, and the editor. No script: the server renders the preview.
 */
import { raw } from 'hono/html'
import type { Catalog } from '../cc/catalog.ts'
import { type FieldType, signupFormCanSet } from '../cc/field-types.ts'
import { VISITOR_MESSAGES } from '../signup/accept-signup.ts'
import {
  LANGUAGE_NAMES,
  LANGUAGES,
  type Language,
  MESSAGE_KEYS,
  type MessageKey,
  visitorText,
} from '../signup/visitor-text.ts'
import { Page } from '../ui/layout.tsx'
import type { FieldProblems } from './forms.ts'
import { CAPTURE_KEYS, type CaptureKey } from './profile.ts'
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
  origins: string
  success_url: string
  error_url: string
  turnstile: boolean
  turnstile_site_key: string
  honeypot: string
  language: Language
  messages: Partial<Record<MessageKey, string>>
}

/** The id of the input a problem is about (the summary links to it). */
function problemInput(key: string): string {
  const [head, tail] = key.split('.')
  if (['lists', 'optional_lists', 'tags', 'custom_fields', 'origins'].includes(head))
    return `f-${head}`
  if (head === 'messages') return `f-message.${tail}`
  if (head === 'consent') return `f-consent_${tail ?? 'text'}`
  if (head === 'capture') return tail ? `f-capture.${tail}` : 'f-capture'
  return `f-${head === 'profile' ? 'id' : head}`
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
  catalog: Catalog | null
  catalogError: string | null
  problems: FieldProblems
  preview: { markup: string; snippet: string }
}

export function FormEditorPage({ draft, catalog, catalogError, problems, preview }: EditorProps) {
  const entries = Object.entries(problems)
  const problemAt = (id: string) =>
    entries.filter(([key]) => problemInput(key) === id).map(([, message]) => message)
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
  const aliases = new Map(Object.entries(draft.customFields).map(([a, id]) => [lower(id), a]))
  const fieldIds = new Set(catalog?.custom_fields.map((f) => lower(f.custom_field_id)))
  return (
    <Page title={draft.isNew ? 'New form' : `Edit form ${draft.id}`}>
      {entries.length > 0 && (
        <section class="card" role="alert" aria-labelledby="problems">
          <h2 id="problems">Not saved: fix these first</h2>
          <ul>
            {entries.map(([key, message]) => (
              <li>
                <a href={`#${problemInput(key)}`}>{key}</a>: {message}
              </li>
            ))}
          </ul>
        </section>
      )}
      <form method="post" action="/admin/forms/editor" class="card editor">
        <input type="hidden" name="mode" value={draft.isNew ? 'new' : 'edit'} />
        {draft.isNew ? (
          <Text
            name="id"
            label="Form id"
            value={draft.id}
            hint="The form's address is /subscribe/<id>: A-Z a-z 0-9 _ -, at most 64."
          />
        ) : (
          <p>
            <input type="hidden" name="id" value={draft.id} />
            Form id <code>{draft.id}</code> (its address is /subscribe/{draft.id}).
          </p>
        )}

        <ListChoices name="lists" legend="Lists every sign-up joins" chosen={draft.lists} />
        <ListChoices
          name="optional_lists"
          legend="Lists the visitor may tick (optional)"
          hint="Shown as checkboxes in the snippet; a sign-up joins the ones ticked as well. If every sign-up joins no list, the visitor must tick one."
          chosen={draft.optional_lists}
        />

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
                <button class="secondary" type="submit" name="action" value="create_tag">
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

        <fieldset id="f-custom_fields" {...described('f-custom_fields')}>
          <legend>Custom fields</legend>
          <Problem id="f-custom_fields" />
          {catalog ? (
            <>
              <p>
                Tick a field to ask for it. Its name in the form is <code>custom.&lt;name&gt;</code>
                .
              </p>
              {catalog.custom_fields.map((f) => {
                const key = lower(f.custom_field_id)
                const settable = signupFormCanSet(f.type)
                return (
                  <div class="field-row" data-field={f.custom_field_id}>
                    <label class="choice">
                      <input
                        type="checkbox"
                        name="fields"
                        value={f.custom_field_id}
                        checked={aliases.has(key)}
                        disabled={!settable}
                      />{' '}
                      {f.label}
                    </label>
                    <span class={settable ? 'hint' : 'error'}>
                      {describeType({ type: f.type, ...f.metadata })}
                    </span>
                    {settable && (
                      <Text
                        name={`alias.${key}`}
                        label="name in the form"
                        value={
                          aliases.get(key) ?? f.name.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 50)
                        }
                      />
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

        <fieldset id="f-consent">
          <legend>Consent</legend>
          <Text
            name="consent_text"
            label="Consent statement beside a checkbox (optional; empty: no consent box)"
            value={draft.consent_text}
            rows={3}
            hint="Each sign-up with the box ticked keeps a receipt of this exact text, when and where it was given."
          />
          <label class="choice">
            <input
              id="f-consent_required"
              type="checkbox"
              name="consent_required"
              checked={draft.consent_required}
              {...described('f-consent_required')}
            />{' '}
            A sign-up needs the box ticked
          </label>
          <Problem id="f-consent_required" />
          <Text
            name="consent_privacy_url"
            label="Privacy policy address (optional; linked beside the statement)"
            value={draft.consent_privacy_url}
            type="url"
          />
        </fieldset>

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

        <fieldset>
          <legend>Where the form lives</legend>
          <Text
            name="origins"
            label="Site origins, one per line (the form only works there)"
            value={draft.origins}
            rows={2}
            placeholder="https://www.example.com"
          />
          <Text
            name="success_url"
            label="After a sign-up, go to (optional; else a built-in page)"
            value={draft.success_url}
            type="url"
          />
          <Text
            name="error_url"
            label="After a failure, go to (optional; gets ?error=code)"
            value={draft.error_url}
            type="url"
          />
        </fieldset>

        <fieldset>
          <legend>Spam protection</legend>
          <label class="choice">
            <input
              id="f-turnstile"
              type="checkbox"
              name="turnstile"
              checked={draft.turnstile}
              {...described('f-turnstile')}
            />{' '}
            Require Cloudflare Turnstile (needs the TURNSTILE_SECRET_KEY secret)
          </label>
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
          />
        </fieldset>

        <fieldset>
          <legend>What visitors read</legend>
          <p>
            <label for="f-language">Language of the built-in texts</label>
            <select id="f-language" name="language">
              {LANGUAGES.map((lang) => (
                <option value={lang} selected={lang === draft.language}>
                  {LANGUAGE_NAMES[lang]}
                </option>
              ))}
            </select>
          </p>
          <p>Your own wording, if any (left empty, the built-in text shown in the box is used):</p>
          {MESSAGE_KEYS.map((key) => (
            <Text
              name={`message.${key}`}
              label={MESSAGE_LABELS[key]}
              value={draft.messages[key] ?? ''}
              placeholder={builtIn(key)}
            />
          ))}
        </fieldset>

        <p>
          <button class="secondary" type="submit" name="action" value="preview">
            Preview
          </button>{' '}
          <button type="submit" name="action" value="save">
            Save form
          </button>{' '}
          <a href="/admin">Cancel</a>
        </p>
      </form>

      <section class="card" aria-labelledby="preview-heading">
        <h2 id="preview-heading">Preview</h2>
        <p>
          The form as visitors see it on your site (inactive here). Preview updates it from the
          values above without saving.
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
    </Page>
  )
}
