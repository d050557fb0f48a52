/**
 * @module core/outbox/drain
 * Delivers the outbox; nothing accepted is lost. A wake-up (the Durable Object's alarm on Workers,
 * with the cron as backup) leases due items as pacing slots allow, sends them, and deletes or
 * reschedules each (retry-plan.ts). Delivery is at least once: a crash mid-send makes the item due
 * again after its lease, and sign_up_form is an upsert by email, so a repeat is harmless.
 * `throttled` pauses briefly; `quota_exceeded` holds the outbox until midnight UTC; needs_reauth
 * and CC's account-wide 403 hold it until the owner reconnects. A sign-up CC refuses for good
 * becomes a dead letter, with an alert. The taggings delivered sign-ups leave (core/tagging/) go
 * out in the same drain, but only when no sign-up is due: they never hold a sign-up back. Each
 * delivery and dead letter is also a webhook event (core/webhooks/), queued in one write.
 */
import type { Alert } from '../alerts/alert-webhook.ts'
import type { Config } from '../app/config.ts'
import { type CcApi, SEND_TIMEOUT_MS } from '../cc/api.ts'
import { type CcOutcome, signupRequest } from '../cc/client.ts'
import { SLOWEST_REFRESH_MS } from '../connection/connection.ts'
import type { Clock } from '../lib/clock.ts'
import { type EventOutcome, type MetricEvent, signupEvent, type Tally } from '../metrics/metrics.ts'
import { ccReason } from '../metrics/signups.ts'
import { contactToTag, type Tagging } from '../tagging/tagging.ts'
import {
  backlogRecovered,
  type Emit,
  signupDeadLettered,
  signupDelivered,
} from '../webhooks/events.ts'
import type { DeadOutboxItem, OutboxItem, OutboxRepo, Revival } from './repo.ts'
import { isRetry, parksForOwner, retryPlan, retryReason } from './retry-plan.ts'

export interface DeliveryDeps {
  repo: OutboxRepo
  api: CcApi
  config: () => Config
  clock: Clock
  alert: (alert: Alert) => Promise<unknown>
  /** Asks the runtime to call drain() at `at` (a Durable Object alarm on Workers). */
  wake: (at: number) => Promise<void>
  /** The tally of `events`, for the write of the event they count (metrics.ts). */
  tally: (events: MetricEvent[]) => Tally
  /** CC answered 403 to a sign-up sent with `accessToken`: the connection parks (needs_reauth). */
  forbidden: (accessToken: string, message: string) => Promise<void>
  /** The taggings of delivered sign-ups, sent when no sign-up is due. */
  tagging: Tagging
  /** Queues a webhook event (core/webhooks/): one write, never a wait on a receiver. */
  emit: Emit
}

/**
 * Outlives the slowest attempt (a refresh of 3 × (1.1 s + 30 s), a 10 s send, a 401, another
 * refresh and send: about 207 s), with half a minute to spare, so only a crash lets a lease
 * lapse; a new Durable Object instance releases its predecessor's leases at once
 * (adapters/workers/sqlite/migrations.ts `migrate`).
 */
export const LEASE_MS = 2 * (SLOWEST_REFRESH_MS + SEND_TIMEOUT_MS) + 30_000
const DRAIN_BUDGET_MS = 25_000
/** Waits for a pacing slot longer than this end the drain; a wake-up is set for the slot. */
const MAX_SLOT_WAIT_MS = 2_000

/**
 * Stores a dead letter (from the queue, or straight from an inline send), counting `events` in
 * the same write, and tells the owner.
 */
export async function recordDeadLetter(
  deps: Pick<DeliveryDeps, 'repo' | 'alert' | 'tally' | 'emit'>,
  item: DeadOutboxItem,
  outcome: Extract<CcOutcome, { kind: 'dead' }>,
  now: number,
  events: MetricEvent[]
): Promise<void> {
  const error = {
    status: outcome.status,
    errorKey: outcome.errorKey,
    message: outcome.message,
    at: now,
  }
  await deps.repo.kill(item, error, now, deps.tally(events))
  console.log(
    JSON.stringify({
      msg: 'dead_letter',
      form: item.formId,
      cc_status: outcome.status,
      error_key: outcome.errorKey,
    })
  )
  const code = outcome.errorKey
  await deps.emit(signupDeadLettered(item, { code, message: outcome.message }, now))
  await deps.alert({
    event: 'dead_letter',
    state: 'dead_letter',
    reason: {
      code: outcome.errorKey,
      message: `Constant Contact answered ${outcome.status} for a sign-up to form "${item.formId}": ${outcome.message}`,
    },
    at: new Date(now).toISOString(),
  })
}

/** What the owner reads (status, alert) when CC answers 403 to a sign-up. */
export function forbiddenMessage(ccMessage: string): string {
  return `Constant Contact answered 403${ccMessage ? ` (${ccMessage})` : ''}: a missing scope or privilege, or a deactivated app. Sign-ups wait for a reconnect.`
}

/** Checks the backlog alarm (store-rules.ts `backlogAlarm`) and alerts a new crossing. */
export async function watchBacklog(
  deps: Pick<DeliveryDeps, 'repo' | 'config' | 'clock' | 'alert' | 'emit'>
): Promise<void> {
  const cap = deps.config().OUTBOX_MAX_PENDING
  const alarm = await deps.repo.backlogAlarm(cap)
  if (alarm.recovered) await deps.emit(backlogRecovered(alarm.pending, cap, deps.clock.now()))
  if (alarm.crossed === null) return
  await deps.alert({
    event: 'backlog',
    state: 'backlog',
    reason: {
      code: `backlog_${alarm.crossed}`,
      message: `${alarm.pending} sign-ups waiting: ${alarm.crossed} % of OUTBOX_MAX_PENDING (${cap})`,
    },
    at: new Date(deps.clock.now()).toISOString(),
  })
}

export class Delivery {
  readonly #deps: DeliveryDeps
  #draining: Promise<number> | null = null

  constructor(deps: DeliveryDeps) {
    this.#deps = deps
  }

  /** Sends what is due, within the pace, for up to DRAIN_BUDGET_MS; then schedules the next wake. */
  drain(): Promise<number> {
    if (!this.#draining) {
      this.#draining = this.#drain().finally(() => {
        this.#draining = null
      })
    }
    return this.#draining
  }

  /**
   * The owner's Retry: dead letters back to the queue, as many as `maxBacklog` leaves room for
   * (the rest stay dead letters, counted in `waiting`), then deliver.
   */
  async retryDead(id: number | 'all', maxBacklog: number): Promise<Revival> {
    const now = this.#deps.clock.now()
    const revival = await this.#deps.repo.revive(id, now, maxBacklog)
    if (revival.revived > 0) {
      await watchBacklog(this.#deps)
      await this.#deps.wake(now)
    }
    return revival
  }

  /** Dead letters (of both kinds) past DEAD_LETTER_RETENTION_DAYS go; returns how many. */
  async purge(): Promise<number> {
    const days = this.#deps.config().DEAD_LETTER_RETENTION_DAYS
    const before = this.#deps.clock.now() - days * 86_400_000
    const signups = await this.#deps.repo.purgeDead(before)
    return signups + (await this.#deps.tagging.purgeDead(before))
  }

  async #drain(): Promise<number> {
    const { clock, api, repo } = this.#deps
    const started = clock.now()
    let sent = 0
    let parkedForAuth = false
    while (clock.now() - started < DRAIN_BUDGET_MS) {
      const now = clock.now()
      if ((await api.blockedUntil(now)) > now) break
      // Waiting for the owner: nothing is claimed (a parked backlog costs a drain nothing).
      if (await api.waitsForOwner()) {
        parkedForAuth = true
        break
      }
      const slots = await api.availableSlots(now)
      if (slots === 0) {
        const wait = (await api.nextSlotAt(now)) - now
        if (wait > MAX_SLOT_WAIT_MS) break
        await clock.sleep(wait)
        continue
      }
      const items = await repo.claimDue(now, slots, now + LEASE_MS)
      if (items.length === 0) {
        // No sign-up is due: one tagging call, then the loop looks for sign-ups again.
        const tagged = await this.#deps.tagging.sendDue(now + LEASE_MS)
        if (tagged === 'none') break
        if (tagged === 'parked') {
          parkedForAuth = true
          break
        }
        continue
      }
      const outcomes = await Promise.all(items.map((item) => this.#deliverQueued(item)))
      sent += outcomes.filter((o) => o === 'delivered').length
      if (outcomes.includes('parked')) {
        parkedForAuth = true
        break
      }
    }
    // Parked for a reconnect: no wake-ups (no attempts are burned); reconnecting wakes us.
    if (!parkedForAuth) await this.#scheduleWake()
    // Deliveries lower the backlog: below a quarter of the cap its alarm re-arms.
    await watchBacklog(this.#deps)
    return sent
  }

  async #deliverQueued(item: OutboxItem): Promise<'delivered' | 'parked' | 'later'> {
    const { repo, clock } = this.#deps
    const apiBase = this.#deps.config().CC_API_BASE_URL
    const attempt = await this.#deps.api.call((token) =>
      signupRequest(apiBase, token, item.payload)
    )
    const now = clock.now()
    const result = attempt.kind === 'answered' ? attempt.outcome : attempt
    const event = (outcome: EventOutcome, more?: { latencyMs?: number; reason?: string }) =>
      signupEvent(item.formId, outcome, now, item.payload.email_address, more)
    if (result.kind === 'delivered') {
      const tally = this.#deps.tally([event('delivered', { latencyMs: now - item.createdAt })])
      await repo.delivered(item.id, now, tally, contactToTag(item, result.contactId))
      await this.#deps.emit(signupDelivered(item, result, item.createdAt, now))
      return 'delivered'
    }
    if (result.kind === 'dead') {
      const reason = ccReason(result.status, result.errorKey)
      await recordDeadLetter(this.#deps, item, result, now, [event('dead_lettered', { reason })])
      return 'later'
    }
    if (attempt.kind === 'answered' && result.kind === 'forbidden')
      await this.#deps.forbidden(attempt.accessToken, forbiddenMessage(result.message))
    const { nextAttemptAt, attempts, error } = retryPlan(result, item.attempts, now)
    const retried = isRetry(result)
      ? this.#deps.tally([event('retried', { reason: retryReason(result) })])
      : undefined
    await repo.reschedule(item.id, nextAttemptAt, attempts, error, retried)
    return parksForOwner(result) ? 'parked' : 'later'
  }

  async #scheduleWake() {
    const due = [await this.#deps.repo.nextDueAt(), await this.#deps.tagging.nextDueAt()]
    const times = due.filter((at) => at !== null)
    if (times.length === 0) return
    const next = Math.min(...times)
    const now = this.#deps.clock.now()
    const api = this.#deps.api
    await this.#deps.wake(Math.max(next, await api.blockedUntil(now), await api.nextSlotAt(now)))
  }
}
