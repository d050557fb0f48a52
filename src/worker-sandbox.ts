/**
 * @module worker-sandbox
 * The local Workers entry: src/worker.ts plus the built-in sandbox (src/core/sandbox-kit.ts).
 * `npm start` and the sandbox tests run this one; `wrangler deploy` bundles src/worker.ts, which
 * refuses CTCT_SANDBOX (403 sandbox_forbidden) because it has no sandbox to run.
 */

import { devSandbox } from './adapters/workers/dev-sandbox.ts'
import { sandboxKit } from './sandbox/kit.ts'

devSandbox.kit = sandboxKit

export { default, Relay } from './worker.ts'
