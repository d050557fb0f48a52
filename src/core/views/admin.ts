/** @module views/admin: the owner's pages. */
import { html } from 'hono/html'
import type { Catalog, ProfileCheck } from '../catalog.ts'
import type { SandboxView } from '../sandbox.ts'
import type { DeadLetterView, RelayStatus } from '../service.ts'
import { page } from './layout.ts'

export function signInPage(options: { error?: string; sandboxHint?: boolean }) {
  return page(
    'Owner sign-in',
    html`${options.error ? html`<p class="error" role="alert">${options.error}</p>` : ''}
      <form method="post" action="/admin/login" class="card">
        <label for="token">Admin token (the ADMIN_TOKEN secret)</label><br />
        <input id="token" name="token" type="password" autocomplete="current-password" required />
        <p><button type="submit">Sign in</button></p>
      </form>
      ${
        options.sandboxHint
          ? html`<p>Sandbox mode: the admin token was printed by <code>npm start</code>.</p>`
          : ''
      }`
  )
}

const STATE_TEXT: Record<RelayStatus['state'], string> = {
  connected: 'Connected',
  degraded: 'Connected, but refreshing is failing (retrying)',
  needs_reauth: 'Reconnect needed',
  not_connected: 'Not connected',
}

function deliveryCard(s: RelayStatus, deadLetters: DeadLetterView[]) {
  const o = s.outbox
  return html`<section class="card" id="delivery">
    <h2>Delivery</h2>
    <dl>
      <dt>Delivered today</dt><dd data-figure="delivered_today">${o.delivered_today}</dd>
      <dt>Pending</dt><dd data-figure="pending">${o.pending}${o.parked > 0 ? ` (${o.parked} parked)` : ''}</dd>
      <dt>Oldest pending</dt><dd>${o.oldest_pending_age_seconds === null ? '—' : `${o.oldest_pending_age_seconds} s`}</dd>
      <dt>Dead letters</dt><dd data-figure="dead">${o.dead}</dd>
      <dt>Daily quota</dt><dd>${o.quota_used_today} / ${o.quota_limit} requests (resets 00:00 UTC)</dd>
      ${o.parked_until ? html`<dt>Parked until</dt><dd>${o.parked_until}</dd>` : ''}
    </dl>
    ${
      deadLetters.length > 0
        ? html`<h3>Dead letters</h3>
          <p>Constant Contact refused these sign-ups. Fix the cause (often a deleted list or custom field), then Retry.</p>
          <form method="post" action="/admin/dead-letters/all/retry"><button type="submit">Retry all</button></form>
          <ul class="dead-letters">
            ${deadLetters.map(
              (d) => html`<li class="card" data-dead-letter="${d.id}">
                <strong>${d.email_masked}</strong> · form ${d.form_id} · ${d.dead_at}<br />
                ${d.error ? `${d.error.status} ${d.error.error_key}: ${d.error.message}` : ''}
                <form class="inline" method="post" action="/admin/dead-letters/${d.id}/retry"><button type="submit">Retry</button></form>
                <form class="inline" method="post" action="/admin/dead-letters/${d.id}/delete"><button class="danger" type="submit">Delete</button></form>
              </li>`
            )}
          </ul>`
        : ''
    }
  </section>`
}

export interface FormCard {
  formId: string
  snippet: string
  check: ProfileCheck | null
}

function catalogCard(catalog: Catalog | null, catalogError: string | null) {
  if (!catalog) {
    return html`<section class="card" id="catalog">
      <h2>Lists and custom fields</h2>
      <p>${catalogError ?? 'Connect to see your Constant Contact lists and custom fields.'}</p>
    </section>`
  }
  return html`<section class="card" id="catalog">
    <h2>Lists and custom fields</h2>
    <p>From your Constant Contact account (${catalog.fetched_at}). Copy ids into FORMS.</p>
    <h3>Lists</h3>
    <ul>
      ${catalog.lists.map((l) => html`<li>${l.name} <code>${l.list_id}</code></li>`)}
    </ul>
    <h3>Custom fields</h3>
    ${
      catalog.custom_fields.length === 0
        ? html`<p>None.</p>`
        : html`<ul>
          ${catalog.custom_fields.map((f) => html`<li>${f.label} <code>${f.custom_field_id}</code></li>`)}
        </ul>`
    }
  </section>`
}

function formsCard(forms: FormCard[]) {
  return html`<section class="card" id="forms">
    <h2>Forms</h2>
    ${forms.length === 0 ? html`<p>No form profiles yet: add one to FORMS (see the README).</p>` : ''}
    ${forms.map(
      (f) => html`<article class="card" data-form="${f.formId}">
        <h3>${f.formId}</h3>
        ${
          f.check && (f.check.unknown_lists.length > 0 || f.check.unknown_custom_fields.length > 0)
            ? html`<p class="error" data-check="drift">
              This profile refers to ids your Constant Contact account does not have, so sign-ups would be refused:
              ${f.check.unknown_lists.map((id) => html` list <code>${id}</code>`)}
              ${f.check.unknown_custom_fields.map(
                (c) =>
                  html` custom field <code>${c.alias}</code> (<code>${c.custom_field_id}</code>)`
              )}
            </p>`
            : f.check
              ? html`<p class="state-connected" data-check="ok">Every list and custom field id exists in Constant Contact.</p>`
              : ''
        }
        <p>Paste this into your site:</p>
        <pre><code>${f.snippet}</code></pre>
        <form method="post" action="/admin/forms/${f.formId}/test">
          <label for="test-${f.formId}">Send a test sign-up through the relay</label><br />
          <input id="test-${f.formId}" name="email" type="email" required placeholder="you@example.com" />
          <button type="submit">Send test</button>
        </form>
      </article>`
    )}
  </section>`
}

function sandboxCard(view: SandboxView) {
  return html`<section class="card" id="sandbox">
    <h2>Sandbox contacts</h2>
    <p>What the stand-in Constant Contact has received. <a href="/__sandbox">Manage sandbox lists</a>.</p>
    ${
      view.contacts.length === 0
        ? html`<p>No contacts yet.</p>`
        : html`<ul>
          ${view.contacts.map((c) => html`<li data-sandbox-contact="${c.email_address}">${c.email_address} · ${c.updated_at}</li>`)}
        </ul>`
    }
  </section>`
}

export function sandboxPage(view: SandboxView) {
  return page(
    'Sandbox',
    html`<p class="card">Delete a list here to see what happens when a list is deleted in Constant Contact: sign-ups to it are refused, become dead letters, and the dashboard flags the form.</p>
      <ul>
        ${view.lists.map(
          (
            l
          ) => html`<li data-sandbox-list="${l.list_id}">${l.name} <code>${l.list_id}</code> ${l.deleted ? '(deleted)' : ''}
            <form class="inline" method="post" action="/__sandbox/lists/${l.list_id}/${l.deleted ? 'restore' : 'delete'}">
              <button type="submit" class="${l.deleted ? '' : 'danger'}">${l.deleted ? 'Restore' : 'Delete'}</button>
            </form>
          </li>`
        )}
      </ul>
      <p><a href="/admin">Back to /admin</a></p>`
  )
}

export function dashboardPage(options: {
  status: RelayStatus
  deadLetters: DeadLetterView[]
  catalog: Catalog | null
  catalogError: string | null
  forms: FormCard[]
  sandboxView: SandboxView | null
  notice?: string
  sandbox: boolean
}) {
  const s = options.status
  const connectLabel = s.state === 'not_connected' ? 'Connect Constant Contact' : 'Reconnect'
  return page(
    'ctct-relay',
    html`${options.notice ? html`<p class="card message" role="status">${options.notice}</p>` : ''}
      ${
        options.sandbox
          ? html`<p class="card">Sandbox mode: Constant Contact is simulated locally. Nothing leaves this machine.</p>`
          : ''
      }
      <section class="card" id="connection">
        <h2>Connection</h2>
        <p class="state-${s.state}" data-state="${s.state}"><strong>${STATE_TEXT[s.state]}</strong></p>
        <dl>
          <dt>Account</dt>
          <dd>${s.account.summary?.organization_name ? `${s.account.summary.organization_name} · ` : ''}${s.account.sub ?? '—'}</dd>
          <dt>Token expires</dt><dd>${s.access_token_expires_at ?? '—'}</dd>
          <dt>Last refresh</dt><dd>${s.last_refresh_at ?? '—'}</dd>
          <dt>Last error</dt>
          <dd>${s.last_error ? `${s.last_error.code} at ${s.last_error.at}: ${s.last_error.message}` : '—'}</dd>
        </dl>
        ${
          !s.refreshable && s.state !== 'not_connected'
            ? html`<p class="error">No refresh token: add <code>offline_access</code> to CC_SCOPES and reconnect, or the connection stops when the token expires.</p>`
            : ''
        }
        <p>
          <a class="button" href="/oauth/authorize">${connectLabel}</a>
          ${
            s.state !== 'not_connected'
              ? html`<form class="inline" method="post" action="/admin/disconnect">
                <button class="danger" type="submit">Disconnect</button>
              </form>`
              : ''
          }
        </p>
        ${
          s.state !== 'not_connected'
            ? html`<p>Disconnect forgets the tokens stored here; it does not revoke the grant at Constant Contact. To revoke it, remove the app's access in your <a href="https://app.constantcontact.com/" rel="noopener noreferrer">Constant Contact account</a> (account settings, connected apps and integrations), or rotate the app's client secret in the <a href="https://app.constantcontact.com/pages/dma/portal/" rel="noopener noreferrer">developer portal</a>, which forces a reconnect.</p>`
            : ''
        }
      </section>
      ${deliveryCard(s, options.deadLetters)}
      ${formsCard(options.forms)}
      ${catalogCard(options.catalog, options.catalogError)}
      ${options.sandboxView ? sandboxCard(options.sandboxView) : ''}
      <form method="post" action="/admin/logout"><button class="secondary" type="submit">Sign out</button></form>`
  )
}
