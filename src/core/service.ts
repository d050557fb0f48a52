/**
 * @module service
 * `RelayService` is everything that must have a single writer: OAuth states, the token set and
 * the outbox. On Workers it lives inside the Durable Object and its public methods are the
 * object's whole RPC surface (`RelayBackend`); on Deno it runs in-process over KV.
 */
import { Admission, type Submission, type SubmitResult } from './admission.ts'
import { AlertGate } from './alert-gate.ts'
import { type Alert, sendAlert } from './alerts.ts'
import { type Catalog, fetchCatalog } from './catalog.ts'
import { CcApi } from './cc-api.ts'
import { processAccountSummary } from './cc-client.ts'
import { type ClientLimiter, MemoryClientLimiter } from './client-limiter.ts'
import type { Clock } from './clock.ts'
import { type Config, SANDBOX_ORIGIN } from './config.ts'
import { type AccessToken, Connection, type RefreshSerializer } from './connection.ts'
import { type ConnectionStatus, lacksRequiredScope } from './connection-state.ts'
import { Delivery } from './delivery.ts'
import type { Outcome } from './errors.ts'
import { maskEmail } from './outbox.ts'
import { CcModel, type SandboxView } from './sandbox.ts'
import { MemorySendGate, type SendGate } from './send-gate.ts'
import type {
  AlertRepo,
  AuthStateRepo,
  DeadLetter,
  OutboxRepo,
  PendingAuthorization,
  TokenRepo,
} from './store.ts'

export type { Submission, SubmitResult } from './admission.ts'

export const STATE_TTL_MS = 10 * 60_000
/** Lists change rarely, and every GET spends CC quota: re-fetch at most every 5 minutes. */
const CATALOG_TTL_MS = 5 * 60_000

export interface OutboxStatus {
  pending: number
  /** Pending items that wait for a reconnect or for the daily quota to reset. */
  parked: number
  dead: number
  delivered_today: number
  quota_used_today: number
  quota_limit: number
  rate_per_second: number
  oldest_pending_age_seconds: number | null
  paused_until: string | null
  parked_until: string | null
  /** OUTBOX_MAX_PENDING: with `pending` at it, new sign-ups are refused (503 outbox_full). */
  max_pending: number
}

/** One kind of alert's coalescing (alert-gate.ts), for /admin. */
export interface AlertStatus {
  event: string
  last_sent_at: string | null
  /** Held back since the last one sent: they go out with the next, or after the window. */
  held: number
  /** Held back, ever. */
  held_total: number
}

export type RelayStatus = ConnectionStatus & { outbox: OutboxStatus; alerts: AlertStatus[] }

export interface DeadLetterView {
  id: number
  form_id: string
  email_masked: string
  created_at: string
  dead_at: string
  error: { status: number; error_key: string; message: string } | null
}

/** The contract between the stateless app and the single writer (the Durable Object's RPC). */
export interface RelayBackend {
  beginAuthorization(pending: PendingAuthorization): Promise<void>
  completeAuthorization(input: {
    state: string
    code?: string
    error?: string
  }): Promise<Outcome<Connected>>
  accessToken(options?: { rejected?: string }): Promise<Outcome<AccessToken>>
  status(): Promise<RelayStatus>
  disconnect(): Promise<void>
  /** Delivers a validated sign-up now, or stores it durably before answering `queued`. */
  submit(submission: Submission): Promise<SubmitResult>
  /**
   * Sandbox mode only (null otherwise): what the stand-in CC holds, and list deletion to try
   * config drift. The sandbox lives where CC traffic leaves from, so it is reached through here.
   */
  sandbox(op?: { deleteList?: string; restoreList?: string }): Promise<SandboxView | null>
  /** The account's lists and custom fields, for the dashboard (cached a few minutes). */
  catalog(options?: { refresh?: boolean }): Promise<Outcome<Catalog>>
  deadLetters(): Promise<DeadLetterView[]>
  retryDeadLetter(id: number | 'all'): Promise<number>
  deleteDeadLetter(id: number): Promise<boolean>
  /** The cron's entry: refresh ahead of expiry, watchdog, outbox drain, purge, held alerts. */
  tick(): Promise<TickResult>
}

/** What a Connect established: whether it can refresh, and what the grant lacks. */
export interface Connected {
  refreshable: boolean
  /** The grant lacks contact_data: connected, but parked (needs_reauth, `missing_scope`). */
  missingScope: boolean
}

export interface TickResult {
  refresh: string
  delivered: number
  purged: number
  /** Held-back alerts sent because their window was over. */
  alerts: number
}

export interface ServiceDeps {
  /** Access-token lifetime in the sandbox (CTCT_SANDBOX_TOKEN_TTL), to watch refreshes happen. */
  sandboxTokenTtlSeconds?: number
  tokens: TokenRepo
  states: AuthStateRepo
  outbox: OutboxRepo
  alerts: AlertRepo
  /**
   * Where several instances send (Deno): the shared pacing slots and daily quota. Default: the
   * one sender's in-memory gate (the Durable Object).
   */
  sendGate?: SendGate
  /** Where several instances admit sign-ups (Deno): the shared per-client limit. */
  clientLimiter?: ClientLimiter
  /** Asks the runtime to call drain() at `at` (epoch ms). */
  wake: (at: number) => Promise<void>
  config: () => Config
  fetch: typeof fetch
  clock: Clock
  /** Where several instances share one store (Deno KV): the cross-instance refresh lease. */
  serializeRefresh?: RefreshSerializer
}

const STATE_MESSAGES = {
  unknown:
    'This sign-in link was not issued by this relay (or it was already cleaned up). Start again from /admin.',
  expired: 'This sign-in link expired (they last 10 minutes). Start again from /admin.',
  used: 'This sign-in link was already used. Start again from /admin.',
} as const

export class RelayService implements RelayBackend {
  readonly #deps: ServiceDeps
  readonly #connection: Connection
  readonly #api: CcApi
  readonly #admission: Admission
  readonly #delivery: Delivery
  readonly #alerts: AlertGate
  #catalog: { value: Catalog; at: number; generation: string } | null = null
  #sandbox: CcModel | null = null

  constructor(deps: ServiceDeps) {
    // All CC traffic leaves from here; in sandbox mode the model answers it in-process.
    const network = deps.fetch
    const outbound: typeof fetch = (input, init) => {
      const sandbox = deps.config().sandbox ? this.#sandboxModel() : null
      const request = new Request(input, init)
      return sandbox && request.url.startsWith(`${SANDBOX_ORIGIN}/`)
        ? sandbox.handle(request)
        : network(request)
    }
    this.#deps = deps = { ...deps, fetch: outbound }
    this.#alerts = new AlertGate({
      repo: deps.alerts,
      clock: deps.clock,
      deliver: (a: Alert) => sendAlert(deps.config().ALERT_WEBHOOK_URL, deps.fetch, a),
    })
    const alert = (a: Alert) => this.#alerts.send(a)
    this.#connection = new Connection({
      repo: deps.tokens,
      config: deps.config,
      fetch: deps.fetch,
      clock: deps.clock,
      alert,
      serializeRefresh: deps.serializeRefresh,
    })
    this.#api = new CcApi({
      repo: deps.outbox,
      gate: deps.sendGate ?? new MemorySendGate({ repo: deps.outbox, config: deps.config }),
      config: deps.config,
      fetch: deps.fetch,
      clock: deps.clock,
      accessToken: (options) => this.#connection.accessToken(options),
    })
    const outboxDeps = {
      repo: deps.outbox,
      api: this.#api,
      config: deps.config,
      clock: deps.clock,
      alert,
      wake: deps.wake,
      forbidden: (accessToken: string, message: string) =>
        this.#connection.apiForbidden(accessToken, message),
    }
    this.#admission = new Admission({
      ...outboxDeps,
      limiter: deps.clientLimiter ?? new MemoryClientLimiter(),
    })
    this.#delivery = new Delivery(outboxDeps)
  }

  async beginAuthorization(pending: PendingAuthorization): Promise<void> {
    await this.#deps.states.put(pending)
  }

  async completeAuthorization(input: {
    state: string
    code?: string
    error?: string
  }): Promise<Outcome<Connected>> {
    // The state is claimed even when CC reports an error, so it can never be replayed.
    const claim = await this.#deps.states.claim(input.state, this.#deps.clock.now())
    if (claim.status !== 'ok') {
      return { ok: false, code: `state_${claim.status}`, message: STATE_MESSAGES[claim.status] }
    }
    if (input.error) {
      return {
        ok: false,
        code: 'consent_denied',
        message:
          input.error === 'access_denied'
            ? 'Constant Contact says access was denied: the consent screen was declined. Connect again and choose Allow.'
            : `Constant Contact returned an error instead of a code: ${input.error}.`,
      }
    }
    if (!input.code) {
      return { ok: false, code: 'code_missing', message: 'The callback carried no code.' }
    }
    const { pending } = claim
    const exchanged = await this.#connection.exchangeCode({
      grant_type: 'authorization_code',
      code: input.code,
      redirect_uri: pending.redirectUri,
      code_verifier: pending.codeVerifier ?? undefined,
    })
    if (!exchanged.ok) return exchanged
    const { generation, tokens, refreshable } = exchanged.value
    const missingScope = lacksRequiredScope(tokens.scope)
    // Sign-ups parked while disconnected are replayed now.
    await this.#deps.wake(this.#deps.clock.now())
    if (tokens.scope.split(' ').includes('account_read')) {
      // Best effort: the dashboard shows the account's name; failing to fetch it changes nothing.
      const read = await this.#api.get(`${this.#deps.config().CC_API_BASE_URL}/account/summary`)
      const summary = read.ok ? processAccountSummary(read.value) : null
      if (summary) await this.#connection.setAccount(generation, summary)
    }
    return { ok: true, value: { refreshable, missingScope } }
  }

  accessToken(options?: { rejected?: string }): Promise<Outcome<AccessToken>> {
    return this.#connection.accessToken(options)
  }

  async status(): Promise<RelayStatus> {
    const connection = await this.#connection.status()
    const now = this.#deps.clock.now()
    const [figures, blocks, alerts] = await Promise.all([
      this.#deps.outbox.figures(now),
      this.#deps.outbox.blocks(),
      this.#deps.alerts.records(),
    ])
    const config = this.#deps.config()
    const ahead = (ms: number | null) => (ms !== null && ms > now ? ms : null)
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
    const pausedUntil = ahead(blocks.pausedUntil)
    const parkedUntil = ahead(blocks.parkedUntil)
    const waitingForOwner =
      connection.state === 'needs_reauth' || connection.state === 'not_connected'
    return {
      ...connection,
      outbox: {
        pending: figures.pending,
        parked: waitingForOwner || parkedUntil !== null ? figures.pending : 0,
        dead: figures.dead,
        delivered_today: figures.deliveredToday,
        quota_used_today: figures.quotaUsedToday,
        quota_limit: config.CC_DAILY_QUOTA,
        rate_per_second: config.CC_RATE_PER_SECOND,
        oldest_pending_age_seconds:
          figures.oldestPendingAt === null
            ? null
            : Math.round((now - figures.oldestPendingAt) / 1000),
        paused_until: iso(pausedUntil),
        parked_until: iso(parkedUntil),
        max_pending: config.OUTBOX_MAX_PENDING,
      },
      alerts: alerts.map((a) => ({
        event: a.event,
        last_sent_at: iso(a.lastSentAt),
        held: a.held,
        held_total: a.heldTotal,
      })),
    }
  }

  disconnect(): Promise<void> {
    return this.#connection.disconnect()
  }

  submit(submission: Submission): Promise<SubmitResult> {
    return this.#admission.submit(submission)
  }

  #sandboxModel(): CcModel {
    this.#sandbox ??= new CcModel({
      clock: this.#deps.clock,
      tokenTtlSeconds: this.#deps.sandboxTokenTtlSeconds,
    })
    return this.#sandbox
  }

  async sandbox(
    op: { deleteList?: string; restoreList?: string } = {}
  ): Promise<SandboxView | null> {
    if (!this.#deps.config().sandbox) return null
    const model = this.#sandboxModel()
    if (op.deleteList) model.deletedLists.add(op.deleteList)
    if (op.restoreList) model.deletedLists.delete(op.restoreList)
    if (op.deleteList || op.restoreList) this.#catalog = null
    return model.view()
  }

  async catalog(options: { refresh?: boolean } = {}): Promise<Outcome<Catalog>> {
    const now = this.#deps.clock.now()
    const status = await this.#connection.status()
    // Keyed by the connected account, so a reconnect to another account never shows stale lists.
    const key = `${status.account.sub}:${status.connected_at}`
    const cached = this.#catalog
    if (
      !options.refresh &&
      cached &&
      cached.generation === key &&
      now - cached.at < CATALOG_TTL_MS
    ) {
      return { ok: true, value: cached.value }
    }
    const result = await fetchCatalog(
      this.#deps.config().CC_API_BASE_URL,
      (url) => this.#api.get(url),
      now
    )
    if (!result.ok) return { ok: false, code: 'unavailable', message: result.message }
    this.#catalog = { value: result.value, at: now, generation: key }
    return result
  }

  async deadLetters(): Promise<DeadLetterView[]> {
    const iso = (ms: number) => new Date(ms).toISOString()
    return (await this.#deps.outbox.deadLetters(100)).map((d: DeadLetter) => ({
      id: d.id,
      form_id: d.formId,
      email_masked: maskEmail(d.email),
      created_at: iso(d.createdAt),
      dead_at: iso(d.deadAt),
      error: d.error
        ? { status: d.error.status, error_key: d.error.errorKey, message: d.error.message }
        : null,
    }))
  }

  retryDeadLetter(id: number | 'all'): Promise<number> {
    return this.#delivery.retryDead(id)
  }

  deleteDeadLetter(id: number): Promise<boolean> {
    return this.#deps.outbox.removeDead(id)
  }

  /** The wake-up's entry (a Durable Object alarm): deliver what is due. */
  drain(): Promise<number> {
    return this.#delivery.drain()
  }

  async tick(): Promise<TickResult> {
    const refresh = await this.#connection.refreshIfDue()
    // The watchdog for the outbox: a lost alarm must not strand queued sign-ups.
    const delivered = await this.#delivery.drain()
    const purged = await this.#delivery.purge()
    const alerts = await this.#alerts.releaseHeld()
    return { refresh, delivered, purged, alerts }
  }
}
