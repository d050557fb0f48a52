/** @module core/webhooks/webhooks-card: the dashboard's link to /admin/webhooks, and disabled endpoints. */
import type { WebhookView } from './webhooks.ts'

export function WebhooksCard({ webhooks }: { webhooks: WebhookView[] }) {
  const disabled = webhooks.filter((w) => w.disabled_at !== null)
  return (
    <section class="card" id="webhooks">
      <h2>Webhooks</h2>
      <p>
        {webhooks.length} endpoint(s). <a href="/admin/webhooks">Manage webhooks</a>
      </p>
      {disabled.length > 0 && (
        <ul>
          {disabled.map((w) => (
            <li data-webhook-disabled={w.id}>
              <strong>{w.id}</strong> is disabled since {w.disabled_at}: it failed for 24 hours.
              Re-enable it on the webhooks page.
            </li>
          ))}
        </ul>
      )}
    </section>
  )
}
