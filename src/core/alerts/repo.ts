/**
 * @module core/alerts/repo
 * Storage interface for alert coalescing, one record per kind. Both adapters implement it
 * atomically; docs/storage.md describes what is kept.
 */
import type { Alert, AlertEvent } from './alert-webhook.ts'

/** One kind of alert's coalescing record (store-rules.ts `coalesce`). */
export interface AlertRecord {
  event: AlertEvent
  /** When the last alert of this kind was sent (null: none yet). */
  lastSentAt: number | null
  /** Alerts held back since then. */
  held: number
  /** The newest of them, sent (with the count) once the window ends if no other comes first. */
  latest: Alert | null
  /** Alerts of this kind held back, ever. */
  heldTotal: number
}

/** Coalescing state of the owner's alerts (docs/operations.md). Each method is atomic. */
export interface AlertRepo {
  /** Applies store-rules.ts `coalesce`: the alert to send now (with its count), or null: held. */
  coalesce(alert: Alert, now: number): Promise<Alert | null>
  /** Applies `releaseHeld` to every kind: the held alerts whose window is over, to send now. */
  releaseHeld(now: number): Promise<Alert[]>
  /** Every kind's record, for /admin. */
  records(): Promise<AlertRecord[]>
}
