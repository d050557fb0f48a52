/**
 * @module core/forms/form-list-pages
 * /admin/forms (every form, the account's lists, custom fields and tags, and the changes) and a
 * form's own pages, /admin/forms/:formId: Snippet · Sign-ups · Settings · Changes. Settings is
 * the editor (form-pages.tsx) for a dashboard form, the profile read-only for a `FORMS` one.
 */

import type { PropsWithChildren } from 'hono/jsx'
import { type Catalog, driftOf, type ProfileCheck } from '../cc/catalog.ts'
import type { FieldTypes } from '../cc/field-types.ts'
import { ConsentReceipts } from '../consent/consent-pages.tsx'
import { TodayFigures } from '../metrics/metrics-pages.tsx'
import { FailedSignups, type FormLabels } from '../outbox/failed-signups.tsx'
import type { DeadLetterView } from '../relay/backend.ts'
import { Page } from '../ui/layout.tsx'
import { When } from '../ui/time.tsx'
import { FormAuditCard, FormSource, NewFormLink } from './form-pages.tsx'
import { type FormTab, FormTabs } from './form-tabs.tsx'
import type { FormProfile } from './profile.ts'
import type { FormAuditEntry } from './repo.ts'
import { TurnstileWarning } from './turnstile-warning.tsx'

export interface FormCard {
  formId: string
  /** What the owner calls the form. */
  name: string
  /** The custom fields' CC types, which the snippet's inputs follow. */
  types: FieldTypes
  check: ProfileCheck | null
  /** Made in the dashboard: when it last changed. Null: from FORMS. */
  updatedAt: number | null
  /** Whether the form asks for a Turnstile token (the dashboard warns when it does not). */
  turnstile: boolean
  /** What the test sign-up offers to tick, as the visitor's form does. */
  optionalLists: { id: string; name: string }[]
  consent: { text: string; required: boolean } | null
  profile: FormProfile
}

/** Every form's name, and whether the dashboard can change it (failed sign-ups link to it). */
export function formLabels(forms: FormCard[]): FormLabels {
  return new Map(forms.map((f) => [f.formId, { name: f.name, editable: f.updatedAt !== null }]))
}

/** Lists, custom fields or tags the profile names that the account does not have, in words. */
export function ProfileCheckNote({ check }: { check: ProfileCheck | null }) {
  if (!check) return null
  if (driftOf(check) === 0) {
    return (
      <p class="state-connected" data-check="ok">
        Every list, custom field and tag it uses exists in Constant Contact.
      </p>
    )
  }
  return (
    <p class="error" data-check="drift">
      Sign-ups would be refused: this form uses what your Constant Contact account does not have:
      {check.unknown_lists.map((id) => (
        <>
          {' '}
          list <code>{id}</code>
        </>
      ))}
      {check.unknown_custom_fields.map((c) => (
        <>
          {' '}
          custom field {c.alias} (<code>{c.custom_field_id}</code>)
        </>
      ))}
      {check.unknown_tags.map((id) => (
        <>
          {' '}
          tag <code>{id}</code>
        </>
      ))}
      {check.capture_problems.map((c) => (
        <>
          {' '}
          the {c.key.replace('_', ' ')} into <code>{c.custom_field_id}</code> (
          {c.problem === 'unknown' ? 'no such custom field' : 'not a text field'})
        </>
      ))}
      . Choose others in the form's Settings.
    </p>
  )
}

/** A list, custom field or tag: its name, then the id to copy into FORMS. */
function CatalogEntry({ name, id }: { name: string; id: string }) {
  return (
    <li>
      {name} <code>{id}</code>
    </li>
  )
}

function CatalogCard({
  catalog,
  catalogError,
  zone,
}: {
  catalog: Catalog | null
  catalogError: string | null
  zone?: string
}) {
  if (!catalog) {
    return (
      <section class="card" id="catalog">
        <h2>Lists, custom fields and tags</h2>
        <p>
          {catalogError ?? 'Connect to see your Constant Contact lists, custom fields and tags.'}
        </p>
      </section>
    )
  }
  return (
    <section class="card" id="catalog">
      <h2>Lists, custom fields and tags</h2>
      <details>
        <summary>
          What your Constant Contact account has, with the ids a <code>FORMS</code> profile uses
          (read <When at={catalog.fetched_at} zone={zone} />)
        </summary>
        <h3>Lists</h3>
        <ul>
          {catalog.lists.map((l) => (
            <CatalogEntry name={l.name} id={l.list_id} />
          ))}
        </ul>
        <h3>Custom fields</h3>
        {catalog.custom_fields.length === 0 ? (
          <p>None.</p>
        ) : (
          <ul>
            {catalog.custom_fields.map((f) => (
              <CatalogEntry name={f.label} id={f.custom_field_id} />
            ))}
          </ul>
        )}
        <h3>Tags</h3>
        {catalog.tags.length === 0 ? (
          <p>None.</p>
        ) : (
          <ul>
            {catalog.tags.map((t) => (
              <CatalogEntry name={t.name} id={t.tag_id} />
            ))}
          </ul>
        )}
      </details>
    </section>
  )
}

/** /admin/forms: every form, a line each, with where it needs the owner. */
export function FormsPage(props: {
  forms: FormCard[]
  consentCounts: Record<string, number>
  audit: FormAuditEntry[]
  catalog: Catalog | null
  catalogError: string | null
  zone?: string
  notice?: string
}) {
  return (
    <Page title="Forms" owner="forms" notice={props.notice}>
      <NewFormLink />
      {props.forms.length === 0 && <p>No forms yet: make one with New form.</p>}
      <ul class="form-list">
        {props.forms.map((f) => (
          <li class="card" data-form={f.formId}>
            <h2>
              <a href={`/admin/forms/${f.formId}`}>{f.name}</a>
            </h2>
            <p>
              <code>{f.formId}</code> ·{' '}
              {f.updatedAt === null ? (
                <span data-source="config">
                  from <code>FORMS</code>
                </span>
              ) : (
                <span data-source="dashboard">
                  made here, changed <When at={f.updatedAt} zone={props.zone} />
                </span>
              )}{' '}
              · {props.consentCounts[f.formId] ?? 0} consent receipt(s)
            </p>
            <ProfileCheckNote check={f.check} />
            <TurnstileWarning turnstile={f.turnstile} />
          </li>
        ))}
      </ul>
      <CatalogCard catalog={props.catalog} catalogError={props.catalogError} zone={props.zone} />
      <FormAuditCard audit={props.audit} />
    </Page>
  )
}

/** One form's page: its name as the title, its tabs, then the tab's content. */
function FormPageFrame({
  form,
  current,
  notice,
  children,
}: PropsWithChildren<{ form: FormCard; current: FormTab; notice?: string }>) {
  return (
    <Page title={form.name} owner="forms" notice={notice}>
      <p>
        <a href="/admin/forms">Forms</a> › <code>{form.formId}</code>
      </p>
      <FormTabs formId={form.formId} editable={form.updatedAt !== null} current={current} />
      <div data-form={form.formId}>{children}</div>
    </Page>
  )
}

/** The snippet to paste: a read-only text area, and Copy once owner.js runs. */
function Snippet({ formId, snippet }: { formId: string; snippet: string }) {
  const id = `snippet-${formId}`
  return (
    <section class="card" id="snippet">
      <h2>
        <label for={id}>Paste this into your site's HTML</label>
      </h2>
      <textarea
        id={id}
        class="snippet"
        readonly
        rows={Math.min(24, snippet.split('\n').length + 1)}
        spellcheck={false}
        data-copy-source
      >
        {snippet}
      </textarea>
      <p>
        {/* Shown by owner.js, which copies; without JavaScript the text area is selectable. */}
        <button type="button" data-copy={id} hidden>
          Copy the snippet
        </button>{' '}
        <span role="status" data-copy-status />
      </p>
      <script src="/assets/owner.js" defer />
    </section>
  )
}

/** "Send a test sign-up": what a visitor of the form sends, through the real path. */
function TestSignup({ form: f }: { form: FormCard }) {
  return (
    <section class="card" id="test">
      <h2>Try it</h2>
      <form method="post" action={`/admin/forms/${f.formId}/test`}>
        <label class="choice" for={`test-${f.formId}`}>
          Send a test sign-up through the relay with this address
        </label>
        <input
          id={`test-${f.formId}`}
          name="email"
          type="email"
          required
          placeholder="you@example.com"
        />
        {f.optionalLists.length > 0 && (
          <fieldset>
            <legend>Lists to tick, as a visitor would</legend>
            {f.optionalLists.map((l) => (
              <label class="choice">
                <input type="checkbox" name="list" value={l.id} /> {l.name}
              </label>
            ))}
          </fieldset>
        )}
        {f.consent && (
          <label class="choice">
            <input type="checkbox" name="consent" value="yes" required={f.consent.required} />{' '}
            {f.consent.text} (ticked, it leaves a consent receipt for this address)
          </label>
        )}
        <p>
          <button type="submit">Send test</button>
        </p>
      </form>
    </section>
  )
}

/** /admin/forms/:formId: is it working, the snippet, and a test. */
export function FormSnippetPage({
  form,
  snippet,
  notice,
  children,
}: PropsWithChildren<{ form: FormCard; snippet: string; notice?: string }>) {
  return (
    <FormPageFrame form={form} current="snippet" notice={notice}>
      <ProfileCheckNote check={form.check} />
      <TurnstileWarning turnstile={form.turnstile} />
      {children}
      <Snippet formId={form.formId} snippet={snippet} />
      <TestSignup form={form} />
    </FormPageFrame>
  )
}

/** /admin/forms/:formId/signups: the form's failed sign-ups, receipts, and its activity. */
export function FormSignupsPage(props: {
  form: FormCard
  letters: DeadLetterView[]
  catalog: Catalog | null
  forms: FormLabels
  consentCount: number
  /** The form's last 24 hours (metrics-routes.tsx loadLastDay), and the backlog of every form. */
  lastDay: Record<string, number>
  waiting: number
  zone?: string
}) {
  const { form } = props
  return (
    <FormPageFrame form={form} current="signups">
      <TodayFigures counts={props.lastDay} waiting={props.waiting} form={form.formId} />
      <FailedSignups
        letters={props.letters}
        catalog={props.catalog}
        forms={props.forms}
        zone={props.zone}
      />
      {props.letters.length === 0 && <p data-failed="0">No failed sign-ups for this form.</p>}
      <p>
        <a
          class="button secondary"
          href={`/admin/activity?form=${encodeURIComponent(form.formId)}`}
        >
          Every sign-up of this form, with its status
        </a>
      </p>
      <ConsentReceipts formId={form.formId} count={props.consentCount} />
    </FormPageFrame>
  )
}

/** /admin/forms/:formId/settings for a `FORMS` form: read-only, changed in the configuration. */
export function ConfigFormSettingsPage({ form }: { form: FormCard }) {
  return (
    <FormPageFrame form={form} current="settings">
      <FormSource formId={form.formId} updatedAt={null} />
      {/* biome-ignore lint/a11y/useSemanticElements: a scrolling <pre> must be focusable and named; <pre> takes no name without a role */}
      <pre tabindex={0} role="region" aria-label={`The FORMS profile of ${form.formId}`}>
        <code>{JSON.stringify(form.profile, null, 2)}</code>
      </pre>
    </FormPageFrame>
  )
}

/** /admin/forms/:formId/changes: the form's audit trail (dashboard forms only have one). */
export function FormChangesPage({ form, audit }: { form: FormCard; audit: FormAuditEntry[] }) {
  return (
    <FormPageFrame form={form} current="changes">
      {form.updatedAt === null ? (
        <p>
          This form is defined in <code>FORMS</code>: its changes are made, and kept, in the
          deployment's configuration.
        </p>
      ) : (
        <>
          <FormAuditCard audit={audit} />
          <FormSource formId={form.formId} updatedAt={form.updatedAt} />
        </>
      )}
    </FormPageFrame>
  )
}
