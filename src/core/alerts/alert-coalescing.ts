/**
 * @module core/alerts/alert-coalescing
 * At most one alert of a kind per 15 minutes. A later one is held back and counted; the next one
 * sent carries the count (`suppressed`); if none comes, the cron sends the latest held one when
 * the window ends. The records are stored, so a restart neither forgets them nor lets a burst
 * through again.
 */

import type { Clock } from '../lib/clock.ts'
import type { Alert } from './alert-webhook.ts'
import type { AlertRepo } from './repo.ts'

export interface AlertCoalescerDeps {
  repo: AlertRepo
  clock: Clock
  /** Delivers one alert (sendAlert: best effort, to ALERT_WEBHOOK_URL). */
  deliver: (alert: Alert) => Promise<unknown>
}

export class AlertCoalescer {
  readonly #deps: AlertCoalescerDeps

  constructor(deps: AlertCoalescerDeps) {
    this.#deps = deps
  }

  /** Sends `alert` now, with the count held back since the last of its kind, or holds it. */
  async send(alert: Alert): Promise<void> {
    const out = await this.#deps.repo.coalesce(alert, this.#deps.clock.now())
    if (out) await this.#deps.deliver(out)
  }

  /** The cron's part: sends what was held back in windows that are over. Returns how many. */
  async releaseHeld(): Promise<number> {
    const due = await this.#deps.repo.releaseHeld(this.#deps.clock.now())
    for (const alert of due) await this.#deps.deliver(alert)
    return due.length
  }
}
