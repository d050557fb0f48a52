/**
 * @module adapters/workers/dev-sandbox
 * The built-in sandbox for this isolate's Worker and Durable Object, with the storage its model
 * keeps its records in: none when deployed. Only the local entry (src/worker-sandbox.ts) sets
 * them, so the deployed bundle contains no sandbox code.
 */
import type { SandboxKit, SandboxStorage } from '../../core/app/sandbox-slot.ts'

export const devSandbox: {
  kit: SandboxKit | undefined
  storage: ((storage: DurableObjectStorage) => SandboxStorage) | undefined
} = { kit: undefined, storage: undefined }
