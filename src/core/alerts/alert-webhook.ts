/**
 * @module core/alerts/alert-webhook
 * The owner's alert webhook (ALERT_WEBHOOK_URL). One JSON shape (docs/operations.md) that both
 * Slack (`text`) and Discord (`content`) read. Never carries a token, a secret or an email address.
 */

export type AlertEvent =
  | 'needs_reauth'
  | 'degraded'
  | 'recovered'
  | 'dead_letter'
  | 'tagging_dead_letter'
  | 'stale_refresh'
  | 'backlog'
  | 'webhook_dropped'
  | 'webhook_disabled'

export interface Alert {
  event: AlertEvent
  state: string
  previous_state?: string
  reason?: { code: string; message: string }
  at: string
  /** Alerts of this kind held back since the last one sent (coalescing, alert-coalescing.ts). */
  suppressed?: number
}

export function alertPayload(alert: Alert): Record<string, unknown> {
  const headline: Record<AlertEvent, string> = {
    needs_reauth: 'ctct-relay needs you to reconnect Constant Contact (open /admin, Reconnect).',
    degraded: 'ctct-relay cannot refresh its Constant Contact token right now; it keeps retrying.',
    recovered: 'ctct-relay is connected to Constant Contact again.',
    dead_letter: 'ctct-relay: Constant Contact rejected a sign-up; see /admin for the dead letter.',
    tagging_dead_letter:
      'ctct-relay: Constant Contact refused to tag delivered contacts; see /admin for the dead letters.',
    stale_refresh: 'ctct-relay has not refreshed its Constant Contact token for too long.',
    backlog: 'ctct-relay: sign-ups are piling up in the outbox; see /admin.',
    webhook_dropped:
      'ctct-relay: a webhook endpoint is full, and new events for it are dropped; see /admin/webhooks.',
    webhook_disabled:
      'ctct-relay: a webhook endpoint failed for 24 hours and is disabled; see /admin/webhooks.',
  }
  const reason = alert.reason ? ` Reason: ${alert.reason.code}: ${alert.reason.message}` : ''
  const held = alert.suppressed ? ` (${alert.suppressed} more held back since the last)` : ''
  const text = `${headline[alert.event]}${reason}${held}`
  return { service: 'ctct-relay', ...alert, text, content: text }
}

import { fetchWithin } from '../lib/timeout.ts'

/** Best effort: a webhook outage must never break a refresh or a sign-up, so errors are logged. */
export async function sendAlert(
  url: string | undefined,
  fetchFn: typeof fetch,
  alert: Alert
): Promise<boolean> {
  if (!url) return false
  try {
    return await fetchWithin(5000, async (signal) => {
      const res = await fetchFn(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(alertPayload(alert)),
        signal,
      })
      await res.body?.cancel()
      return res.ok
    })
  } catch (err) {
    console.log(JSON.stringify({ msg: 'alert_failed', event: alert.event, error: String(err) }))
    return false
  }
}
