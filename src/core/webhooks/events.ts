/**
 * @module core/webhooks/events
 * The event catalog (docs/webhooks.md) and pure builders: what each event's `data` holds, which
 * endpoints take it, and the alerts that are events too. No I/O.
 */
import type { Alert } from '../alerts/alert-webhook.ts'

export const EVENT_TYPES = [
  'signup.delivered',
  'signup.dead_lettered',
  'tagging.dead_lettered',
  'connection.needs_reauth',
  'connection.restored',
  'connection.degraded',
  'connection.stale_refresh',
  'backlog.high',
  'backlog.recovered',
  'webhook.test',
] as const

export type EventType = (typeof EVENT_TYPES)[number]

/** An event before it is addressed: the type, when it happened, its data, its form (sign-ups). */
export interface WebhookEvent {
  type: EventType
  at: number
  data: Record<string, unknown>
  form?: string
}

/** Where services hand events (webhooks.ts `Webhooks.emit`): never throws, never waits on a receiver. */
export type Emit = (event: WebhookEvent) => Promise<void>

/** The body every receiver gets (Standard Webhooks' shape). */
export function eventBody(event: WebhookEvent): string {
  const { type, at, data } = event
  return JSON.stringify({ type, timestamp: new Date(at).toISOString(), data })
}

/** Whether an endpoint takes `event`: its type is subscribed, and a sign-up's form is listed. */
export function wants(
  endpoint: { events: readonly string[]; forms: readonly string[] | null },
  event: WebhookEvent
): boolean {
  if (!endpoint.events.includes(event.type)) return false
  return event.form === undefined || endpoint.forms === null || endpoint.forms.includes(event.form)
}

const iso = (ms: number) => new Date(ms).toISOString()

/** A sign-up as the outbox holds it (a queued item, or an inline one). */
export interface SignupOf {
  formId: string
  payload: { email_address: string; list_memberships: string[] }
  tags?: string[]
}

/** `answer`: sign_up_form's (cc/client.ts), which names the contact and what CC did with it. */
export function signupDelivered(
  signup: SignupOf,
  answer: { contactId?: string; action?: string },
  receivedAt: number,
  deliveredAt: number
): WebhookEvent {
  const { formId: form, payload } = signup
  const { action } = answer
  return {
    type: 'signup.delivered',
    at: deliveredAt,
    form,
    data: {
      form,
      email: payload.email_address,
      contact_id: answer.contactId ?? null,
      // CC says which; an answer without it is reported as null, not guessed.
      action: action === 'created' || action === 'updated' ? action : null,
      lists: payload.list_memberships,
      tags: signup.tags ?? [],
      received_at: iso(receivedAt),
      delivered_at: iso(deliveredAt),
    },
  }
}

export function signupDeadLettered(
  signup: SignupOf,
  error: { code: string; message: string },
  at: number
): WebhookEvent {
  const { formId: form, payload } = signup
  return {
    type: 'signup.dead_lettered',
    at,
    form,
    data: { form, email: payload.email_address, error },
  }
}

/**
 * The event an alert is, or null. A sign-up's dead letter is `signup.dead_lettered`, emitted
 * with its data where it is stored, so its alert adds nothing; the webhooks' own alerts are not
 * events (an endpoint that is full or disabled would be told about itself through itself).
 */
export function alertEvent(alert: Alert): WebhookEvent | null {
  const type = ALERT_TYPES[alert.event]
  if (!type) return null
  const data: Record<string, unknown> = { state: alert.state }
  if (alert.previous_state !== undefined) data.previous_state = alert.previous_state
  if (alert.reason) data.reason = alert.reason
  return { type, at: Date.parse(alert.at), data }
}

const ALERT_TYPES: Partial<Record<Alert['event'], EventType>> = {
  needs_reauth: 'connection.needs_reauth',
  recovered: 'connection.restored',
  degraded: 'connection.degraded',
  stale_refresh: 'connection.stale_refresh',
  backlog: 'backlog.high',
  tagging_dead_letter: 'tagging.dead_lettered',
}

export function backlogRecovered(pending: number, cap: number, at: number): WebhookEvent {
  return { type: 'backlog.recovered', at, data: { pending, max_pending: cap } }
}

export function testEvent(endpointId: string, at: number): WebhookEvent {
  return { type: 'webhook.test', at, data: { webhook: endpointId } }
}
