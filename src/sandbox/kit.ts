/**
 * @module sandbox/kit
 * The built-in sandbox as one optional dependency: the model of Constant Contact that answers
 * the relay's CC traffic in-process (src/sandbox/model.ts), and its pages at /__sandbox
 * (src/sandbox/routes.tsx). The app and the service import only its type. The local entries carry
 * it (src/worker-sandbox.ts for `npm start` and the tests, src/deno.ts); the deployed Workers
 * bundle (src/worker.ts) does not, so it ships no stand-in for Constant Contact at all.
 */
import type { Hono } from 'hono/tiny'
import type { AppEnv } from '../core/app/app-env.ts'
import type { SandboxDeps } from '../core/app/sandbox-slot.ts'
import type { Clock } from '../core/lib/clock.ts'
import { CcModel } from './model.ts'
import { sandboxRoutes } from './routes.tsx'

export type SandboxModel = Pick<CcModel, 'handle' | 'deletedLists' | 'view'>

export interface SandboxKit {
  model(options: { clock: Clock; tokenTtlSeconds: number }): SandboxModel
  routes(deps: SandboxDeps): Hono<AppEnv>
}

export const sandboxKit: SandboxKit = {
  model: (options) => new CcModel(options),
  routes: sandboxRoutes,
}
