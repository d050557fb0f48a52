/**
 * @module adapters/workers/sandbox-storage
 * The sandbox's records (src/sandbox/stored-sandbox.ts) in the Durable Object's storage, through
 * its key-value API, under `sandbox/<kind>/<id>` (docs/storage.md). Only the local entry
 * (src/worker-sandbox.ts) imports it, so the deployed bundle has none of it.
 */
import type { SandboxRecord, SandboxStorage } from '../../core/app/sandbox-slot.ts'

/** The most keys one `put` takes. */
const PUT_MAX_KEYS = 128

export function durableSandboxStorage(storage: DurableObjectStorage): SandboxStorage {
  const prefix = (kind: string) => `sandbox/${kind}/`
  return {
    async records(kind) {
      const start = prefix(kind)
      const found = await storage.list({ prefix: start })
      return [...found].map(([key, value]) => ({ kind, id: key.slice(start.length), value }))
    },
    async put(records: SandboxRecord[]) {
      for (let i = 0; i < records.length; i += PUT_MAX_KEYS) {
        const entries = records
          .slice(i, i + PUT_MAX_KEYS)
          .map((r) => [prefix(r.kind) + r.id, r.value] as const)
        await storage.put(Object.fromEntries(entries))
      }
    },
  }
}
