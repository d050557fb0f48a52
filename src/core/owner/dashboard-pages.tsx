/** @module core/owner/dashboard-pages: the owner's pages. */

import type { PropsWithChildren } from 'hono/jsx'
import { type Catalog, driftOf } from '../cc/catalog.ts'
import { ConnectButton, ConnectionState } from '../connection/connection-page.tsx'
import { noRefreshTokenAdvice } from '../connection/oauth.ts'
import { type FormCard, formLabels } from '../forms/form-list-pages.tsx'
import { TodayFigures } from '../metrics/metrics-pages.tsx'
import { type RefusalLine, RefusedOriginsOverview } from '../origins/refused-origins.tsx'
import { FailedSignups } from '../outbox/failed-signups.tsx'
import type { DeadLetterView, RelayStatus, SandboxView } from '../relay/backend.ts'
import type { SignupJsonBody } from '../signup/accept-signup.ts'
import { NextStep, Page } from '../ui/layout.tsx'
import { When } from '../ui/time.tsx'
import type { WebhookView } from '../webhooks/webhooks.ts'

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

function SandboxCard({ view, zone }: { view: SandboxView; zone?: string }) {
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
              {c.email_address} · <When at={c.updated_at} zone={zone} /> · lists:{' '}
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

/** A problem the Overview puts first: what is wrong, in words, and where to act. */
function Problem({ kind, children }: PropsWithChildren<{ kind: string }>) {
  return (
    <li class="problem" data-problem={kind}>
      {children}
    </li>
  )
}

/** What needs the owner, most urgent first; `refusedOrigins` comes from core/origins. */
function NeedsYou(props: {
  status: RelayStatus
  deadLetters: DeadLetterView[]
  forms: FormCard[]
  webhooks: WebhookView[]
  refusals: RefusalLine[]
  /** CC_SCOPES, for the advice when no refresh token came. */
  scopes: string
  catalogError: string | null
}) {
  const { status, deadLetters, forms } = props
  const o = status.outbox
  const drifting = forms.filter((f) => f.check && driftOf(f.check) > 0)
  const disabledHooks = props.webhooks.filter((w) => w.disabled_at !== null)
  const quotaShare = o.quota_limit > 0 ? o.quota_used_today / o.quota_limit : 0
  const items = [
    status.state !== 'connected' && (
      <Problem kind="connection">
        <ConnectionState status={status} />
        {status.state === 'degraded'
          ? 'Renewing the access token is failing; the relay keeps trying. '
          : 'Sign-ups are kept, not sent, until you connect. '}
        <ConnectButton status={status} /> <a href="/admin/connection">Connection details</a>
      </Problem>
    ),
    status.state !== 'not_connected' && !status.refreshable && (
      <Problem kind="no-refresh-token">
        Constant Contact issued no refresh token: the connection stops when the access token expires
        (<When at={status.access_token_expires_at} zone={zoneOf(status)} />
        ), and must be authorised again then. {noRefreshTokenAdvice(props.scopes)}{' '}
        <ConnectButton status={status} />
      </Problem>
    ),
    props.catalogError && (
      <Problem kind="catalog">
        The relay could not read your lists, custom fields and tags: {props.catalogError}
      </Problem>
    ),
    deadLetters.length > 0 && (
      <Problem kind="failed">
        <a href="#failed">
          {deadLetters.length === 1 ? '1 failed sign-up' : `${deadLetters.length} failed sign-ups`}
        </a>{' '}
        to fix and retry (below).
      </Problem>
    ),
    props.refusals.length > 0 && (
      <Problem kind="refused-origins">
        <a href="#refused-origins">
          Sign-ups refused from{' '}
          {props.refusals.length === 1 ? 'a site' : `${props.refusals.length} sites`}
        </a>{' '}
        that a form does not list among its origins: their visitors read “Could not reach the
        sign-up service”.
      </Problem>
    ),
    ...drifting.map((f) => (
      <Problem kind="form">
        <a href={`/admin/forms/${f.formId}`}>{f.name}</a> uses a list, field or tag your account no
        longer has: its sign-ups would be refused.
      </Problem>
    )),
    o.pending >= o.max_pending / 2 && (
      <Problem kind="backlog">
        {o.pending} sign-ups are waiting to send, of at most {o.max_pending}: when it is full, new
        sign-ups are refused.
      </Problem>
    ),
    o.parked_until && (
      <Problem kind="parked">
        Sending is paused until <When at={o.parked_until} zone={zoneOf(status)} /> (the daily quota,
        or Constant Contact refused access).
      </Problem>
    ),
    quotaShare >= 0.8 && (
      <Problem kind="quota">
        {Math.round(quotaShare * 100)} % of today's Constant Contact requests are used (
        {o.quota_used_today} of {o.quota_limit}).
      </Problem>
    ),
    ...disabledHooks.map((w) => (
      <Problem kind="webhook">
        <span data-webhook-disabled={w.id}>
          The webhook <strong>{w.id}</strong> was switched off after failing for 24 hours.
        </span>{' '}
        <a href="/admin/webhooks">Re-enable it on the Webhooks page</a>
      </Problem>
    )),
    forms.length === 0 && (
      <Problem kind="no-forms">
        No forms yet. <a href="/admin/forms/new">Make your first form</a>.
      </Problem>
    ),
  ].filter(Boolean)
  return (
    <section class="card" id="needs-you">
      <h2>Needs you</h2>
      {items.length === 0 ? (
        <p data-problem="none">Nothing: sign-ups are going through.</p>
      ) : (
        <ul>{items}</ul>
      )}
    </section>
  )
}

const zoneOf = (status: RelayStatus) => status.account.summary?.time_zone_id

/** Where delivery stands, in words; the charts are on /admin/activity. */
function Delivery({ status }: { status: RelayStatus }) {
  const o = status.outbox
  return (
    <section class="card" id="delivery">
      <h2>Delivery</h2>
      <dl>
        <dt>Sent to Constant Contact today</dt>
        <dd data-figure="delivered_today">{o.delivered_today}</dd>
        <dt>Waiting to send</dt>
        <dd data-figure="pending">
          {o.pending === 0
            ? 'none'
            : `${o.pending}, the oldest for ${o.oldest_pending_age_seconds ?? 0} s`}
          {o.parked > 0 && ` (${o.parked} until you reconnect or the quota resets)`}
        </dd>
        <dt>Most that can wait</dt>
        <dd data-figure="backlog">
          {o.pending} of {o.max_pending} (OUTBOX_MAX_PENDING)
          {o.pending >= o.max_pending && ': full, new sign-ups are refused'}
        </dd>
        <dt>Failed sign-ups</dt>
        <dd data-figure="dead">{o.dead}</dd>
        <dt>Tags to add</dt>
        <dd data-figure="taggings">
          {o.tagging_pending} waiting, {o.tagging_dead} refused
        </dd>
        <dt>Constant Contact requests</dt>
        <dd>
          {o.quota_used_today} of {o.quota_limit} today (resets at midnight UTC)
        </dd>
      </dl>
      <p>
        <a href="/admin/activity">Every sign-up, and the charts</a>
      </p>
    </section>
  )
}

/** The failed sign-ups the Overview lists; /admin/failed has the rest. */
const OVERVIEW_FAILED = 5

/** /admin/failed: every failed sign-up (the newest the backend lists), to act on. */
export function FailedSignupsPage(props: {
  status: RelayStatus
  deadLetters: DeadLetterView[]
  catalog: Catalog | null
  forms: FormCard[]
}) {
  return (
    <Page title="Failed sign-ups" owner={null}>
      <p>
        <a href="/admin">Overview</a> › Failed sign-ups
      </p>
      <FailedSignups
        letters={props.deadLetters}
        total={props.status.outbox.dead + props.status.outbox.tagging_dead}
        catalog={props.catalog}
        forms={formLabels(props.forms)}
        zone={zoneOf(props.status)}
      />
      {props.deadLetters.length === 0 && <p>None: every sign-up the relay took was delivered.</p>}
    </Page>
  )
}

export function OverviewPage(props: {
  status: RelayStatus
  deadLetters: DeadLetterView[]
  catalog: Catalog | null
  catalogError: string | null
  forms: FormCard[]
  webhooks: WebhookView[]
  refusals: RefusalLine[]
  /** The last 24 hours' outcomes (metrics-routes.tsx loadLastDay). */
  lastDay: Record<string, number>
  sandboxView: SandboxView | null
  notice?: string
  sandbox: boolean
  scopes: string
}) {
  const zone = zoneOf(props.status)
  return (
    <Page title="Overview" owner="overview" notice={props.notice}>
      {props.sandbox && (
        <p class="card">
          Sandbox mode: Constant Contact is simulated locally. Nothing leaves this machine.
        </p>
      )}
      {props.status.state === 'connected' && <ConnectionState status={props.status} />}
      <NeedsYou
        status={props.status}
        deadLetters={props.deadLetters}
        forms={props.forms}
        webhooks={props.webhooks}
        refusals={props.refusals}
        scopes={props.scopes}
        catalogError={props.catalogError}
      />
      <FailedSignups
        letters={props.deadLetters}
        total={props.status.outbox.dead + props.status.outbox.tagging_dead}
        shown={OVERVIEW_FAILED}
        catalog={props.catalog}
        forms={formLabels(props.forms)}
        zone={zone}
      />
      <RefusedOriginsOverview
        lines={props.refusals}
        zone={zone}
        formNames={new Map(props.forms.map((f) => [f.formId, f.name]))}
      />
      <TodayFigures counts={props.lastDay} waiting={props.status.outbox.pending} />
      <Delivery status={props.status} />
      {props.sandboxView && <SandboxCard view={props.sandboxView} zone={zone} />}
    </Page>
  )
}

/** What "Send a test sign-up" got, in words; the JSON a visitor's script reads, folded. */
export function TestSignupPage({
  formId,
  status,
  body,
}: {
  formId: string
  status: number
  body: SignupJsonBody
}) {
  const fields =
    !body.ok && body.fields ? Object.entries(body.fields as Record<string, string>) : []
  const title = body.ok
    ? body.status === 'delivered'
      ? 'Sent to Constant Contact'
      : 'Waiting to send'
    : 'Refused'
  return (
    <Page title={`Test sign-up: ${title}`} owner="forms">
      <p class="message" data-test-status={status}>
        {body.ok
          ? body.status === 'delivered'
            ? 'Constant Contact took the contact now. A visitor would read:'
            : 'The sign-up is stored and will be sent to Constant Contact shortly (see Waiting to send on the Overview). A visitor would read:'
          : 'The relay refused the sign-up, and a visitor would read:'}
      </p>
      <blockquote>{body.message}</blockquote>
      {fields.length > 0 && (
        <ul>
          {fields.map(([name, message]) => (
            <li>
              <strong>{name}</strong>: {message}
            </li>
          ))}
        </ul>
      )}
      <details>
        <summary>The answer a script gets ({status}, JSON)</summary>
        {/* biome-ignore lint/a11y/useSemanticElements: a scrolling <pre> must be focusable and named; <pre> takes no name without a role */}
        <pre tabindex={0} role="region" aria-label="The relay's answer">
          <code>{JSON.stringify(body)}</code>
        </pre>
      </details>
      <NextStep href={`/admin/forms/${formId}`} label="Back to the form" />
    </Page>
  )
}
