/**
 * @module adapters/deno/kv/auth-state-repo
 * OAuth states in Deno KV: each is claimed once, even when instances race for it.
 */

import type {
  AuthStateRepo,
  ClaimResult,
  PendingAuthorization,
} from '../../../core/connection/repo.ts'
import {
  claimVerdict,
  type StoredState,
  stateRetentionCutoff,
} from '../../../core/relay/store-rules.ts'
import { CONFLICT, kvDelete, transact } from './transact.ts'

export class KvAuthStateRepo implements AuthStateRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  async put(p: PendingAuthorization): Promise<void> {
    // The same purge as SQL (states are few: one per Connect click). Deleting a state that
    // another instance is claiming is harmless: it is over a day past its expiry either way.
    const cutoff = stateRetentionCutoff(p.expiresAt)
    for await (const entry of this.#kv.list<StoredState>({ prefix: ['oauth_state'] })) {
      if (entry.value.expiresAt < cutoff) await kvDelete(this.#kv, entry.key)
    }
    const key = ['oauth_state', p.state]
    const stored: StoredState = {
      redirectUri: p.redirectUri,
      codeVerifier: p.codeVerifier,
      expiresAt: p.expiresAt,
      usedAt: null,
    }
    await transact(async () => {
      const entry = await this.#kv.get(key)
      // Never reset an issued state to unused: that would make a used one claimable again.
      if (entry.versionstamp !== null) throw new Error('This OAuth state was already issued')
      const committed = await this.#kv.atomic().check(entry).set(key, stored).commit()
      return committed.ok ? undefined : CONFLICT
    })
  }

  /** Used once, ever: of two concurrent claims (any instances), only one commit marks it used. */
  claim(state: string, now: number): Promise<ClaimResult> {
    const key = ['oauth_state', state]
    return transact(async () => {
      const entry = await this.#kv.get<StoredState>(key)
      const { result, markUsed } = claimVerdict(state, entry.value, now)
      if (!markUsed || !entry.value) return result
      const committed = await this.#kv
        .atomic()
        .check(entry)
        .set(key, { ...entry.value, usedAt: now } satisfies StoredState)
        .commit()
      return committed.ok ? result : CONFLICT
    })
  }
}
