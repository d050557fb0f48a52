/**
 * @module core/webhooks/webhooks
 * The owner's signed webhooks: events are queued durably per endpoint (bounded by
 * WEBHOOK_MAX_PENDING), then POSTed from the object's wake-up in a pass of their own after the
 * sign-ups, a few at a time, each bounded by SEND_TIMEOUT_MS. They never go through CcApi (no
 * pacing, no quota), and emitting one never fails or waits on a sign-up: it is one write.
 * Delivery is at least once: an attempt is recorded after its answer, so a crash in between
 * sends it again (same `webhook-id`), and nothing is sent after a recorded success.
 */
import type { Alert } from '../alerts/alert-webhook.ts'
import type { Config } from '../app/config.ts'
import type { Outcome } from '../app/errors.ts'
import type { Clock } from '../lib/clock.ts'
import { fetchWithin } from '../lib/timeout.ts'
import { planAfter, SEND_CONCURRENCY, SEND_TIMEOUT_MS, WEBHOOK_LEASE_MS } from './delivery-rules.ts'
import { type EventType, eventBody, testEvent, type WebhookEvent, wants } from './events.ts'
import {
  ATTEMPT_LOG,
  type EndpointInput,
  type WebhookAttempt,
  type WebhookEndpoint,
  type WebhookRepo,
} from './repo.ts'
import { newSecret, sign } from './signature.ts'

export interface WebhooksDeps {
  repo: WebhookRepo
  config: () => Config
  clock: Clock
  fetch: typeof fetch
  /** The owner's alerts (coalesced): an endpoint full or disabled. */
  alert: (alert: Alert) => Promise<unknown>
  /** Asks the runtime to call the drain (and so `sendDue`) at `at`. */
  wake: (at: number) => Promise<void>
}

/** One attempt as the API and the page show it. */
export interface AttemptView {
  event: EventType
  message_id: string
  at: string
  status: number | null
  error: string | null
  duration_ms: number
  outcome: WebhookAttempt['outcome']
  next_retry_at: string | null
}

export interface WebhookView {
  id: string
  url: string
  events: EventType[]
  forms: string[] | null
  secret: string
  last_delivery: AttemptView | null
  disabled_at: string | null
  pending: number
  dropped: number
  /** The last ATTEMPT_LOG attempts, newest first. */
  attempts: AttemptView[]
}

export interface TestResult {
  ok: boolean
  status: number | null
  duration_ms: number
  error: string | null
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())

function attemptView(a: WebhookAttempt): AttemptView {
  return {
    event: a.type,
    message_id: a.messageId,
    at: new Date(a.at).toISOString(),
    status: a.status,
    error: a.error,
    duration_ms: a.durationMs,
    outcome: a.outcome,
    next_retry_at: iso(a.nextRetryAt),
  }
}

export class Webhooks {
  readonly #deps: WebhooksDeps

  constructor(deps: WebhooksDeps) {
    this.#deps = deps
  }

  /** Queues `event` for every enabled endpoint that takes it. Never throws: a sign-up calls it. */
  readonly emit = async (event: WebhookEvent): Promise<void> => {
    try {
      await this.#emit(event)
    } catch (err) {
      console.error(
        JSON.stringify({ msg: 'webhook_emit_failed', type: event.type, error: String(err) })
      )
    }
  }

  async #emit(event: WebhookEvent): Promise<void> {
    const { repo, clock } = this.#deps
    const targets = (await repo.endpoints()).filter((e) => e.disabledAt === null && wants(e, event))
    if (targets.length === 0) return
    const messageId = `msg_${crypto.randomUUID()}`
    const body = eventBody(event)
    const deliveries = targets.map((e) => ({ endpointId: e.id, messageId, type: event.type, body }))
    const now = clock.now()
    const max = this.#deps.config().WEBHOOK_MAX_PENDING
    const dropped = await repo.enqueue(deliveries, now, max)
    for (const id of dropped) {
      await this.#deps.alert({
        event: 'webhook_dropped',
        state: 'webhook_dropped',
        reason: {
          code: 'webhook_full',
          message: `Webhook "${id}" already holds WEBHOOK_MAX_PENDING (${max}) events: new ones for it are dropped until it catches up.`,
        },
        at: new Date(now).toISOString(),
      })
    }
    if (dropped.length < targets.length) await this.#deps.wake(now)
  }

  /**
   * One pass: sends up to SEND_CONCURRENCY due events at once, records each answer, and asks for a
   * wake-up at the next due one. Returns how many were attempted.
   */
  async sendDue(): Promise<number> {
    const { repo, clock } = this.#deps
    const now = clock.now()
    const due = await repo.claimDue(now, now + WEBHOOK_LEASE_MS, SEND_CONCURRENCY)
    if (due.length > 0) {
      const endpoints = new Map((await repo.endpoints()).map((e) => [e.id, e]))
      await Promise.all(
        due.map(async (delivery) => {
          const endpoint = endpoints.get(delivery.endpointId)
          if (!endpoint) return
          const sent = await this.#post(endpoint, delivery.messageId, delivery.body)
          const plan = planAfter(delivery.attempts + 1, sent.ok, clock.now())
          const attempt = { ...sent, messageId: delivery.messageId, type: delivery.type, ...plan }
          // The answer came through an open input gate: the record re-reads the endpoint (it may
          // have been deleted or changed meanwhile) in its own atomic step.
          const recorded = await repo.record(endpoint.id, delivery.id, attempt)
          if (recorded?.disabled) await this.#disabled(endpoint.id, attempt.at)
        })
      )
    }
    const next = await repo.nextDueAt()
    if (next !== null) await this.#deps.wake(Math.max(next, clock.now()))
    return due.length
  }

  /** POST /admin/api/webhooks/:id/test: a `webhook.test` now, not queued, not retried. */
  async test(id: string): Promise<Outcome<TestResult>> {
    const { repo, clock } = this.#deps
    const endpoint = (await repo.endpoints()).find((e) => e.id === id)
    if (!endpoint) return { ok: false, code: 'not_found', message: `No webhook "${id}"` }
    const messageId = `msg_${crypto.randomUUID()}`
    const sent = await this.#post(endpoint, messageId, eventBody(testEvent(id, clock.now())))
    const outcome = sent.ok ? 'delivered' : 'failed'
    await repo.record(id, null, {
      ...sent,
      messageId,
      type: 'webhook.test',
      outcome,
      nextRetryAt: null,
    })
    const { ok, status, durationMs, error } = sent
    return { ok: true, value: { ok, status, duration_ms: durationMs, error } }
  }

  async save(input: EndpointInput): Promise<{ webhook: WebhookView; created: boolean }> {
    const { created } = await this.#deps.repo.save(input, newSecret(), this.#deps.clock.now())
    // Re-enabled endpoints may have events waiting.
    await this.#deps.wake(this.#deps.clock.now())
    const webhook = (await this.list()).find((w) => w.id === input.id) as WebhookView
    return { webhook, created }
  }

  remove(id: string): Promise<boolean> {
    return this.#deps.repo.remove(id)
  }

  async list(): Promise<WebhookView[]> {
    const endpoints = await this.#deps.repo.endpoints()
    return Promise.all(endpoints.map((e) => this.#view(e)))
  }

  async #view(e: WebhookEndpoint): Promise<WebhookView> {
    const attempts = await this.#deps.repo.attempts(e.id, ATTEMPT_LOG)
    return {
      id: e.id,
      url: e.url,
      events: e.events,
      forms: e.forms,
      secret: e.secret,
      last_delivery: e.lastDelivery ? attemptView(e.lastDelivery) : null,
      disabled_at: iso(e.disabledAt),
      pending: e.pending,
      dropped: e.dropped,
      attempts: attempts.map(attemptView),
    }
  }

  async #post(endpoint: WebhookEndpoint, messageId: string, body: string) {
    const { clock } = this.#deps
    const at = clock.now()
    const timestamp = Math.floor(at / 1000)
    const result = { at, ok: false, status: null as number | null, error: null as string | null }
    try {
      const signature = await sign(endpoint.secret, messageId, timestamp, body)
      result.status = await fetchWithin(SEND_TIMEOUT_MS, async (signal) => {
        const res = await this.#deps.fetch(endpoint.url, {
          method: 'POST',
          // A redirect is an answer, not success: following it would send the body elsewhere.
          redirect: 'manual',
          headers: {
            'content-type': 'application/json',
            'user-agent': 'ctct-relay-webhooks',
            'webhook-id': messageId,
            'webhook-timestamp': String(timestamp),
            'webhook-signature': signature,
          },
          body,
          signal,
        })
        await res.body?.cancel()
        return res.status
      })
      result.ok = result.status >= 200 && result.status < 300
    } catch (err) {
      result.error = String(err).slice(0, 300)
    }
    return { ...result, durationMs: clock.now() - at }
  }

  async #disabled(id: string, at: number): Promise<void> {
    await this.#deps.alert({
      event: 'webhook_disabled',
      state: 'webhook_disabled',
      reason: {
        code: 'webhook_failing',
        message: `Webhook "${id}" has failed for 24 hours and is disabled; nothing is sent to it until you re-enable it on /admin/webhooks.`,
      },
      at: new Date(at).toISOString(),
    })
  }
}
