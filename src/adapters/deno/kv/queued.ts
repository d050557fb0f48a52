/**
 * @module adapters/deno/kv/queued
 * What the outbox and the tagging queue store alike in KV: a record per id, index entries that
 * follow its state, and running counts of pending and dead records, all written in one atomic
 * commit (store-rules.ts `countChange`). Each queue names its keys in a `QueueLayout`.
 */

import type { Tally } from '../../../core/metrics/metrics.ts'
import { countChange, type QueuedRecord } from '../../../core/relay/store-rules.ts'
import type { Counted } from './keys.ts'
import { addTally, CONFLICT, transact } from './transact.ts'

/** A queue's keys: its records, the index entries a record owns in its state, its counts. */
export interface QueueLayout<R extends QueuedRecord & { id: number }> {
  item(id: number): Deno.KvKey
  indexes(record: R): { key: Deno.KvKey; value: unknown }[]
  count(status: Counted, way: 'in' | 'out'): Deno.KvKey
}

/** Adds to `op` the writes that turn `before` into `after` (null: absent), indexes included. */
export function writeRecord<R extends QueuedRecord & { id: number }>(
  layout: QueueLayout<R>,
  op: Deno.AtomicOperation,
  before: R | null,
  after: R | null
): Deno.AtomicOperation {
  // Mutations apply in order, so deleting the old index entries first and then setting the new
  // ones is right even when a key is in both.
  if (before) for (const { key } of layout.indexes(before)) op.delete(key)
  if (after) {
    op.set(layout.item(after.id), after)
    for (const { key, value } of layout.indexes(after)) op.set(key, value)
  } else if (before) {
    op.delete(layout.item(before.id))
  }
  const change = countChange(before, after)
  for (const status of ['pending', 'dead'] as const) {
    const n = change[status]
    if (n !== 0) op.sum(layout.count(status, n > 0 ? 'in' : 'out'), BigInt(Math.abs(n)))
  }
  return op
}

/** The running counts as stored: what came in minus what went out, per status. */
export async function readCounts<R extends QueuedRecord & { id: number }>(
  kv: Deno.Kv,
  layout: QueueLayout<R>
): Promise<{ pending: number; dead: number }> {
  const keys = (['pending', 'dead'] as const).flatMap((status) => [
    layout.count(status, 'in'),
    layout.count(status, 'out'),
  ])
  const [pendingIn, pendingOut, deadIn, deadOut] = (await kv.getMany<Deno.KvU64[]>(keys)).map(
    (entry) => Number(entry.value?.value ?? 0n)
  )
  // Never below zero, even if an older instance wrote while a migration counted.
  return {
    pending: Math.max(0, pendingIn - pendingOut),
    dead: Math.max(0, deadIn - deadOut),
  }
}

/** Read-modify-write of one record; `change` returns null to leave it alone. */
export function updateRecord<R extends QueuedRecord & { id: number }>(
  kv: Deno.Kv,
  layout: QueueLayout<R>,
  id: number,
  change: (r: R) => R | null,
  tally?: Tally
): Promise<R | null> {
  return transact(async () => {
    const entry = await kv.get<R>(layout.item(id))
    if (!entry.value) return null
    const next = change(entry.value)
    if (!next) return null
    const op = addTally(kv.atomic().check(entry), tally, id)
    const committed = await writeRecord(layout, op, entry.value, next).commit()
    return committed.ok ? next : CONFLICT
  })
}
