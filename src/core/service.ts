/**
 * @module service
 * `RelayService` is everything that must have a single writer: OAuth states, the token set (and,
 * with the outbox, queued sign-ups). On Workers it lives inside the Durable Object and its public
 * methods are the object's whole RPC surface (`RelayBackend`); on Deno it runs in-process over KV.
 */
import { type Alert, sendAlert } from './alerts.ts'
import { type Catalog, fetchCatalog } from './catalog.ts'
import type { Config } from './config.ts'
import {
  type AccessToken,
  type AccountSummary,
  Connection,
  type ConnectionStatus,
} from './connection.ts'
import { Delivery, type Submission, type SubmitResult } from './delivery.ts'
import type { Outcome } from './errors.ts'
import { maskEmail } from './outbox.ts'
import { Sandbox, type SandboxView } from './sandbox.ts'
import type {
  AuthStateRepo,
  DeadLetter,
  OutboxRepo,
  PendingAuthorization,
  TokenRepo,
} from './store.ts'

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

/** The contract between the stateless app and the single writer (the Durable Object's RPC). */
export interface RelayBackend {
  beginAuthorization(pending: PendingAuthorization): Promise<void>
  completeAuthorization(input: {
    state: string
    code?: string
    error?: string
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
  /** Asks the runtime to call drain() at `at` (epoch ms). */
  wake: (at: number) => Promise<void>
  config: () => Config
  fetch: typeof fetch
  now: () => number
  sleep: (ms: number) => Promise<void>
}

/** Best effort: the dashboard shows the account's name; failing to fetch it changes nothing. */
async function fetchAccountSummary(
  deps: ServiceDeps,
  accessToken: string
): Promise<AccountSummary | null> {
  try {
    const res = await deps.fetch(`${deps.config().CC_API_BASE_URL}/account/summary`, {
      headers: { authorization: `Bearer ${accessToken}`, accept: 'application/json' },
      signal: AbortSignal.timeout(5000),
    })
    if (!res.ok) return null
    const body = (await res.json()) as Record<string, unknown>
    const pick = (k: string) => (typeof body[k] === 'string' ? (body[k] as string) : undefined)
    return {
      organization_name: pick('organization_name'),
      encoded_account_id: pick('encoded_account_id'),
    }
  } catch {
    return null
  }
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
  readonly #delivery: Delivery
  #catalog: { value: Catalog; at: number; generation: string } | null = null

  #sandbox: Sandbox | null = null

  constructor(deps: ServiceDeps) {
    // All CC traffic leaves from here; in sandbox mode it is answered in-process instead.
    const network = deps.fetch
    const outbound: typeof fetch = (input, init) =>
      deps.config().sandbox
        ? this.#sandboxInstance().wrap(network)(input, init)
        : network(input, init)
    deps = { ...deps, fetch: outbound }
    this.#deps = deps
    const alert = (a: Alert) => sendAlert(deps.config().ALERT_WEBHOOK_URL, deps.fetch, a)
    this.#connection = new Connection({
      repo: deps.tokens,
      config: deps.config,
      fetch: deps.fetch,
      now: deps.now,
      sleep: deps.sleep,
      alert,
    })
    this.#delivery = new Delivery({
      repo: deps.outbox,
      accessToken: (options) => this.#connection.accessToken(options),
      config: deps.config,
      fetch: deps.fetch,
      now: deps.now,
      sleep: deps.sleep,
      alert,
      wake: deps.wake,
    })
  }

  async beginAuthorization(pending: PendingAuthorization): Promise<void> {
    await this.#deps.states.put(pending)
  }

  async completeAuthorization(input: {
    state: string
    code?: string
    error?: string
  }): Promise<Outcome<{ refreshable: boolean }>> {
    // The state is claimed even when CC reports an error, so it can never be replayed.
    const claim = await this.#deps.states.claim(input.state, this.#deps.now())
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
    const { generation, accessToken, scope, refreshable } = exchanged.value
    // Sign-ups parked while disconnected are replayed now.
    await this.#deps.wake(this.#deps.now())
    if (scope.split(' ').includes('account_read')) {
      const summary = await fetchAccountSummary(this.#deps, accessToken)
      if (summary) await this.#connection.setAccount(generation, summary)
    }
    return { ok: true, value: { refreshable } }
  }

  accessToken(options?: { rejected?: string }): Promise<Outcome<AccessToken>> {
    return this.#connection.accessToken(options)
  }

  async status(): Promise<RelayStatus> {
    const connection = await this.#connection.status()
    const f = await this.#delivery.figures()
    const now = this.#deps.now()
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString())
    const waitingForOwner =
      connection.state === 'needs_reauth' || connection.state === 'not_connected'
    return {
      ...connection,
      outbox: {
        pending: f.pending,
        parked: waitingForOwner || f.parkedUntil !== null ? f.pending : 0,
        dead: f.dead,
        delivered_today: f.deliveredToday,
        quota_used_today: f.quotaUsedToday,
        quota_limit: f.quotaLimit,
        rate_per_second: f.ratePerSecond,
        oldest_pending_age_seconds:
          f.oldestPendingAt === null ? null : Math.round((now - f.oldestPendingAt) / 1000),
        paused_until: iso(f.pausedUntil),
        parked_until: iso(f.parkedUntil),
      },
    }
  }

  disconnect(): Promise<void> {
    return this.#connection.disconnect()
  }

  submit(submission: Submission): Promise<SubmitResult> {
    return this.#delivery.submit(submission)
  }

  #sandboxInstance(): Sandbox {
    this.#sandbox ??= new Sandbox({
      now: this.#deps.now,
      tokenTtlSeconds: this.#deps.sandboxTokenTtlSeconds,
    })
    return this.#sandbox
  }

  async sandbox(
    op: { deleteList?: string; restoreList?: string } = {}
  ): Promise<SandboxView | null> {
    if (!this.#deps.config().sandbox) return null
    const sandbox = this.#sandboxInstance()
    if (op.deleteList) sandbox.deletedLists.add(op.deleteList)
    if (op.restoreList) sandbox.deletedLists.delete(op.restoreList)
    if (op.deleteList || op.restoreList) this.#catalog = null
    return sandbox.view()
  }

  async catalog(options: { refresh?: boolean } = {}): Promise<Outcome<Catalog>> {
    const now = this.#deps.now()
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
      (url) => this.#delivery.apiGet(url),
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
