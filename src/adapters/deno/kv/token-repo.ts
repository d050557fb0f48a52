/**
 * @module adapters/deno/kv/token-repo
 * The token set, the connection's history and the refresh lease shared across instances, in
 * Deno KV.
 */

import type { ConnectionHistoryEntry } from '../../../core/connection/history.ts'
import type { TokenRepo } from '../../../core/connection/repo.ts'
import { CONNECTION, LEASE } from './keys.ts'
import { CONFLICT, expiresIn, kvSet, transact } from './transact.ts'

interface Lease {
  holder: string
  until: number
}

export class KvTokenRepo implements TokenRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  async load(): Promise<unknown> {
    return (await this.#kv.get(CONNECTION)).value
  }

  async save(record: object, history?: ConnectionHistoryEntry): Promise<void> {
    if (!history) return kvSet(this.#kv, CONNECTION, record)
    const line = ['connection_history', history.at, crypto.randomUUID()]
    await transact(async () => {
      const op = this.#kv.atomic().set(CONNECTION, record).set(line, history)
      return (await op.commit()).ok ? undefined : CONFLICT
    })
  }

  /**
   * The cross-instance refresh lock. The check on the lease's versionstamp makes take-over
   * atomic: of two instances that both saw it free (or expired), exactly one commit succeeds.
   */
  acquireRefreshLease(holder: string, now: number, ttlMs: number): Promise<boolean> {
    return transact(async () => {
      const entry = await this.#kv.get<Lease>(LEASE)
      const lease = entry.value
      if (lease && lease.holder !== holder && lease.until > now) return false
      // `until` decides; expireIn only tidies up a lease whose holder died.
      const committed = await this.#kv
        .atomic()
        .check(entry)
        .set(LEASE, { holder, until: now + ttlMs } satisfies Lease, expiresIn(ttlMs))
        .commit()
      return committed.ok ? true : CONFLICT
    })
  }

  releaseRefreshLease(holder: string): Promise<void> {
    return transact(async () => {
      const entry = await this.#kv.get<Lease>(LEASE)
      // Expired and taken over meanwhile: that lease is someone else's now.
      if (entry.value?.holder !== holder) return undefined
      const committed = await this.#kv.atomic().check(entry).delete(LEASE).commit()
      return committed.ok ? undefined : CONFLICT
    })
  }
}
