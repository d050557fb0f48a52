/**
 * @module adapters/workers/dev-sandbox
 * The sandbox of this isolate's worker and its Relay object: none in a deployment. The local
 * entry (src/worker-sandbox.ts) installs it before the first request; src/worker.ts reads it when
 * it builds the app and the object, so the deployed bundle, which never imports the kit, has no
 * sandbox code in it.
 */
import type { SandboxKit } from '../../core/app/sandbox-slot.ts'

export const devSandbox: { kit: SandboxKit | undefined } = { kit: undefined }
