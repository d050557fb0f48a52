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
  /** Deletes or restores one of the account's lists, as the owner would in CC. */
  setListDeleted(listId: string, deleted: boolean): Promise<void>
  view(): Promise<SandboxView>
}

/** One record the sandbox keeps: a value (JSON-like) under its kind and id. */
export interface SandboxRecord {
  kind: string
  id: string
  value: unknown
}

/**
 * Where the sandbox keeps what must outlive its isolate (contacts, deleted lists, made tags):
 * the Durable Object's storage on Workers, Deno KV on Deno. Records are only ever overwritten.
 */
export interface SandboxStorage {
  /** Every record of one kind. */
  records(kind: string): Promise<SandboxRecord[]>
  put(records: SandboxRecord[]): Promise<void>
}

/** What the sandbox's pages at /__sandbox need from the app. */
export interface SandboxDeps {
  backend: () => RelayBackend
  now: () => number
  ownerOnly: MiddlewareHandler<AppEnv>
}

/** The built-in sandbox: the model of Constant Contact and its pages. */
export interface SandboxKit {
  model(options: { clock: Clock; tokenTtlSeconds: number; storage: SandboxStorage }): SandboxModel
  routes(deps: SandboxDeps): Hono<AppEnv>
}

/** The sandbox as the relay service holds it: the kit, and where its model keeps its records. */
export interface ServiceSandbox {
  kit: SandboxKit
  storage: SandboxStorage
}
