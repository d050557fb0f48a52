/**
 * @module adapters/workers/sqlite/webhook-repo
 * Webhook endpoints, their pending events and the attempt log (migration 9) in the Durable
 * Object's SQLite. `sql.exec` is synchronous, so each method is atomic within the object's turn;
 * the decisions are core/webhooks/delivery-rules.ts.
 */
import { healthAfter } from '../../../core/webhooks/delivery-rules.ts'
import type { EventType } from '../../../core/webhooks/events.ts'
import {
  ATTEMPT_LOG,
  type EndpointInput,
  type NewDelivery,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookRepo,
} from '../../../core/webhooks/repo.ts'
import { DUE_AT } from './migrations.ts'

type EndpointRow = {
  id: string
  url: string
  events: string
  forms: string | null
  secret: string
  created_at: number
  failing_since: number | null
  disabled_at: number | null
  last_delivery: string | null
  pending: number
  dropped: number
}

function fromRow(row: EndpointRow): WebhookEndpoint {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as EventType[],
    forms: row.forms === null ? null : (JSON.parse(row.forms) as string[]),
    secret: row.secret,
    createdAt: row.created_at,
    failingSince: row.failing_since,
    disabledAt: row.disabled_at,
    lastDelivery:
      row.last_delivery === null ? null : (JSON.parse(row.last_delivery) as WebhookAttempt),
    pending: row.pending,
    dropped: row.dropped,
  }
}

/** The fields of an attempt, and nothing else, as stored. */
const attemptJson = (a: WebhookAttempt) =>
  JSON.stringify({
    messageId: a.messageId,
    type: a.type,
    at: a.at,
    status: a.status,
    error: a.error,
    durationMs: a.durationMs,
    outcome: a.outcome,
    nextRetryAt: a.nextRetryAt,
  } satisfies WebhookAttempt)

export class SqlWebhookRepo implements WebhookRepo {
  readonly #sql: SqlStorage
  constructor(sql: SqlStorage) {
    this.#sql = sql
  }

  #endpoint(id: string): WebhookEndpoint | null {
    const row = this.#sql
      .exec<EndpointRow>('SELECT * FROM webhook_endpoints WHERE id = ?', id)
      .toArray()[0]
    return row ? fromRow(row) : null
  }

  async save(input: EndpointInput, secret: string, now: number): Promise<{ created: boolean }> {
    const created = this.#endpoint(input.id) === null
    const events = JSON.stringify(input.events)
    const forms = input.forms === null ? null : JSON.stringify(input.forms)
    this.#sql.exec(
      `INSERT INTO webhook_endpoints (id, url, events, forms, secret, created_at)
       VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET url = excluded.url, events = excluded.events,
         forms = excluded.forms, failing_since = NULL, disabled_at = NULL`,
      input.id,
      input.url,
      events,
      forms,
      secret,
      now
    )
    return { created }
  }

  async remove(id: string): Promise<boolean> {
    const gone = this.#sql.exec('DELETE FROM webhook_endpoints WHERE id = ?', id).rowsWritten > 0
    this.#sql.exec('DELETE FROM webhook_deliveries WHERE endpoint_id = ?', id)
    this.#sql.exec('DELETE FROM webhook_attempts WHERE endpoint_id = ?', id)
    return gone
  }

  async endpoints(): Promise<WebhookEndpoint[]> {
    return this.#sql
      .exec<EndpointRow>('SELECT * FROM webhook_endpoints ORDER BY id')
      .toArray()
      .map(fromRow)
  }

  async enqueue(deliveries: NewDelivery[], now: number, maxPending: number): Promise<string[]> {
    const dropped: string[] = []
    for (const d of deliveries) {
      const endpoint = this.#endpoint(d.endpointId)
      if (!endpoint) continue
      if (endpoint.pending >= maxPending) {
        this.#sql.exec(
          'UPDATE webhook_endpoints SET dropped = dropped + 1 WHERE id = ?',
          d.endpointId
        )
        dropped.push(d.endpointId)
        continue
      }
      this.#sql.exec(
        `INSERT INTO webhook_deliveries (endpoint_id, message_id, type, body, created_at, next_attempt_at)
         VALUES (?, ?, ?, ?, ?, ?)`,
        d.endpointId,
        d.messageId,
        d.type,
        d.body,
        now,
        now
      )
      this.#sql.exec(
        'UPDATE webhook_endpoints SET pending = pending + 1 WHERE id = ?',
        d.endpointId
      )
    }
    return dropped
  }

  async claimDue(now: number, leaseUntil: number, limit: number): Promise<WebhookDelivery[]> {
    const rows = this.#sql
      .exec<{
        id: number
        endpoint_id: string
        message_id: string
        type: EventType
        body: string
        attempts: number
        created_at: number
      }>(
        `SELECT d.id, d.endpoint_id, d.message_id, d.type, d.body, d.attempts, d.created_at
         FROM webhook_endpoints e JOIN webhook_deliveries d ON d.endpoint_id = e.id
         WHERE e.disabled_at IS NULL AND ${DUE_AT} <= ?
         ORDER BY ${DUE_AT}, d.id LIMIT ?`,
        now,
        limit
      )
      .toArray()
    for (const row of rows) {
      this.#sql.exec(
        'UPDATE webhook_deliveries SET lease_until = ? WHERE id = ?',
        leaseUntil,
        row.id
      )
    }
    return rows.map((r) => ({
      id: r.id,
      endpointId: r.endpoint_id,
      messageId: r.message_id,
      type: r.type,
      body: r.body,
      attempts: r.attempts,
      createdAt: r.created_at,
    }))
  }

  async record(
    endpointId: string,
    deliveryId: number | null,
    attempt: WebhookAttempt
  ): Promise<{ disabled: boolean } | null> {
    const endpoint = this.#endpoint(endpointId)
    if (!endpoint) return null
    const health = healthAfter(endpoint, attempt.outcome === 'delivered', attempt.at)
    const json = attemptJson(attempt)
    let pending = endpoint.pending
    if (deliveryId !== null && attempt.outcome === 'retrying') {
      this.#sql.exec(
        `UPDATE webhook_deliveries SET attempts = attempts + 1, next_attempt_at = ?,
         lease_until = NULL WHERE id = ?`,
        attempt.nextRetryAt,
        deliveryId
      )
    } else if (deliveryId !== null) {
      const sql = 'DELETE FROM webhook_deliveries WHERE id = ? AND endpoint_id = ?'
      pending -= this.#sql.exec(sql, deliveryId, endpointId).rowsWritten
    }
    this.#sql.exec(
      `UPDATE webhook_endpoints SET failing_since = ?, disabled_at = ?, last_delivery = ?,
       pending = ? WHERE id = ?`,
      health.failingSince,
      health.disabledAt,
      json,
      pending,
      endpointId
    )
    this.#sql.exec(
      'INSERT INTO webhook_attempts (endpoint_id, attempt) VALUES (?, ?)',
      endpointId,
      json
    )
    this.#sql.exec(
      `DELETE FROM webhook_attempts WHERE endpoint_id = ? AND id <= (SELECT id FROM webhook_attempts
       WHERE endpoint_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)`,
      endpointId,
      endpointId,
      ATTEMPT_LOG
    )
    return { disabled: health.newlyDisabled }
  }

  async attempts(endpointId: string, limit: number): Promise<WebhookAttempt[]> {
    return this.#sql
      .exec<{ attempt: string }>(
        'SELECT attempt FROM webhook_attempts WHERE endpoint_id = ? ORDER BY id DESC LIMIT ?',
        endpointId,
        limit
      )
      .toArray()
      .map((r) => JSON.parse(r.attempt) as WebhookAttempt)
  }

  async nextDueAt(): Promise<number | null> {
    const row = this.#sql
      .exec<{ due: number | null }>(
        `SELECT MIN(${DUE_AT}) AS due FROM webhook_endpoints e
         JOIN webhook_deliveries d ON d.endpoint_id = e.id WHERE e.disabled_at IS NULL`
      )
      .toArray()[0]
    return row?.due ?? null
  }
}
