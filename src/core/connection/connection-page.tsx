/**
 * @module core/connection/connection-page
 * /admin/connection: the account, the token, Reconnect and Disconnect (asked first), and the
 * owner's alerts with where they go.
 */
import { AlertsCard } from '../alerts/alerts-card.tsx'
import type { RelayStatus } from '../relay/backend.ts'
import { Page } from '../ui/layout.tsx'
import { When } from '../ui/time.tsx'
import { noRefreshTokenAdvice } from './oauth.ts'

const STATE_TEXT: Record<RelayStatus['state'], string> = {
  connected: 'Connected',
  degraded: 'Connected, but refreshing is failing (retrying)',
  needs_reauth: 'Reconnect needed',
  not_connected: 'Not connected',
}

/** "Connected · Sandbox Bakery": the state line the Overview and this page share. */
export function ConnectionState({ status: s }: { status: RelayStatus }) {
  const account = s.account.summary?.organization_name
  return (
    <p class={`state-${s.state}`} data-state={s.state}>
      <strong>{STATE_TEXT[s.state]}</strong>
      {account && s.state !== 'not_connected' && ` · ${account}`}
    </p>
  )
}

/** Connect, or Reconnect when the owner has (had) a connection. */
export function ConnectButton({ status }: { status: RelayStatus }) {
  return (
    <a class="button" href="/oauth/authorize">
      {status.state === 'not_connected' ? 'Connect Constant Contact' : 'Reconnect'}
    </a>
  )
}

function ConnectionCard({ status: s, scopes }: { status: RelayStatus; scopes: string }) {
  const connected = s.state !== 'not_connected'
  const zone = s.account.summary?.time_zone_id
  return (
    <section class="card" id="connection">
      <h2>Constant Contact</h2>
      <ConnectionState status={s} />
      <dl>
        <dt>Account</dt>
        <dd>
          {s.account.summary?.organization_name && `${s.account.summary.organization_name} · `}
          {s.account.sub ?? '—'}
        </dd>
        <dt>Time zone</dt>
        <dd>{zone ?? 'UTC (the account’s is not known yet)'}</dd>
        <dt>Connected</dt>
        <dd>
          <When at={s.connected_at} zone={zone} />
        </dd>
        <dt>Access token expires</dt>
        <dd>
          <When at={s.access_token_expires_at} zone={zone} /> (renewed ahead of time)
        </dd>
        <dt>Last renewal</dt>
        <dd>
          <When at={s.last_refresh_at} zone={zone} />
        </dd>
        <dt>Last error</dt>
        <dd>
          {s.last_error ? (
            <>
              {s.last_error.message} (<code>{s.last_error.code}</code>,{' '}
              <When at={s.last_error.at} zone={zone} />)
            </>
          ) : (
            '—'
          )}
        </dd>
      </dl>
      {!s.refreshable && connected && (
        <p class="advice">
          No refresh token: the connection stops when the access token expires, and must be
          authorised again then. {noRefreshTokenAdvice(scopes)}
        </p>
      )}
      <p>
        <ConnectButton status={s} />
      </p>
      {/* Asked first: sign-ups wait in the outbox until the owner connects again. */}
      {connected && (
        <details class="confirm">
          <summary>Disconnect…</summary>
          <p>
            Until you connect again, sign-ups are kept in the outbox, not sent to Constant Contact.
            Disconnect forgets the tokens stored here; it does not revoke the grant at Constant
            Contact. To revoke it, remove the app's access in your{' '}
            <a href="https://app.constantcontact.com/" rel="noopener noreferrer">
              Constant Contact account
            </a>{' '}
            (account settings, connected apps and integrations), or rotate the app's client secret
            in the{' '}
            <a href="https://app.constantcontact.com/pages/dma/portal/" rel="noopener noreferrer">
              developer portal
            </a>
            , which forces a reconnect.
          </p>
          <form method="post" action="/admin/disconnect">
            <button class="danger" type="submit">
              Disconnect now
            </button>
          </form>
        </details>
      )}
    </section>
  )
}

/** Where alerts go: only the webhook's host is shown (its path may hold a token). */
function AlertChannel({ url }: { url: string | undefined }) {
  if (!url) {
    return (
      <p class="advice" data-alert-channel="none">
        No alert channel: set the <code>ALERT_WEBHOOK_URL</code> secret (a Slack or Discord webhook,
        or any URL taking JSON) to be told when the connection needs you or a sign-up fails.
      </p>
    )
  }
  return (
    <p data-alert-channel="webhook">
      Alerts go to <strong>{new URL(url).host}</strong> (<code>ALERT_WEBHOOK_URL</code>).
    </p>
  )
}

export function ConnectionPage(props: {
  status: RelayStatus
  scopes: string
  alertWebhookUrl: string | undefined
  notice?: string
}) {
  return (
    <Page title="Connection" owner="connection" notice={props.notice}>
      <ConnectionCard status={props.status} scopes={props.scopes} />
      <AlertsCard alerts={props.status.alerts} zone={props.status.account.summary?.time_zone_id}>
        <AlertChannel url={props.alertWebhookUrl} />
      </AlertsCard>
    </Page>
  )
}
