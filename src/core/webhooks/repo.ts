/**
 * @module core/webhooks/repo
 * Storage interface for the owner's webhook endpoints, their pending events and the log of
 * attempts. Both adapters implement each method atomically; docs/storage.md describes what is kept.
 */
import type { AttemptOutcome, EndpointHealth } from './delivery-rules.ts'
import type { EventType } from './events.ts'

/** What the owner sets (PUT /admin/api/webhooks/:id). `forms` null: every form. */
export interface EndpointInput {
  id: string
  url: string
  events: EventType[]
  forms: string[] | null
}

export interface WebhookEndpoint extends EndpointInput, EndpointHealth {
  secret: string
  createdAt: number
  lastDelivery: WebhookAttempt | null
  /** Events waiting for it (bounded by WEBHOOK_MAX_PENDING). */
  pending: number
  /** Events not queued because it held WEBHOOK_MAX_PENDING, ever. */
  dropped: number
}

/** An event addressed to one endpoint, its body fixed (and signed as is on every attempt). */
export interface NewDelivery {
  endpointId: string
  /** `webhook-id`: the same on every attempt. */
  messageId: string
  type: EventType
  body: string
}

export interface WebhookDelivery extends NewDelivery {
  id: number
  /** Attempts made so far. */
  attempts: number
  createdAt: number
}

/** One attempt, as the log (the last 50 per endpoint) and `last_delivery` show it. */
export interface WebhookAttempt {
  messageId: string
  type: EventType
  at: number
  /** The receiver's HTTP status; null when none came (timeout, network). */
  status: number | null
  error: string | null
  durationMs: number
  outcome: AttemptOutcome
  nextRetryAt: number | null
}

/** Attempts kept per endpoint. */
export const ATTEMPT_LOG = 50

export interface WebhookRepo {
  /** Creates (with `secret`) or updates (keeping its secret) an endpoint; saving re-enables it. */
  save(input: EndpointInput, secret: string, now: number): Promise<{ created: boolean }>
  /** Deletes the endpoint, its pending events and its log; false when there was none. */
  remove(id: string): Promise<boolean>
  /** Every endpoint, by id. */
  endpoints(): Promise<WebhookEndpoint[]>
  /**
   * Queues each delivery unless its endpoint is gone or holds `maxPending`: that one is counted in
   * its `dropped`. Returns the ids of the endpoints that dropped one.
   */
  enqueue(deliveries: NewDelivery[], now: number, maxPending: number): Promise<string[]>
  /** Leases up to `limit` due deliveries of enabled endpoints until `leaseUntil`, earliest first. */
  claimDue(now: number, leaseUntil: number, limit: number): Promise<WebhookDelivery[]>
  /**
   * Records an attempt at endpoint `endpointId`: logs it, sets `last_delivery` and the health
   * (delivery-rules.ts `healthAfter`), and for a queued delivery (`deliveryId`) deletes it
   * (delivered, failed) or makes it due at `nextRetryAt`. Null when the endpoint is gone (deleted
   * while the attempt was in flight); else whether this attempt disabled it.
   */
  record(
    endpointId: string,
    deliveryId: number | null,
    attempt: WebhookAttempt
  ): Promise<{ disabled: boolean } | null>
  /** Newest first. */
  attempts(endpointId: string, limit: number): Promise<WebhookAttempt[]>
  /** The earliest due time of a pending delivery of an enabled endpoint, or null. */
  nextDueAt(): Promise<number | null>
}
