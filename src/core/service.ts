/**
 * @module service
 * `RelayService` is everything that must have a single writer: OAuth states, the token set and
 * the outbox. On Workers it lives inside the Durable Object and its public methods are the
 * object's whole RPC surface (`RelayBackend`); on Deno it runs in-process over KV.
 */
import { Admission, type Submission, type SubmitResult } from './admission.ts'
import { type Alert, sendAlert } from './alerts.ts'
import { type Catalog, fetchCatalog } from './catalog.ts'
import { CcApi } from './cc-api.ts'
import { processAccountSummary } from './cc-client.ts'
import type { Clock } from './clock.ts'
import { type Config, SANDBOX_ORIGIN } from './config.ts'
import { type AccessToken, Connection, type RefreshSerializer } from './connection.ts'
import type { ConnectionStatus } from './connection-state.ts'
import { Delivery } from './delivery.ts'
import type { Outcome } from './errors.ts'
import { ccError } from './oauth.ts'
import { maskEmail } from './outbox.ts'
import { CcModel, type SandboxView } from './sandbox.ts'
import type {
  AuthStateRepo,
  DeadLetter,
  OutboxRepo,
  OwnerRepo,
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
}

export type RelayStatus = ConnectionStatus & { outbox: OutboxStatus }

export interface DeadLetterView {
  id: number
  form_id: string
  email_masked: string
  created_at: string
  dead_at: string
  error: { status: number; error_key: string; message: string } | null
}

/** What an attempt to act as the owner with ADMIN_TOKEN (sign-in form, Bearer) may do. */
export type OwnerVerdict =
  | { status: 'allowed' | 'refused' }
  | { status: 'throttled'; retryAfterSeconds: number }

/** The contract between the stateless app and the single writer (the Durable Object's RPC). */
export interface RelayBackend {
  /**
   * One attempt with ADMIN_TOKEN from `client` (a hash of its network key): `valid` says whether
   * the token matched. A wrong one is counted; a locked-out client is throttled either way.
   */
  ownerAttempt(client: string, valid: boolean): Promise<OwnerVerdict>
  openSession(id: string, expiresAt: number): Promise<void>
  sessionLive(id: string): Promise<boolean>
  /** Sign-out: the session's cookie is refused from now on, wherever it was copied to. */
  closeSession(id: string): Promise<void>
  beginAuthorization(pending: PendingAuthorization): Promise<void>
  /** `error` and `description` are CC's `error` and `error_description`, when it sent them. */
  completeAuthorization(input: {
    state: string
    code?: string
    error?: string
    description?: string
  }): Promise<Outcome<{ refreshable: boolean }>>
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
  /** The cron's entry: refresh ahead of expiry, watchdog, outbox drain, retention purge. */
  tick(): Promise<{ refresh: string; delivered: number; purged: number }>
}

export interface ServiceDeps {
  /** Access-token lifetime in the sandbox (CTCT_SANDBOX_TOKEN_TTL), to watch refreshes happen. */
  sandboxTokenTtlSeconds?: number
  tokens: TokenRepo
  states: AuthStateRepo
  outbox: OutboxRepo
  owner: OwnerRepo
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
    const alert = (a: Alert) => sendAlert(deps.config().ALERT_WEBHOOK_URL, deps.fetch, a)
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
    }
    this.#admission = new Admission(outboxDeps)
    this.#delivery = new Delivery(outboxDeps)
  }

  async ownerAttempt(client: string, valid: boolean): Promise<OwnerVerdict> {
    const { owner, clock } = this.#deps
    // A wrong token is counted in the same atomic step that checks the lockout, so concurrent
    // guesses cannot overshoot the limit; a right one is only checked against it.
    const wait = valid
      ? await owner.signInLockout(client, clock.now())
      : await owner.countSignInFailure(client, clock.now())
    if (wait > 0) return { status: 'throttled', retryAfterSeconds: wait }
    return { status: valid ? 'allowed' : 'refused' }
  }

  openSession(id: string, expiresAt: number): Promise<void> {
    return this.#deps.owner.addSession(id, expiresAt, this.#deps.clock.now())
  }

  sessionLive(id: string): Promise<boolean> {
    return this.#deps.owner.hasSession(id, this.#deps.clock.now())
  }

  closeSession(id: string): Promise<void> {
    return this.#deps.owner.removeSession(id)
  }

  async beginAuthorization(pending: PendingAuthorization): Promise<void> {
    await this.#deps.states.put(pending)
  }

  async completeAuthorization(input: {
    state: string
    code?: string
    error?: string
    description?: string
  }): Promise<Outcome<{ refreshable: boolean }>> {
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
            ? `Constant Contact says access was denied (${ccError(input.error, input.description)}): the consent screen was declined. Connect again and choose Allow.`
            : `Constant Contact returned an error instead of a code: ${ccError(input.error, input.description)}. Check your app in Constant Contact's developer portal (its redirect URI and allowed scopes, against CC_REDIRECT_URI and CC_SCOPES), then Connect again from /admin.`,
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
    // Sign-ups parked while disconnected are replayed now.
    await this.#deps.wake(this.#deps.clock.now())
    if (tokens.scope.split(' ').includes('account_read')) {
      // Best effort: the dashboard shows the account's name; failing to fetch it changes nothing.
      const read = await this.#api.get(`${this.#deps.config().CC_API_BASE_URL}/account/summary`)
      const summary = read.ok ? processAccountSummary(read.value) : null
      if (summary) await this.#connection.setAccount(generation, summary)
    }
    return { ok: true, value: { refreshable } }
  }

  accessToken(options?: { rejected?: string }): Promise<Outcome<AccessToken>> {
    return this.#connection.accessToken(options)
  }

  async status(): Promise<RelayStatus> {
    const connection = await this.#connection.status()
    const now = this.#deps.clock.now()
    const [figures, blocks] = await Promise.all([
      this.#deps.outbox.figures(now),
      this.#deps.outbox.blocks(),
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
      },
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

  async tick(): Promise<{ refresh: string; delivered: number; purged: number }> {
    const refresh = await this.#connection.refreshIfDue()
    // The watchdog for the outbox: a lost alarm must not strand queued sign-ups.
    const delivered = await this.#delivery.drain()
    const purged = await this.#delivery.purge()
    return { refresh, delivered, purged }
  }
}
