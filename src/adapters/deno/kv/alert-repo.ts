/**
 * @module adapters/deno/kv/alert-repo
 * Alert coalescing records in Deno KV: when two instances alert at once, only one sends.
 */

import type { Alert } from '../../../core/alerts/alert-webhook.ts'
import type { AlertRecord, AlertRepo } from '../../../core/alerts/repo.ts'
import { coalesce, newAlertRecord, releaseHeld } from '../../../core/relay/store-rules.ts'
import { alertKey } from './keys.ts'
import { CONFLICT, collect, transact } from './transact.ts'

export class KvAlertRepo implements AlertRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  /** A check-and-set on the kind's record: of two instances alerting at once, one sends. */
  coalesce(alert: Alert, now: number): Promise<Alert | null> {
    return transact(async () => {
      const entry = await this.#kv.get<AlertRecord>(alertKey(alert.event))
      const { record, send } = coalesce(entry.value ?? newAlertRecord(alert.event), alert, now)
      const committed = await this.#kv
        .atomic()
        .check(entry)
        .set(alertKey(alert.event), record)
        .commit()
      return committed.ok ? send : CONFLICT
    })
  }

  async releaseHeld(now: number): Promise<Alert[]> {
    const out: Alert[] = []
    for (const { key } of await collect(this.#kv.list<AlertRecord>({ prefix: ['alerts'] }))) {
      const send = await transact(async () => {
        const entry = await this.#kv.get<AlertRecord>(key)
        const released = entry.value ? releaseHeld(entry.value, now) : null
        if (!released) return null
        const committed = await this.#kv.atomic().check(entry).set(key, released.record).commit()
        return committed.ok ? released.send : CONFLICT
      })
      if (send) out.push(send)
    }
    return out
  }

  async records(): Promise<AlertRecord[]> {
    return (await collect(this.#kv.list<AlertRecord>({ prefix: ['alerts'] }))).map((e) => e.value)
  }
}
