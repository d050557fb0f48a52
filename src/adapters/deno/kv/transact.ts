/**
 * @module adapters/deno/kv/transact
 * Helpers every KV repo shares. Several instances may share one KV, so each read-modify-write is an
 * optimistic transaction (`transact`): read with versionstamps, commit with `check`s, retry on
 * conflict.
 */

import type { Tally } from '../../../core/metrics/metrics.ts'

/** Returned by a transaction body whose commit lost a race: run it again on fresh reads. */
export const CONFLICT = Symbol('conflict')
const MAX_ATTEMPTS = 100

/**
 * Runs `body` until it commits. Each run re-reads what it checks, so a retry acts on the state
 * that won; a short random pause after a few losses keeps contending instances from lockstep.
 */
export async function transact<T>(body: () => Promise<T | typeof CONFLICT>): Promise<T> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    let result: T | typeof CONFLICT
    try {
      result = await body()
    } catch (err) {
      if (!isBusy(err)) throw err
      result = CONFLICT
    }
    if (result !== CONFLICT) return result
    if (attempt > 2) await new Promise((r) => setTimeout(r, Math.random() * 5 * attempt))
  }
  throw new Error(`Deno KV: no commit after ${MAX_ATTEMPTS} attempts (heavy contention)`)
}

/**
 * A local KV file shared by several processes (or handles) is one SQLite database: when two
 * checked commits race, the loser gets "database is locked" instead of `ok: false`. Nothing was
 * written, so it is the same lost race, and the same retry on fresh reads is the answer.
 */
function isBusy(err: unknown): boolean {
  return /database is locked|SQLITE_BUSY/i.test(String(err))
}

/** A plain write, retried like a transaction if the shared SQLite file is busy. */
export function kvSet(kv: Deno.Kv, key: Deno.KvKey, value: unknown): Promise<void> {
  return transact(async () => {
    await kv.set(key, value)
  })
}

export function kvDelete(kv: Deno.Kv, key: Deno.KvKey): Promise<void> {
  return transact(() => kv.delete(key))
}

/**
 * Adds a tally (metrics.ts) to `op`: a sum into each count's hour key (conflict-free, so no check
 * and no retry for them) and the activity lines, linked to `signup` (the outbox item whose
 * commit this is; null: none), in the commit of the event they count.
 */
export function addTally(
  op: Deno.AtomicOperation,
  tally: Tally | undefined,
  signup: number | null = null
): Deno.AtomicOperation {
  if (!tally) return op
  for (const c of tally.counts) op.sum(['metrics', c.hour, c.form, c.name], BigInt(c.n))
  // The line's index in the tally orders two lines of one moment as they happened.
  for (const [i, a] of tally.activity.entries()) {
    op.set(['activity', a.at, `${i}:${crypto.randomUUID()}`], { ...a, signup })
  }
  return op
}

/** Deletes `keys`, a hundred per commit. */
export async function deleteKeys(kv: Deno.Kv, keys: Deno.KvKey[]): Promise<void> {
  for (let i = 0; i < keys.length; i += 100) {
    await transact(async () => {
      const op = kv.atomic()
      for (const key of keys.slice(i, i + 100)) op.delete(key)
      return (await op.commit()).ok ? undefined : CONFLICT
    })
  }
}

export async function collect<T>(iter: Deno.KvListIterator<T>): Promise<Deno.KvEntry<T>[]> {
  const out: Deno.KvEntry<T>[] = []
  for await (const entry of iter) out.push(entry)
  return out
}

/**
 * The `expireIn` option of a write that should lapse `ms` from now. Deno KV takes a whole,
 * positive number of milliseconds and throws on anything else, and the times it is computed from
 * need not be whole: a client's budget refills every 60,000 / SUBMIT_RATE_LIMIT_PER_MINUTE ms
 * (1,333.3… at 45). Rounded up, so an entry never lapses before the moment it stands for.
 */
export function expiresIn(ms: number): { expireIn: number } {
  return { expireIn: Math.max(1, Math.ceil(ms)) }
}
