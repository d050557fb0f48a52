/**
 * @module adapters/deno/kv/sandbox-storage
 * The sandbox's records (src/sandbox/stored-sandbox.ts) in Deno KV, under
 * `['sandbox', kind, id]` (docs/deno.md, "KV keys").
 */
import type { SandboxStorage } from '../../../core/app/sandbox-slot.ts'

export function kvSandboxStorage(kv: Deno.Kv): SandboxStorage {
  return {
    async records(kind) {
      const found = []
      for await (const entry of kv.list({ prefix: ['sandbox', kind] }))
        found.push({ kind, id: String(entry.key[2]), value: entry.value })
      return found
    },
    async put(records) {
      // One set each: a contact may be kilobytes, and a commit takes at most 800 KiB.
      for (const r of records) await kv.set(['sandbox', r.kind, r.id], r.value)
    },
  }
}
