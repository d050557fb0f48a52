/** @module core/alerts/alerts-card: the dashboard's alert coalescing counts (alert-coalescing.ts). */
import type { AlertStatus } from '../relay/backend.ts'

export function AlertsCard({ alerts }: { alerts: AlertStatus[] }) {
  return (
    <section class="card" id="alerts">
      <h2>Alerts</h2>
      <p>At most one of a kind per 15 minutes; the next carries the count held back.</p>
      <ul>
        {alerts.length === 0 && <li>None sent yet.</li>}
        {alerts.map((a) => (
          <li data-alert={a.event} data-held={a.held} data-held-total={a.held_total}>
            <strong>{a.event}</strong>: last sent {a.last_sent_at ?? 'never'}; {a.held} held back
            now, {a.held_total} in all
          </li>
        ))}
      </ul>
    </section>
  )
}
