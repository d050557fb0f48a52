/**
 * @module sandbox/kit
 * `sandboxKit`: the built-in sandbox bundled as one optional dependency: the model of Constant
 * Contact, kept in the runtime's storage (stored-sandbox.ts), and its pages at /__sandbox
 * (routes.tsx). Only the local entries import it, so the deployed Workers bundle contains no
 * stand-in for CC.
 */
import type { SandboxKit } from '../core/app/sandbox-slot.ts'
import { sandboxRoutes } from './routes.tsx'
import { StoredSandbox } from './stored-sandbox.ts'

export const sandboxKit: SandboxKit = {
  model: (options) => new StoredSandbox(options),
  routes: sandboxRoutes,
}
