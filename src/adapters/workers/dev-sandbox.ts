/**
 * @module adapters/workers/dev-sandbox
 * The built-in sandbox for this isolate's Worker and Durable Object: none when deployed. Only the
 * local entry (src/worker-sandbox.ts) sets it, so the deployed bundle contains no sandbox code.
 */
import type { SandboxKit } from '../../core/app/sandbox-slot.ts'

export const devSandbox: { kit: SandboxKit | undefined } = { kit: undefined }
