/**
 * @module worker-sandbox
 * The local Workers entry: src/worker.ts plus the built-in sandbox (src/sandbox/kit.ts), for
 * `npm start` and the sandbox tests. `wrangler deploy` bundles src/worker.ts, which answers
 * CTCT_SANDBOX with 403 `sandbox_forbidden`.
 */

import { devSandbox } from './adapters/workers/dev-sandbox.ts'
import { durableSandboxStorage } from './adapters/workers/sandbox-storage.ts'
import { sandboxKit } from './sandbox/kit.ts'

devSandbox.kit = sandboxKit
devSandbox.storage = durableSandboxStorage

export { default, Relay } from './worker.ts'
