/**
 * @module core/app/sandbox-slot
 * The shape of the built-in sandbox, as the app and the relay service see it. The sandbox itself
 * (src/sandbox/) implements this and is handed in only by the local entries, so the core names
 * no sandbox module and the deployed bundle carries none.
 */
import type { MiddlewareHandler } from 'hono'
import type { Hono } from 'hono/tiny'
import type { Clock } from '../lib/clock.ts'
import type { RelayBackend, SandboxView } from '../relay/backend.ts'
import type { AppEnv } from './app-env.ts'

/** The sandbox's stand-in for Constant Contact, as the relay service uses it. */
export interface SandboxModel {
  handle(request: Request): Promise<Response>
  readonly deletedLists: Set<string>
  view(): SandboxView
}

/** What the sandbox's pages at /__sandbox need from the app. */
export interface SandboxDeps {
  backend: () => RelayBackend
  now: () => number
  ownerOnly: MiddlewareHandler<AppEnv>
}

/** The built-in sandbox: the model of Constant Contact and its pages. */
export interface SandboxKit {
  model(options: { clock: Clock; tokenTtlSeconds: number }): SandboxModel
  routes(deps: SandboxDeps): Hono<AppEnv>
}
