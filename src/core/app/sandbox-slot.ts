/**
 * @module core/app/sandbox-slot
 * The interface of the optional built-in sandbox, as the app and the relay service use it. Only
 * the local entries pass an implementation (src/sandbox/), so the core imports no sandbox code and
 * the deployed bundle contains none.
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
