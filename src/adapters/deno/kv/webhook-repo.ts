/**
 * @module adapters/deno/kv/webhook-repo
 * Webhook endpoints, their pending events and the attempt log in Deno KV. An endpoint's record
 * carries its running counts, so each queued event, claim and attempt is one checked commit with
 * it; the due index is per endpoint (['webhook_due', endpoint, dueAt, id]), so a disabled
 * endpoint's backlog is never scanned. The decisions are core/webhooks/delivery-rules.ts.
 */
import { healthAfter } from '../../../core/webhooks/delivery-rules.ts'
import {
  ATTEMPT_LOG,
  type EndpointInput,
  type NewDelivery,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookRepo,
} from '../../../core/webhooks/repo.ts'
import { WEBHOOK_SEQ, webhook, webhookAttempt, webhookDelivery, webhookDue } from './keys.ts'
import { CONFLICT, collect, deleteKeys, transact } from './transact.ts'

/** A pending event as stored. */
interface DeliveryRecord extends WebhookDelivery {
  nextAttemptAt: number
  leaseUntil: number | null
}

const dueAt = (r: DeliveryRecord) => Math.max(r.nextAttemptAt, r.leaseUntil ?? 0)
const dueKey = (r: DeliveryRecord) => webhookDue(r.endpointId, dueAt(r), r.id)

export class KvWebhookRepo implements WebhookRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  save(input: EndpointInput, secret: string, now: number): Promise<{ created: boolean }> {
    return transact(async () => {
      const entry = await this.#kv.get<WebhookEndpoint>(webhook(input.id))
      const before = entry.value
      const record: WebhookEndpoint = before
        ? { ...before, ...input, failingSince: null, disabledAt: null }
        : {
            ...input,
            secret,
            createdAt: now,
            failingSince: null,
            disabledAt: null,
            lastDelivery: null,
            pending: 0,
            dropped: 0,
          }
      const committed = await this.#kv.atomic().check(entry).set(webhook(input.id), record).commit()
      return committed.ok ? { created: !before } : CONFLICT
    })
  }

  async remove(id: string): Promise<boolean> {
    const gone = await transact(async () => {
      const entry = await this.#kv.get<WebhookEndpoint>(webhook(id))
      if (!entry.value) return false
      return (await this.#kv.atomic().check(entry).delete(webhook(id)).commit()).ok
        ? true
        : CONFLICT
    })
    const keys: Deno.KvKey[] = []
    for (const { key, value } of await collect(
      this.#kv.list<number>({ prefix: ['webhook_due', id] })
    )) {
      keys.push(key, webhookDelivery(value))
    }
    for (const { key } of await collect(this.#kv.list({ prefix: ['webhook_attempt', id] })))
      keys.push(key)
    await deleteKeys(this.#kv, keys)
    return gone
  }

  async endpoints(): Promise<WebhookEndpoint[]> {
    const entries = await collect(this.#kv.list<WebhookEndpoint>({ prefix: ['webhook'] }))
    return entries.map((e) => e.value)
  }

  async enqueue(deliveries: NewDelivery[], now: number, maxPending: number): Promise<string[]> {
    const dropped: string[] = []
    for (const d of deliveries) {
      const outcome = await transact(async () => {
        const [entry, seq] = await this.#kv.getMany<[WebhookEndpoint, number]>([
          webhook(d.endpointId),
          WEBHOOK_SEQ,
        ])
        const endpoint = entry.value
        if (!endpoint) return 'gone'
        const op = this.#kv.atomic().check(entry)
        if (endpoint.pending >= maxPending) {
          op.set(webhook(d.endpointId), { ...endpoint, dropped: endpoint.dropped + 1 })
          return (await op.commit()).ok ? 'dropped' : CONFLICT
        }
        const id = (seq.value ?? 0) + 1
        const record: DeliveryRecord = {
          ...d,
          id,
          attempts: 0,
          createdAt: now,
          nextAttemptAt: now,
          leaseUntil: null,
        }
        op.check(seq)
          .set(WEBHOOK_SEQ, id)
          .set(webhookDelivery(id), record)
          .set(dueKey(record), id)
          .set(webhook(d.endpointId), { ...endpoint, pending: endpoint.pending + 1 })
        return (await op.commit()).ok ? 'queued' : CONFLICT
      })
      if (outcome === 'dropped') dropped.push(d.endpointId)
    }
    return dropped
  }

  /** Due entries of enabled endpoints, earliest first, at most `limit`. */
  async #due(now: number, limit: number): Promise<{ at: number; id: number }[]> {
    const due: { at: number; id: number }[] = []
    for (const endpoint of await this.endpoints()) {
      if (endpoint.disabledAt !== null) continue
      const prefix = ['webhook_due', endpoint.id]
      const listed = this.#kv.list<number>({ prefix, end: [...prefix, now + 1] }, { limit })
      for (const { key, value } of await collect(listed))
        due.push({ at: key[2] as number, id: value })
    }
    return due.sort((a, b) => a.at - b.at || a.id - b.id).slice(0, limit)
  }

  async claimDue(now: number, leaseUntil: number, limit: number): Promise<WebhookDelivery[]> {
    const claimed: WebhookDelivery[] = []
    for (const { id } of await this.#due(now, limit)) {
      const record = await transact(async () => {
        const entry = await this.#kv.get<DeliveryRecord>(webhookDelivery(id))
        const r = entry.value
        if (!r || dueAt(r) > now) return null
        const leased = { ...r, leaseUntil }
        const committed = await this.#kv
          .atomic()
          .check(entry)
          .delete(dueKey(r))
          .set(webhookDelivery(id), leased)
          .set(dueKey(leased), id)
          .commit()
        return committed.ok ? r : CONFLICT
      })
      if (record) {
        const { nextAttemptAt: _n, leaseUntil: _l, ...delivery } = record
        claimed.push(delivery)
      }
    }
    return claimed
  }

  async record(
    endpointId: string,
    deliveryId: number | null,
    attempt: WebhookAttempt
  ): Promise<{ disabled: boolean } | null> {
    const stored: WebhookAttempt = {
      messageId: attempt.messageId,
      type: attempt.type,
      at: attempt.at,
      status: attempt.status,
      error: attempt.error,
      durationMs: attempt.durationMs,
      outcome: attempt.outcome,
      nextRetryAt: attempt.nextRetryAt,
    }
    const result = await transact(async () => {
      const [entry, delivery] = await this.#kv.getMany<[WebhookEndpoint, DeliveryRecord]>([
        webhook(endpointId),
        webhookDelivery(deliveryId ?? -1),
      ])
      const endpoint = entry.value
      if (!endpoint) return null
      const health = healthAfter(endpoint, attempt.outcome === 'delivered', attempt.at)
      const op = this.#kv.atomic().check(entry, delivery)
      let pending = endpoint.pending
      const r = delivery.value
      if (r && r.endpointId === endpointId) {
        op.delete(dueKey(r))
        if (attempt.outcome === 'retrying') {
          const next = {
            ...r,
            attempts: r.attempts + 1,
            nextAttemptAt: attempt.nextRetryAt ?? attempt.at,
            leaseUntil: null,
          }
          op.set(webhookDelivery(r.id), next).set(dueKey(next), r.id)
        } else {
          op.delete(webhookDelivery(r.id))
          pending--
        }
      }
      const { newlyDisabled, ...kept } = health
      op.set(webhook(endpointId), { ...endpoint, ...kept, lastDelivery: stored, pending })
      // Attempts are ordered by time, then by a random tiebreak.
      op.set(
        webhookAttempt(endpointId, attempt.at * 1000 + Math.floor(Math.random() * 1000)),
        stored
      )
      return (await op.commit()).ok ? { disabled: newlyDisabled } : CONFLICT
    })
    if (result) {
      const old = await collect(
        this.#kv.list({ prefix: ['webhook_attempt', endpointId] }, { reverse: true })
      )
      await deleteKeys(
        this.#kv,
        old.slice(ATTEMPT_LOG).map((e) => e.key)
      )
    }
    return result
  }

  async attempts(endpointId: string, limit: number): Promise<WebhookAttempt[]> {
    const listed = this.#kv.list<WebhookAttempt>(
      { prefix: ['webhook_attempt', endpointId] },
      { reverse: true, limit }
    )
    return (await collect(listed)).map((e) => e.value)
  }

  async nextDueAt(): Promise<number | null> {
    const [first] = await this.#due(Number.MAX_SAFE_INTEGER - 1, 1)
    return first?.at ?? null
  }
}
