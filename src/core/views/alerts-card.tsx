/** @module views/alerts-card: the dashboard's alert coalescing counts (alert-gate.ts). */
import type { AlertStatus } from '../service.ts'

export function AlertsCard({ alerts }: { alerts: AlertStatus[] }) {
  return (
    <section class="card" id="alerts">
      <h2>Alerts</h2>
      <p>
        At most one alert of a kind goes to ALERT_WEBHOOK_URL per 15 minutes; the next one carries
        the count of those held back, and the cron sends the last held one once its 15 minutes are
        over.
      </p>
      {alerts.length === 0 ? (
        <p>No alert has been raised yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">Kind</th>
              <th scope="col">Last sent</th>
              <th scope="col">Held back now</th>
              <th scope="col">Held back in all</th>
            </tr>
          </thead>
          <tbody>
            {alerts.map((a) => (
              <tr data-alert={a.event}>
                <th scope="row">{a.event}</th>
                <td>{a.last_sent_at ?? '—'}</td>
                <td data-held={a.held}>{a.held}</td>
                <td data-held-total={a.held_total}>{a.held_total}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  )
}
