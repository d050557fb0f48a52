/**
 * @module core/webhooks/webhook-pages
 * /admin/webhooks: each endpoint, its secret on request (<details>), Send test, Re-enable, and its
 * last 50 attempts. Plain forms, no script (the owner pages' CSP forbids them).
 */
import { Page } from '../ui/layout.tsx'
import type { AttemptView, WebhookView } from './webhooks.ts'

const NOTICES: Record<string, string> = {
  test_ok: 'Test event sent: the receiver answered 2xx.',
  test_failed: 'Test event sent: the receiver did not answer 2xx (see its attempts below).',
  enabled: 'Webhook re-enabled: its waiting events are sent again.',
}

function AttemptRow({ a }: { a: AttemptView }) {
  return (
    <tr>
      <td>{a.event}</td>
      <td>{a.at}</td>
      <td>{a.status ?? a.error ?? 'no answer'}</td>
      <td>{a.duration_ms} ms</td>
      <td>{a.outcome}</td>
      <td>{a.next_retry_at ?? '—'}</td>
    </tr>
  )
}

function Endpoint({ w }: { w: WebhookView }) {
  const heading = `webhook-${w.id}`
  return (
    <section class="card" id={w.id} aria-labelledby={heading}>
      <h2 id={heading}>{w.id}</h2>
      {w.disabled_at && (
        <p class="message" data-disabled>
          Disabled since {w.disabled_at}: it failed for 24 hours. Nothing is sent to it until you
          re-enable it.
        </p>
      )}
      <dl>
        <dt>URL</dt>
        <dd>{w.url}</dd>
        <dt>Events</dt>
        <dd>{w.events.join(', ')}</dd>
        <dt>Forms</dt>
        <dd>{w.forms === null ? 'all' : w.forms.join(', ') || 'none'}</dd>
        <dt>Waiting</dt>
        <dd>
          {w.pending} events; {w.dropped} dropped (WEBHOOK_MAX_PENDING reached)
        </dd>
      </dl>
      <details>
        <summary>Signing secret</summary>
        <p>
          <code>{w.secret}</code>
        </p>
      </details>
      <form method="post" action={`/admin/webhooks/${w.id}/test`}>
        <button type="submit">Send test to {w.id}</button>
      </form>
      {w.disabled_at && (
        <form method="post" action={`/admin/webhooks/${w.id}/enable`}>
          <button type="submit">Re-enable {w.id}</button>
        </form>
      )}
      <table>
        <caption>Last {w.attempts.length} attempts, newest first</caption>
        <thead>
          <tr>
            <th scope="col">Event</th>
            <th scope="col">Time</th>
            <th scope="col">Status</th>
            <th scope="col">Duration</th>
            <th scope="col">Outcome</th>
            <th scope="col">Next retry</th>
          </tr>
        </thead>
        <tbody>
          {w.attempts.map((a) => (
            <AttemptRow a={a} />
          ))}
        </tbody>
      </table>
    </section>
  )
}

export function WebhooksPage({ webhooks, notice }: { webhooks: WebhookView[]; notice?: string }) {
  const message = notice ? NOTICES[notice] : undefined
  return (
    <Page title="Webhooks" owner="webhooks" notice={message}>
      <p>
        Signed events (Standard Webhooks) for your own systems; add or change endpoints with{' '}
        <code>PUT /admin/api/webhooks/:id</code> (see docs/webhooks.md).
      </p>
      {webhooks.length === 0 && <p>No webhooks yet.</p>}
      {webhooks.map((w) => (
        <Endpoint w={w} />
      ))}
    </Page>
  )
}
