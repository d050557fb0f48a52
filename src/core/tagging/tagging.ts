/**
 * @module core/tagging/tagging
 * Adds each form's tags to the contacts its sign-ups created. sign_up_form takes no tags, so a
 * delivered sign-up of a tagged form leaves pending taggings (written with the delivery), and the
 * drain sends them through the same `CcApi` as sign-ups (pacer, quota, refresh): the taggings of
 * one tag set together, up to 500 contacts a call, after a short gathering delay
 * (queue-rules.ts). CC's refusal (a 400: a tag deleted in CC) makes dead letters of kind
 * "tagging" with an alert; anything else is retried as a sign-up would be (retry-plan.ts).
 */
import type { Alert } from '../alerts/alert-webhook.ts'
import type { Config } from '../app/config.ts'
import type { CcApi } from '../cc/api.ts'
import { type CcOutcome, taggingRequest } from '../cc/client.ts'
import type { Clock } from '../lib/clock.ts'
import { maskEmail } from '../lib/mask-email.ts'
import type { ContactToTag } from '../outbox/repo.ts'
import { parksForOwner, retryPlan } from '../outbox/retry-plan.ts'
import type { SignupFormBody } from '../signup/validate-signup.ts'
import { CONTACTS_PER_TAGGING, TAGGING_GATHER_MS } from './queue-rules.ts'
import type { TaggingBatch, TaggingDeadLetter, TaggingRepo } from './repo.ts'

export interface TaggingDeps {
  repo: TaggingRepo
  api: CcApi
  config: () => Config
  clock: Clock
  alert: (alert: Alert) => Promise<unknown>
  /** Asks the runtime to drain at `at` (taggings go out with the outbox). */
  wake: (at: number) => Promise<void>
  /** CC answered 403 to a call sent with `accessToken`: the connection parks (needs_reauth). */
  forbidden: (accessToken: string, message: string) => Promise<void>
}

/**
 * What a sign-up delivered as contact `contactId` leaves to tag: nothing when its form has no
 * tags. CC always names the contact (docs/constant-contact.md §6); an answer that does not is
 * logged, as there is nothing to tag it by.
 */
export function contactToTag(
  signup: { formId: string; payload: SignupFormBody; tags?: string[] },
  contactId: string | undefined
): ContactToTag | undefined {
  if (!signup.tags?.length) return undefined
  if (!contactId) {
    console.log(JSON.stringify({ msg: 'tagging_skipped', form: signup.formId }))
    return undefined
  }
  return {
    formId: signup.formId,
    contactId,
    tagIds: signup.tags,
    emailMasked: maskEmail(signup.payload.email_address),
  }
}

/** When a tagging recorded at `now` is due: the drain's wake-up for it. */
export function taggingDueAfter(now: number): number {
  return now + TAGGING_GATHER_MS
}

export class Tagging {
  readonly #deps: TaggingDeps

  constructor(deps: TaggingDeps) {
    this.#deps = deps
  }

  /**
   * Sends the batch of the earliest due tagging, leased until `leaseUntil`: `none` when nothing
   * is due, `parked` when it waits for the owner (no token, or CC's account-wide 403).
   */
  async sendDue(leaseUntil: number): Promise<'tried' | 'parked' | 'none'> {
    const { repo, clock, api } = this.#deps
    const now = clock.now()
    const batch = await repo.claimBatch(
      now,
      now + TAGGING_GATHER_MS,
      leaseUntil,
      CONTACTS_PER_TAGGING
    )
    if (!batch) return 'none'
    const ids = batch.items.map((item) => item.id)
    const apiBase = this.#deps.config().CC_API_BASE_URL
    const contactIds = batch.items.map((item) => item.contactId)
    const attempt = await api.call((token) =>
      taggingRequest(apiBase, token, { contactIds, tagIds: batch.tagIds })
    )
    const at = clock.now()
    const result = attempt.kind === 'answered' ? attempt.outcome : attempt
    if (result.kind === 'delivered') {
      await repo.applied(ids)
      return 'tried'
    }
    if (result.kind === 'dead') {
      await this.#refused(batch, result, at)
      return 'tried'
    }
    if (attempt.kind === 'answered' && result.kind === 'forbidden') {
      const detail = result.message ? ` (${result.message})` : ''
      await this.#deps.forbidden(
        attempt.accessToken,
        `Constant Contact answered 403 to a tagging${detail}: a missing scope or privilege, or a deactivated app. Sign-ups and taggings wait for a reconnect.`
      )
    }
    // One batch, one answer: its taggings are tried again together, as late as the most tried.
    const tried = Math.max(...batch.items.map((item) => item.attempts))
    const plan = retryPlan(result, tried, at)
    await repo.reschedule(ids, plan.nextAttemptAt, plan.attempts, plan.error)
    return parksForOwner(result) ? 'parked' : 'tried'
  }

  nextDueAt(): Promise<number | null> {
    return this.#deps.repo.nextDueAt()
  }

  deadLetters(limit: number): Promise<TaggingDeadLetter[]> {
    return this.#deps.repo.deadLetters(limit)
  }

  /** The owner's Retry: taggings are not sign-ups, so no backlog cap holds them back. */
  async retryDead(id: number | 'all'): Promise<number> {
    const now = this.#deps.clock.now()
    const revived = await this.#deps.repo.revive(id, now)
    if (revived > 0) await this.#deps.wake(now)
    return revived
  }

  removeDead(id: number): Promise<boolean> {
    return this.#deps.repo.removeDead(id)
  }

  purgeDead(before: number): Promise<number> {
    return this.#deps.repo.purgeDead(before)
  }

  /** Resending the same tags cannot help: dead letters, one per contact, and one alert. */
  async #refused(
    batch: TaggingBatch,
    outcome: Extract<CcOutcome, { kind: 'dead' }>,
    at: number
  ): Promise<void> {
    const { status, errorKey, message } = outcome
    await this.#deps.repo.kill(
      batch.items.map((item) => item.id),
      { status, errorKey, message, at },
      at
    )
    const forms = [...new Set(batch.items.map((item) => item.formId))]
    console.log(
      JSON.stringify({
        msg: 'tagging_dead_letter',
        forms,
        contacts: batch.items.length,
        cc_status: status,
        error_key: errorKey,
      })
    )
    await this.#deps.alert({
      event: 'tagging_dead_letter',
      state: 'dead_letter',
      reason: {
        code: errorKey,
        message: `Constant Contact answered ${status} to adding the tags ${batch.tagIds.join(', ')} of form(s) ${forms.map((f) => `"${f}"`).join(', ')} to ${batch.items.length} contact(s): ${message}`,
      },
      at: new Date(at).toISOString(),
    })
  }
}
