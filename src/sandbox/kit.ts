/**
 * @module sandbox/kit
 * `sandboxKit`: the built-in sandbox bundled as one optional dependency: the model of Constant
 * Contact (model.ts) and its pages at /__sandbox (routes.tsx). Only the local entries import it,
 * so the deployed Workers bundle contains no stand-in for CC.
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
