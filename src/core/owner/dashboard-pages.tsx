/** @module core/owner/dashboard-pages: the owner's pages. */

import { AlertsCard } from '../alerts/alerts-card.tsx'
import type { Catalog, ProfileCheck } from '../cc/catalog.ts'
import { noRefreshTokenAdvice } from '../connection/oauth.ts'
import { ConsentReceipts } from '../consent/consent-pages.tsx'
import { FormAuditCard, FormSource, NewFormLink } from '../forms/form-pages.tsx'
import type { FormAuditEntry } from '../forms/repo.ts'
import { TurnstileWarning } from '../forms/turnstile-warning.tsx'
import { type Insights, InsightsSection } from '../metrics/metrics-pages.tsx'
import type { DeadLetterView, RelayStatus, SandboxView } from '../relay/backend.ts'
import { NextStep, Page } from '../ui/layout.tsx'
import type { WebhookView } from '../webhooks/webhooks.ts'
import { WebhooksCard } from '../webhooks/webhooks-card.tsx'

export function SignInPage({ error, sandboxHint }: { error?: string; sandboxHint?: boolean }) {
  return (
    <Page title="Owner sign-in">
      {error && (
        <p class="error" role="alert">
          {error}
        </p>
      )}
      <form method="post" action="/admin/login" class="card">
        <label for="token">Admin token (the ADMIN_TOKEN secret)</label>
        <br />
        <input id="token" name="token" type="password" autocomplete="current-password" required />
        <p>
          <button type="submit">Sign in</button>
        </p>
      </form>
      {sandboxHint && (
        <p>
          Sandbox mode: the admin token was printed by <code>npm start</code>.
        </p>
      )}
    </Page>
  )
}

const STATE_TEXT: Record<RelayStatus['state'], string> = {
  connected: 'Connected',
  degraded: 'Connected, but refreshing is failing (retrying)',
  needs_reauth: 'Reconnect needed',
  not_connected: 'Not connected',
}

function ConnectionCard({ status: s, scopes }: { status: RelayStatus; scopes: string }) {
  const connected = s.state !== 'not_connected'
  return (
    <section class="card" id="connection">
      <h2>Connection</h2>
      <p class={`state-${s.state}`} data-state={s.state}>
        <strong>{STATE_TEXT[s.state]}</strong>
      </p>
      <dl>
        <dt>Account</dt>
        <dd>
          {s.account.summary?.organization_name && `${s.account.summary.organization_name} · `}
          {s.account.sub ?? '—'}
        </dd>
        <dt>Token expires</dt>
        <dd>{s.access_token_expires_at ?? '—'}</dd>
        <dt>Last refresh</dt>
        <dd>{s.last_refresh_at ?? '—'}</dd>
        <dt>Last error</dt>
        <dd>
          {s.last_error
            ? `${s.last_error.code} at ${s.last_error.at}: ${s.last_error.message}`
            : '—'}
        </dd>
      </dl>
      {!s.refreshable && connected && (
        <p class="error">
          No refresh token: the connection stops when the access token expires, and must be
          authorised again then. {noRefreshTokenAdvice(scopes)}
        </p>
      )}
      <p>
        <a class="button" href="/oauth/authorize">
          {connected ? 'Reconnect' : 'Connect Constant Contact'}
        </a>{' '}
      </p>
      {/* Asked first: sign-ups wait in the outbox until the owner connects again. */}
      {connected && (
        <details class="confirm">
          <summary>Disconnect…</summary>
          <p>
            Until you connect again, sign-ups are kept in the outbox, not sent to Constant Contact.
          </p>
          <form method="post" action="/admin/disconnect">
            <button class="danger" type="submit">
              Disconnect now
            </button>
          </form>
        </details>
      )}
      {connected && (
        <p>
          Disconnect forgets the tokens stored here; it does not revoke the grant at Constant
          Contact. To revoke it, remove the app's access in your{' '}
          <a href="https://app.constantcontact.com/" rel="noopener noreferrer">
            Constant Contact account
          </a>{' '}
          (account settings, connected apps and integrations), or rotate the app's client secret in
          the{' '}
          <a href="https://app.constantcontact.com/pages/dma/portal/" rel="noopener noreferrer">
            developer portal
          </a>
          , which forces a reconnect.
        </p>
      )}
    </section>
  )
}

function DeliveryCard({
  status,
  deadLetters,
}: {
  status: RelayStatus
  deadLetters: DeadLetterView[]
}) {
  const o = status.outbox
  return (
    <section class="card" id="delivery">
      <h2>Delivery</h2>
      <dl>
        <dt>Delivered today</dt>
        <dd data-figure="delivered_today">{o.delivered_today}</dd>
        <dt>Pending</dt>
        <dd data-figure="pending">
          {o.pending}
          {o.parked > 0 && ` (${o.parked} parked)`}
        </dd>
        <dt>Backlog</dt>
        <dd data-figure="backlog">
          {o.pending} of {o.max_pending} (OUTBOX_MAX_PENDING)
          {o.pending >= o.max_pending && ': full, new sign-ups are refused'}
        </dd>
        <dt>Oldest pending</dt>
        <dd>{o.oldest_pending_age_seconds === null ? '—' : `${o.oldest_pending_age_seconds} s`}</dd>
        <dt>Dead letters</dt>
        <dd data-figure="dead">{o.dead}</dd>
        <dt>Taggings</dt>
        <dd data-figure="taggings">
          {o.tagging_pending} waiting, {o.tagging_dead} refused
        </dd>
        <dt>Daily quota</dt>
        <dd>
          {o.quota_used_today} / {o.quota_limit} requests (resets 00:00 UTC)
        </dd>
        {o.parked_until && (
          <>
            <dt>Parked until</dt>
            <dd>{o.parked_until}</dd>
          </>
        )}
      </dl>
      {deadLetters.length > 0 && (
        <>
          <h3>Dead letters</h3>
          <p>
            Constant Contact refused these sign-ups, or the tagging of delivered ones. Fix the cause
            (often a deleted list, custom field or tag), then Retry.
          </p>
          <form method="post" action="/admin/dead-letters/all/retry">
            <button type="submit">Retry all</button>
          </form>
          <ul class="dead-letters">
            {deadLetters.map((d) => {
              const path =
                d.kind === 'tagging'
                  ? `/admin/dead-letters/tagging/${d.id}`
                  : `/admin/dead-letters/${d.id}`
              return (
                <li class="card" data-dead-letter={d.id} data-kind={d.kind}>
                  <strong>{d.email_masked}</strong> · form {d.form_id} · {d.dead_at}
                  {d.kind === 'tagging' && ` · tagging with ${d.tag_ids?.join(', ')}`}
                  <br />
                  {d.error && `${d.error.status} ${d.error.error_key}: ${d.error.message}`}{' '}
                  <form class="inline" method="post" action={`${path}/retry`}>
                    <button type="submit">Retry</button>
                  </form>{' '}
                  {/* Asked first, and apart from Retry: a deleted sign-up is gone for good. */}
                  <details class="confirm">
                    <summary>Delete…</summary>
                    <p>The sign-up is deleted for good; it is not sent to Constant Contact.</p>
                    <form method="post" action={`${path}/delete`}>
                      <button class="danger" type="submit">
                        Delete it for good
                      </button>
                    </form>
                  </details>
                </li>
              )
            })}
          </ul>
        </>
      )}
    </section>
  )
}

export interface FormCard {
  formId: string
  snippet: string
  check: ProfileCheck | null
  /** Made in the dashboard: when it last changed. Null: from FORMS. */
  updatedAt: number | null
  /** Whether the form asks for a Turnstile token (the dashboard warns when it does not). */
  turnstile: boolean
  /** What the test sign-up offers to tick, as the visitor's form does. */
  optionalLists: { id: string; name: string }[]
  consent: { text: string; required: boolean } | null
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
}: {
  catalog: Catalog | null
  catalogError: string | null
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
      <p>From your Constant Contact account ({catalog.fetched_at}), with their ids.</p>
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
    </section>
  )
}

function ProfileCheckNote({ check }: { check: ProfileCheck | null }) {
  if (!check) return null
  const drift =
    check.unknown_lists.length +
    check.unknown_custom_fields.length +
    check.unknown_tags.length +
    check.capture_problems.length
  if (drift === 0) {
    return (
      <p class="state-connected" data-check="ok">
        Every list, custom field and tag id exists in Constant Contact, and every capture field
        takes text.
      </p>
    )
  }
  return (
    <p class="error" data-check="drift">
      This profile refers to ids your Constant Contact account does not have, so sign-ups would be
      refused:
      {check.unknown_lists.map((id) => (
        <>
          {' '}
          list <code>{id}</code>
        </>
      ))}
      {check.unknown_custom_fields.map((c) => (
        <>
          {' '}
          custom field <code>{c.alias}</code> (<code>{c.custom_field_id}</code>)
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
          capture <code>{c.key}</code> into <code>{c.custom_field_id}</code> (
          {c.problem === 'unknown' ? 'no such custom field' : 'not a text field'})
        </>
      ))}
    </p>
  )
}

function FormsCard({
  forms,
  consentCounts,
}: {
  forms: FormCard[]
  consentCounts: Record<string, number>
}) {
  return (
    <section class="card" id="forms">
      <h2>Forms</h2>
      {forms.length === 0 && <p>No forms yet: make one with New form.</p>}
      <NewFormLink />
      {forms.map((f) => (
        <article class="card" data-form={f.formId} id={`form-${f.formId}`}>
          <h3>{f.formId}</h3>
          <FormSource formId={f.formId} updatedAt={f.updatedAt} />
          <ProfileCheckNote check={f.check} />
          <TurnstileWarning turnstile={f.turnstile} />
          <ConsentReceipts formId={f.formId} count={consentCounts[f.formId] ?? 0} />
          <p>Paste this into your site:</p>
          {/* biome-ignore lint/a11y/useSemanticElements: a scrolling <pre> must be focusable and named; <pre> takes no name without a role */}
          <pre tabindex={0} role="region" aria-label={`Snippet of the form ${f.formId}`}>
            <code>{f.snippet}</code>
          </pre>
          <form method="post" action={`/admin/forms/${f.formId}/test`}>
            <label for={`test-${f.formId}`}>Send a test sign-up through the relay</label>
            <br />
            <input
              id={`test-${f.formId}`}
              name="email"
              type="email"
              required
              placeholder="you@example.com"
            />{' '}
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
            <button type="submit">Send test</button>
          </form>
        </article>
      ))}
    </section>
  )
}

function SandboxCard({ view }: { view: SandboxView }) {
  const names = new Map(view.lists.map((l) => [l.list_id, l.name]))
  const tagName = new Map(view.tags.map((t) => [t.tag_id, t.name]))
  return (
    <section class="card" id="sandbox">
      <h2>Sandbox contacts</h2>
      <p>
        What the stand-in Constant Contact has received.{' '}
        <a href="/__sandbox">Manage sandbox lists</a>.
      </p>
      {view.contacts.length === 0 ? (
        <p>No contacts yet.</p>
      ) : (
        <ul>
          {view.contacts.map((c) => (
            <li data-sandbox-contact={c.email_address}>
              {c.email_address} · {c.updated_at} · lists:{' '}
              {c.list_memberships.map((id) => names.get(id) ?? id).join(', ') || 'none'}
              {c.tag_ids.length > 0 &&
                ` · tags: ${c.tag_ids.map((id) => tagName.get(id) ?? id).join(', ')}`}
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}

export function DashboardPage(props: {
  status: RelayStatus
  deadLetters: DeadLetterView[]
  catalog: Catalog | null
  catalogError: string | null
  forms: FormCard[]
  /** Consent receipts kept per form id. */
  consentCounts: Record<string, number>
  webhooks: WebhookView[]
  formAudit: FormAuditEntry[]
  sandboxView: SandboxView | null
  insights: Insights
  notice?: string
  sandbox: boolean
  /** CC_SCOPES: what a Connect asks for. */
  scopes: string
}) {
  return (
    <Page title="ctct-relay">
      {props.notice && (
        <p class="card message" role="status">
          {props.notice}
        </p>
      )}
      {props.sandbox && (
        <p class="card">
          Sandbox mode: Constant Contact is simulated locally. Nothing leaves this machine.
        </p>
      )}
      <ConnectionCard status={props.status} scopes={props.scopes} />
      <DeliveryCard status={props.status} deadLetters={props.deadLetters} />
      <InsightsSection insights={props.insights} status={props.status} />
      <FormsCard forms={props.forms} consentCounts={props.consentCounts} />
      <FormAuditCard audit={props.formAudit} />
      <CatalogCard catalog={props.catalog} catalogError={props.catalogError} />
      <AlertsCard alerts={props.status.alerts} />
      <WebhooksCard webhooks={props.webhooks} />
      {props.sandboxView && <SandboxCard view={props.sandboxView} />}
      <form method="post" action="/admin/logout">
        <button class="secondary" type="submit">
          Sign out
        </button>
      </form>
    </Page>
  )
}

/** What "Send a test sign-up" got: the status and JSON body a visitor's script would have. */
export function TestSignupPage({ status, answer }: { status: number; answer: string }) {
  return (
    <Page title={`Test sign-up: ${status}`}>
      <p class="message">
        The relay answered <strong data-test-status={status}>{status}</strong>:
      </p>
      {/* biome-ignore lint/a11y/useSemanticElements: a scrolling <pre> must be focusable and named; <pre> takes no name without a role */}
      <pre tabindex={0} role="region" aria-label="The relay's answer">
        <code>{answer}</code>
      </pre>
      <p>
        200 means Constant Contact accepted it now; 202 means it is queued and will be delivered;
        anything else says what went wrong.
      </p>
      <NextStep href="/admin" label="Back to /admin" />
    </Page>
  )
}
