/**
 * @module core/alerts/alert-coalescing
 * Coalesces the owner's alerts: at most one of a kind (an `event`) per 15 minutes. One that comes
 * sooner is held back and counted; the next one of its kind to go out carries the count
 * (`suppressed`), and if none comes, the cron sends the latest held one once the window is over,
 * so a burst that stops is still reported. The records are stored (AlertRepo), so a restart of
 * the Durable Object neither forgets what it held nor lets a burst through again; on Deno the
 * instances share them. The rule itself is store-rules.ts `coalesce` / `releaseHeld`.
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
