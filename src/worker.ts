/**
 * @module worker
 * The Cloudflare Workers entry: the `Relay` Durable Object (the single writer) and
 * `export default { fetch, scheduled }`. Everything else is in the runtime-agnostic core.
 */
import { DurableObject } from 'cloudflare:workers'
import { analyticsSink } from './adapters/workers/analytics.ts'
import { clock } from './adapters/workers/clock.ts'
import { devSandbox } from './adapters/workers/dev-sandbox.ts'
import { sqlStores } from './adapters/workers/sqlite/stores.ts'
import { createApp } from './core/app/app.ts'
import { configFrom } from './core/app/config.ts'
import type { PendingAuthorization } from './core/connection/repo.ts'
import type { Span, Tally } from './core/metrics/metrics.ts'
import type { ActivityFilter } from './core/metrics/repo.ts'
import type { Submission } from './core/outbox/submit.ts'
import { DeferredWrites } from './core/relay/after-answer.ts'
import type { DeadLetterKind, RelayBackend } from './core/relay/backend.ts'
import { RelayService } from './core/relay/relay-service.ts'

/** One deployment serves one CC account, so there is one Relay object. */
const RELAY_NAME = 'main'

/**
 * Every public method here is callable over RPC, so this class only forwards the `RelayBackend`
 * contract; the service and its helpers sit behind a #private field.
 */
export class Relay extends DurableObject<Env> implements RelayBackend {
  readonly #service: RelayService

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env)
    // Migrates the schema first, before any request reaches the object.
    const stores = sqlStores(ctx.storage)
    const config = () => configFrom(env as unknown as Record<string, unknown>)
    const { kit, storage } = devSandbox
    this.#service = new RelayService({
      ...stores,
      observe: analyticsSink(env),
      // One alarm per object: keep the earliest wake-up that is still in the future.
      wake: async (at) => {
        const current = await ctx.storage.getAlarm()
        if (current === null || current <= clock.now() || at < current) {
          await ctx.storage.setAlarm(at)
        }
      },
      config,
      fetch: (input, init) => fetch(input, init),
      clock,
      afterAnswer: new DeferredWrites(),
      // The sandbox's model lives here, the one writer, and keeps its records in this storage.
      sandbox: kit && storage && { kit, storage: storage(ctx.storage) },
    })
  }

  ownerAttempt(client: string, valid: boolean) {
    return this.#service.ownerAttempt(client, valid)
  }
  openSession(id: string, expiresAt: number) {
    return this.#service.openSession(id, expiresAt)
  }
  sessionLive(id: string) {
    return this.#service.sessionLive(id)
  }
  closeSession(id: string) {
    return this.#service.closeSession(id)
  }
  beginAuthorization(pending: PendingAuthorization) {
    return this.#service.beginAuthorization(pending)
  }
  completeAuthorization(input: {
    state: string
    code?: string
    error?: string
    description?: string
    iss?: string
  }) {
    return this.#service.completeAuthorization(input)
  }
  accessToken(options?: { rejected?: string }) {
    return this.#service.accessToken(options)
  }
  status() {
    return this.#service.status()
  }
  disconnect() {
    return this.#service.disconnect()
  }
  submit(submission: Submission & { revision?: number }) {
    return this.#together(() => this.#service.submit(submission))
  }

  #lastArrival = 0
  #waiting: (() => void)[] = []
  /**
   * Group commit. Outside a batch every SQLite write is its own implicit transaction, and that
   * commit is most of what a submission costs the object. Under load (another submission arrived
   * within 2 ms), a submission waits one timer tick and starts together with the others that
   * arrived meanwhile, in one synchronous block, so their writes share one commit. A lone
   * submission starts at once. (Real time on purpose: this is about the CPU, not policy.)
   */
  #together<T>(run: () => Promise<T>): Promise<T> {
    const now = Date.now()
    const quiet = now - this.#lastArrival >= 2
    this.#lastArrival = now
    if (quiet && this.#waiting.length === 0) return run()
    return new Promise<T>((resolve, reject) => {
      this.#waiting.push(() => run().then(resolve, reject))
      if (this.#waiting.length === 1) {
        setTimeout(() => {
          const batch = this.#waiting
          this.#waiting = []
          for (const start of batch) start()
        }, 0)
      }
    })
  }

  sandbox(op?: { deleteList?: string; restoreList?: string }) {
    return this.#service.sandbox(op)
  }
  catalog(options?: { refresh?: boolean }) {
    return this.#service.catalog(options)
  }
  forms() {
    return this.#service.forms()
  }
  form(id: string) {
    return this.#service.form(id)
  }
  saveForm(input: Parameters<RelayBackend['saveForm']>[0]) {
    return this.#service.saveForm(input)
  }
  deleteForm(id: string) {
    return this.#service.deleteForm(id)
  }
  deadLetters(limit?: number) {
    return this.#service.deadLetters(limit)
  }
  retryDeadLetter(id: number | 'all', kind?: DeadLetterKind) {
    return this.#service.retryDeadLetter(id, kind)
  }
  deleteDeadLetter(id: number, kind?: DeadLetterKind) {
    return this.#service.deleteDeadLetter(id, kind)
  }
  createTag(name: string) {
    return this.#service.createTag(name)
  }
  tick() {
    return this.#service.tick()
  }
  countOutcomes(tally: Tally) {
    return this.#service.countOutcomes(tally)
  }
  metrics(query: { span: Span; from: number; to: number }) {
    return this.#service.metrics(query)
  }
  activity(filter: ActivityFilter, limit: number) {
    return this.#service.activity(filter, limit)
  }
  refusedOrigins() {
    return this.#service.refusedOrigins()
  }
  connectionHistory(since: number) {
    return this.#service.connectionHistory(since)
  }
  consentsOf(email: string) {
    return this.#service.consentsOf(email)
  }
  consentsBetween(query: { from: number; to: number; after?: string }) {
    return this.#service.consentsBetween(query)
  }
  consentCounts() {
    return this.#service.consentCounts()
  }
  eraseConsents(email: string) {
    return this.#service.eraseConsents(email)
  }
  webhooks() {
    return this.#service.webhooks()
  }
  saveWebhook(input: Parameters<RelayBackend['saveWebhook']>[0]) {
    return this.#service.saveWebhook(input)
  }
  deleteWebhook(id: string) {
    return this.#service.deleteWebhook(id)
  }
  testWebhook(id: string) {
    return this.#service.testWebhook(id)
  }
  /** Alarms run at least once; drain() is idempotent (leases, upserts), so a rerun is harmless. */
  async alarm() {
    await this.#service.drain()
  }
}

const apps = new WeakMap<Env, ReturnType<typeof createApp>>()

function appFor(env: Env) {
  let app = apps.get(env)
  if (!app) {
    app = createApp({
      config: () => configFrom(env as unknown as Record<string, unknown>),
      // The stub's methods mirror RelayBackend; RPC wraps results, so adapt the types here.
      backend: () => env.RELAY.getByName(RELAY_NAME) as unknown as RelayBackend,
      now: clock.now,
      fetch: (input, init) => fetch(input, init),
      observe: analyticsSink(env),
      sandbox: devSandbox.kit,
    })
    apps.set(env, app)
  }
  return app
}

export default {
  fetch(request, env, ctx) {
    return appFor(env).fetch(request, env, ctx)
  },
  async scheduled(controller, env, _ctx) {
    const result = await env.RELAY.getByName(RELAY_NAME).tick()
    console.log(JSON.stringify({ msg: 'cron', cron: controller.cron, ...result }))
  },
} satisfies ExportedHandler<Env>
