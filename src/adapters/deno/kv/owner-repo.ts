/**
 * @module adapters/deno/kv/owner-repo
 * The owner's sessions and failed sign-ins in Deno KV.
 */

import type { OwnerRepo } from '../../../core/owner/repo.ts'
import {
  lockedFor,
  MAX_SESSIONS,
  SIGN_IN_WINDOW_MS,
  withFailure,
} from '../../../core/owner/sign-in-rules.ts'
import { failuresOf, session } from './keys.ts'
import { CONFLICT, collect, expiresIn, kvDelete, transact } from './transact.ts'

/**
 * Sessions and failed sign-ins. Both expire by themselves (`expireIn`): a session at its end,
 * a client's failures a window after the last one, so KV keeps only clients that failed within
 * the last SIGN_IN_WINDOW_MS, however many networks an attacker uses.
 */
export class KvOwnerRepo implements OwnerRepo {
  readonly #kv: Deno.Kv
  constructor(kv: Deno.Kv) {
    this.#kv = kv
  }

  async addSession(id: string, expiresAt: number, now: number): Promise<void> {
    // Sessions are few (only the owner opens one): a scan is cheap.
    const live = await collect(this.#kv.list<number>({ prefix: ['owner_session'] }))
    live.sort((a, b) => a.value - b.value)
    const ended = live.filter((e, i) => e.value <= now || i <= live.length - MAX_SESSIONS)
    for (const { key } of ended) await kvDelete(this.#kv, key)
    await transact(async () => {
      await this.#kv.set(session(id), expiresAt, expiresIn(expiresAt - now))
    })
  }

  async hasSession(id: string, now: number): Promise<boolean> {
    const expiresAt = (await this.#kv.get<number>(session(id))).value
    return expiresAt !== null && expiresAt > now
  }

  removeSession(id: string): Promise<void> {
    return kvDelete(this.#kv, session(id))
  }

  /** Check-and-set: of concurrent failures on any instances, each is counted exactly once. */
  countSignInFailure(client: string, now: number): Promise<number> {
    return transact(async () => {
      const entry = await this.#kv.get<number[]>(failuresOf(client))
      const failures = entry.value ?? []
      const wait = lockedFor(failures, now)
      if (wait > 0) return wait
      const committed = await this.#kv
        .atomic()
        .check(entry)
        .set(failuresOf(client), withFailure(failures, now), expiresIn(SIGN_IN_WINDOW_MS))
        .commit()
      return committed.ok ? 0 : CONFLICT
    })
  }

  async signInLockout(client: string, now: number): Promise<number> {
    return lockedFor((await this.#kv.get<number[]>(failuresOf(client))).value ?? [], now)
  }
}
