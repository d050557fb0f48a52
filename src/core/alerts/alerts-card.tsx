/** @module core/alerts/alerts-card: the owner's alerts: where they go, and their coalescing (alert-coalescing.ts). */
import type { PropsWithChildren } from 'hono/jsx'
import type { AlertStatus } from '../relay/backend.ts'
import { When } from '../ui/time.tsx'

/** `children`: where the alerts go. */
export function AlertsCard({
  alerts,
  zone,
  children,
}: PropsWithChildren<{ alerts: AlertStatus[]; zone?: string }>) {
  return (
    <section class="card" id="alerts">
      <h2>Alerts</h2>
      {children}
      <p>At most one of a kind per 15 minutes; the next carries the count held back.</p>
      <ul>
        {alerts.length === 0 && <li>None sent yet.</li>}
        {alerts.map((a) => (
          <li data-alert={a.event} data-held={a.held} data-held-total={a.held_total}>
            <strong>{a.event}</strong>: last sent{' '}
            {a.last_sent_at ? <When at={a.last_sent_at} zone={zone} /> : 'never'}; {a.held} held
            back now, {a.held_total} in all
          </li>
        ))}
      </ul>
    </section>
  )
}
