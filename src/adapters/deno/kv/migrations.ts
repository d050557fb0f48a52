/**
 * @module adapters/deno/kv/migrations
 * The KV key layout's migrations, in order, and `migrate`, which src/deno.ts runs before serving
 * (docs/deno.md, "Migrations").
 */

import type { OutboxRecord } from '../../../core/relay/store-rules.ts'
import { count, VERSION } from './keys.ts'
import { CONFLICT, transact } from './transact.ts'

/**
 * The key layout, one entry per version: migration n takes the store from version n - 1 to n.
 * Each adds its writes to the atomic operation that also bumps ['schema_version'], checked
 * against the version it read, so when several instances start at once exactly one runs each
 * migration and the others see it done. To change the layout, append a migration here (and
 * document it in docs/deno.md); never edit one that has shipped.
 */
const MIGRATIONS: readonly ((kv: Deno.Kv, op: Deno.AtomicOperation) => Promise<void>)[] = [
  // 1: the keys as they were before versioning (listed above): adopted as they are.
  async () => {},
  // 2: nothing here (SQLite's 2 rebuilt an index KV never had); kept so both stores count alike.
  async () => {},
  // 3: the running counts and the ['outbox_since'] index of the items already stored. The index
  //    entries go one checked commit per item (an item that changed meanwhile is read again);
  //    the counts go in the migration's own commit. (Remembered sign-ups without a digest, and
  //    kinds of alert never sent, need nothing: they read as "unknown" and "none yet".)
  async (kv, op) => {
    const counts = { pending: 0, dead: 0 }
    for await (const listed of kv.list<OutboxRecord>({ prefix: ['outbox'] })) {
      const r = listed.value
      counts[r.status]++
      if (r.status !== 'pending') continue
      await transact(async () => {
        const entry = await kv.get<OutboxRecord>(listed.key)
        if (entry.value?.status !== 'pending') return undefined
        const committed = await kv
          .atomic()
          .check(entry)
          .set(['outbox_since', entry.value.createdAt, entry.value.id], 1)
          .commit()
        return committed.ok ? undefined : CONFLICT
      })
    }
    for (const status of ['pending', 'dead'] as const) {
      op.set(count(status, 'in'), new Deno.KvU64(BigInt(counts[status])))
      op.set(count(status, 'out'), new Deno.KvU64(0n))
    }
  },
]

/** The version `migrate` brings the store to. */
export const SCHEMA_VERSION = MIGRATIONS.length

/** Runs the pending migrations; call it once the KV is open, before serving. */
export async function migrate(kv: Deno.Kv): Promise<void> {
  let migrated = true
  while (migrated) {
    // One migration per commit; false once none is pending.
    migrated = await transact(async () => {
      const entry = await kv.get<number>(VERSION)
      const version = entry.value ?? 0
      if (version >= SCHEMA_VERSION) return false
      const op = kv
        .atomic()
        .check(entry)
        .set(VERSION, version + 1)
      await MIGRATIONS[version](kv, op)
      return (await op.commit()).ok ? true : CONFLICT
    })
  }
}
