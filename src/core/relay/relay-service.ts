/**
 * @module core/relay/relay-service
 * `RelayService`: everything that needs a single writer (OAuth states, the token set, the outbox).
 * On Workers it runs inside the Durable Object and its public methods are the RPC interface
 * (`RelayBackend`); on Deno it runs in-process over KV.
 */

import { AlertCoalescer } from '../alerts/alert-coalescing.ts'
import { type Alert, sendAlert } from '../alerts/alert-webhook.ts'
import { type Config, SANDBOX_ORIGIN } from '../app/config.ts'
import type { Outcome } from '../app/errors.ts'
import type { SandboxModel, ServiceSandbox } from '../app/sandbox-slot.ts'
import { CcApi } from '../cc/api.ts'
import { type Catalog, fetchCatalog } from '../cc/catalog.ts'
import { type CcTag, createTagRequest, processAccountSummary } from '../cc/client.ts'
import type { FieldTypes } from '../cc/field-types.ts'
import { MemorySendGate, type SendGate } from '../cc/send-gate.ts'
import { type AccessToken, Connection, type RefreshSerializer } from '../connection/connection.ts'
import type { ConnectionHistoryEntry } from '../connection/history.ts'
import { ccError, expectedIssuer } from '../connection/oauth.ts'
import type { PendingAuthorization } from '../connection/repo.ts'
import { lacksRequiredScope } from '../connection/state.ts'
import type { ConsentPage, ConsentReceipt } from '../consent/receipt.ts'
import { describeChanges } from '../forms/forms.ts'
import type { FormProfile } from '../forms/profile.ts'
import type { FormAuditEntry, StoredForm } from '../forms/repo.ts'
import type { Clock } from '../lib/clock.ts'
import { maskEmail } from '../lib/mask-email.ts'
import {
  type ActivityEntry,
  type CounterBucket,
  DAY_MS,
  type EventSink,
  groupCounters,
  METRICS_RETENTION_MS,
  type MetricEvent,
  type Span,
  signupTally,
  type Tally,
} from '../metrics/metrics.ts'
import type { ActivityFilter } from '../metrics/repo.ts'
import { type RefusedOrigin, refusalDay, refusedOriginsOf } from '../origins/refusals.ts'
import { type ClientLimiter, MemoryClientLimiter } from '../outbox/client-limiter.ts'
import { Delivery } from '../outbox/drain.ts'
import type { DeadLetter, Revival } from '../outbox/repo.ts'
import { Admission, type Submission } from '../outbox/submit.ts'
import { Tagging } from '../tagging/tagging.ts'
import { createdTag, tagExists, tagNamed } from '../tagging/tags.ts'
import { alertEvent } from '../webhooks/events.ts'
import type { EndpointInput } from '../webhooks/repo.ts'
import { type TestResult, Webhooks, type WebhookView } from '../webhooks/webhooks.ts'
import { type AfterAnswer, BEFORE_ANSWER } from './after-answer.ts'
import type {
  Connected,
  DeadLetterKind,
  DeadLetterView,
  OwnerVerdict,
  RelayBackend,
  RelayStatus,
  SandboxView,
  TickResult,
} from './backend.ts'
import type { Stores } from './stores.ts'

/** Lists change rarely, and every GET spends CC quota: re-fetch at most every 5 minutes. */
const CATALOG_TTL_MS = 5 * 60_000
/** Consent receipts per page of the export: well inside an RPC message, texts included. */
const CONSENT_PAGE = 1000

/** The repos (`Stores`, built by each runtime's factory) and what else the service is given. */
export interface ServiceDeps extends Stores {
  /** The built-in sandbox and its storage: local entries only (src/sandbox/kit.ts). */
  sandbox?: ServiceSandbox
  /** Sees every event the service counts (Workers Analytics Engine, when bound). */
  observe?: EventSink
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
  /**
   * Where an inline delivery's bookkeeping is written (after-answer.ts). Default: before its
   * answer. The Durable Object defers it past the answer, out of the output gate's way.
   */
  afterAnswer?: AfterAnswer
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
  readonly #tagging: Tagging
  readonly #alerts: AlertCoalescer
  readonly #webhooks: Webhooks
  readonly #afterAnswer: AfterAnswer
  #catalog: { value: Catalog; at: number; generation: string } | null = null
  #sandbox: SandboxModel | null = null

  constructor(deps: ServiceDeps) {
    this.#afterAnswer = deps.afterAnswer ?? BEFORE_ANSWER
    // All CC traffic leaves from here; in sandbox mode the model answers it in-process.
    const network = deps.fetch
    const outbound: typeof fetch = (input, init) => {
      const sandbox = this.#sandboxModel()
      const request = new Request(input, init)
      return sandbox && request.url.startsWith(`${SANDBOX_ORIGIN}/`)
        ? sandbox.handle(request)
        : network(request)
    }
    this.#deps = deps = { ...deps, fetch: outbound }
    this.#alerts = new AlertCoalescer({
      repo: deps.alerts,
      clock: deps.clock,
      deliver: (a: Alert) => sendAlert(deps.config().ALERT_WEBHOOK_URL, deps.fetch, a),
    })
    this.#webhooks = new Webhooks({
      repo: deps.webhooks,
      config: deps.config,
      clock: deps.clock,
      fetch: deps.fetch,
      alert: (a: Alert) => this.#alerts.send(a),
      wake: deps.wake,
    })
    // Every alert of before webhooks is an event too (events.ts `alertEvent`).
    const alert = async (a: Alert) => {
      await this.#alerts.send(a)
      const event = alertEvent(a)
      if (event) await this.#webhooks.emit(event)
    }
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
      gate:
        deps.sendGate ??
        new MemorySendGate({
          repo: deps.outbox,
          config: deps.config,
          afterAnswer: this.#afterAnswer,
        }),
      config: deps.config,
      fetch: deps.fetch,
      clock: deps.clock,
      accessToken: (options) => this.#connection.accessToken(options),
    })
    const tally = (events: MetricEvent[]) => {
      for (const event of events) deps.observe?.(event)
      return signupTally(events)
    }
    const forbidden = (accessToken: string, message: string) =>
      this.#connection.apiForbidden(accessToken, message)
    this.#tagging = new Tagging({
      repo: deps.taggings,
      api: this.#api,
      config: deps.config,
      clock: deps.clock,
      alert,
      wake: deps.wake,
      forbidden,
    })
    const outboxDeps = {
      repo: deps.outbox,
      api: this.#api,
      config: deps.config,
      clock: deps.clock,
      alert,
      wake: deps.wake,
      tally,
      count: (events: MetricEvent[]) => deps.metrics.count(tally(events)),
      forbidden,
      tagging: this.#tagging,
      emit: this.#webhooks.emit,
    }
    this.#admission = new Admission({
      ...outboxDeps,
      limiter: deps.clientLimiter ?? new MemoryClientLimiter(),
      afterAnswer: this.#afterAnswer,
      consents: deps.consents,
    })
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
    iss?: string
  }): Promise<Outcome<Connected>> {
    // The state is claimed even when CC reports an error, so it can never be replayed.
    const claim = await this.#deps.states.claim(input.state, this.#deps.clock.now())
    if (claim.status !== 'ok') {
      return { ok: false, code: `state_${claim.status}`, message: STATE_MESSAGES[claim.status] }
    }
    // RFC 9207: an answer from another issuer (a mix-up: the owner was sent to an authorization
    // server that is not the configured one) must not have its code redeemed, or its error
    // believed. Checked after the claim on purpose: this Connect is over either way, and only
    // the browser holding its cookie gets here (connection/oauth-routes.tsx), so no stranger can
    // burn it. A callback without `iss` (a server that does not send it, as before) is not refused.
    const issuer = expectedIssuer(this.#deps.config())
    if (input.iss !== undefined && input.iss !== issuer) {
      return {
        ok: false,
        code: 'issuer_mismatch',
        message: `The answer came from the issuer "${input.iss.slice(0, 200)}", not "${issuer}" (CC_ISSUER, or else CC_AUTHORIZE_URL's origin). Nothing was exchanged. Check CC_ISSUER and CC_AUTHORIZE_URL, then Connect again from /admin.`,
      }
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
    await this.#afterAnswer.settled()
    const connection = await this.#connection.status()
    const now = this.#deps.clock.now()
    const [figures, blocks, alerts, taggings] = await Promise.all([
      this.#deps.outbox.figures(now),
      this.#deps.outbox.blocks(),
      this.#deps.alerts.records(),
      this.#deps.taggings.counts(),
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
        tagging_pending: taggings.pending,
        tagging_dead: taggings.dead,
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

  async submit({
    revision,
    ...submission
  }: Submission & { revision?: number }): ReturnType<RelayBackend['submit']> {
    if (revision !== undefined) {
      const form = await this.#deps.forms.get(submission.formId)
      if (form?.revision !== revision) return { status: 'stale_profile', form }
    }
    return this.#admission.submit(submission)
  }

  async forms(): Promise<{ forms: StoredForm[]; audit: FormAuditEntry[] }> {
    const [forms, audit] = await Promise.all([this.#deps.forms.list(), this.#deps.forms.audit(50)])
    return { forms, audit }
  }

  form(id: string): Promise<StoredForm | null> {
    return this.#deps.forms.get(id)
  }

  async saveForm(input: {
    id: string
    profile: FormProfile
    types: FieldTypes
  }): Promise<{ form: StoredForm; created: boolean }> {
    const before = await this.#deps.forms.get(input.id)
    // A custom field's type is fixed in CC: types learnt before still hold for the ids kept.
    const types: FieldTypes = {}
    for (const id of Object.values(input.profile.custom_fields ?? {})) {
      const key = id.toLowerCase()
      const type = input.types[key] ?? before?.types[key]
      if (type) types[key] = type
    }
    const changes = describeChanges(before?.profile ?? null, input.profile)
    const sameTypes = JSON.stringify(types) === JSON.stringify(before?.types)
    if (before && changes.length === 0 && sameTypes) return { form: before, created: false }
    const at = this.#deps.clock.now()
    const revision = await this.#deps.forms.write({
      formId: input.id,
      form: { profile: input.profile, types },
      action: before ? 'updated' : 'created',
      changes: changes.length > 0 ? changes : ['custom field types read from Constant Contact'],
      at,
    })
    const form = { id: input.id, profile: input.profile, types, revision, updatedAt: at }
    return { form, created: !before }
  }

  async deleteForm(id: string): Promise<boolean> {
    const before = await this.#deps.forms.get(id)
    if (!before) return false
    await this.#deps.forms.write({
      formId: id,
      form: null,
      action: 'deleted',
      changes: describeChanges(before.profile, null),
      at: this.#deps.clock.now(),
    })
    return true
  }

  /** The stand-in for CC, made on first use: null unless this build has one and it is on. */
  #sandboxModel(): SandboxModel | null {
    const { sandbox, config, clock } = this.#deps
    if (!sandbox || !config().sandbox) return null
    this.#sandbox ??= sandbox.kit.model({
      clock,
      tokenTtlSeconds: config().CTCT_SANDBOX_TOKEN_TTL,
      storage: sandbox.storage,
    })
    return this.#sandbox
  }

  async sandbox(
    op: { deleteList?: string; restoreList?: string } = {}
  ): Promise<SandboxView | null> {
    const model = this.#sandboxModel()
    if (!model) return null
    if (op.deleteList) await model.setListDeleted(op.deleteList, true)
    if (op.restoreList) await model.setListDeleted(op.restoreList, false)
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

  async deadLetters(limit = 100): Promise<DeadLetterView[]> {
    const iso = (ms: number) => new Date(ms).toISOString()
    const view = (
      kind: DeadLetterKind,
      d: Omit<DeadLetter, 'email' | 'lists'>,
      emailMasked: string
    ) => ({
      id: d.id,
      kind,
      form_id: d.formId,
      email_masked: emailMasked,
      created_at: iso(d.createdAt),
      dead_at: iso(d.deadAt),
      error: d.error
        ? { status: d.error.status, error_key: d.error.errorKey, message: d.error.message }
        : null,
      attempts: d.attempts,
    })
    const [signups, taggings] = await Promise.all([
      this.#deps.outbox.deadLetters(limit),
      this.#tagging.deadLetters(limit),
    ])
    const letters = [
      ...signups.map((d: DeadLetter) => ({
        ...view('signup', d, maskEmail(d.email)),
        lists: d.lists,
      })),
      ...taggings.map((d) => ({ ...view('tagging', d, d.emailMasked), tag_ids: d.tagIds })),
    ]
    // Newest first, as each kind is listed; ISO times of one format sort as text.
    letters.sort((a, b) => (a.dead_at === b.dead_at ? b.id - a.id : b.dead_at < a.dead_at ? -1 : 1))
    return letters.slice(0, limit)
  }

  async retryDeadLetter(id: number | 'all', kind: DeadLetterKind = 'signup'): Promise<Revival> {
    // The places inline sends in flight hold are taken, as for a new sign-up (outbox/submit.ts).
    const room = this.#deps.config().OUTBOX_MAX_PENDING - this.#admission.placesHeld
    const signups =
      id === 'all' || kind === 'signup'
        ? await this.#delivery.retryDead(id, room)
        : { revived: 0, waiting: 0 }
    const taggings = id === 'all' || kind === 'tagging' ? await this.#tagging.retryDead(id) : 0
    return { revived: signups.revived + taggings, waiting: signups.waiting }
  }

  deleteDeadLetter(id: number, kind: DeadLetterKind = 'signup'): Promise<boolean> {
    return kind === 'tagging' ? this.#tagging.removeDead(id) : this.#deps.outbox.removeDead(id)
  }

  async createTag(name: string): Promise<Outcome<CcTag>> {
    const apiBase = this.#deps.config().CC_API_BASE_URL
    const answer = await this.#api.forOwner((token) => createTagRequest(apiBase, token, name))
    const created = createdTag(name, answer)
    if (!created.ok && created.code === 'invalid_input') {
      // CC may refuse a name that is taken with a 400 rather than the 409 its spec gives: the
      // account's tags tell the two apart.
      const catalog = await this.catalog({ refresh: true })
      if (catalog.ok && tagNamed(catalog.value.tags, name)) return tagExists(name)
    }
    const cached = this.#catalog
    if (created.ok && cached) {
      const tags = [...cached.value.tags, created.value]
      this.#catalog = { ...cached, value: { ...cached.value, tags } }
    }
    return created
  }

  /**
   * The wake-up's entry (a Durable Object alarm): deliver what is due, and beside it one pass of
   * webhook events. Beside, not after: the sign-ups' pass runs up to 25 s, and a slow receiver's
   * sends (up to 10 s each) must not add to it, nor hold back the next wake-up's sign-ups. The
   * two share no state but the clock; each claims its own work under a lease.
   */
  async drain(): Promise<number> {
    const [delivered] = await Promise.all([this.#delivery.drain(), this.#webhooks.sendDue()])
    return delivered
  }

  webhooks(): Promise<WebhookView[]> {
    return this.#webhooks.list()
  }

  saveWebhook(input: EndpointInput): Promise<{ webhook: WebhookView; created: boolean }> {
    return this.#webhooks.save(input)
  }

  deleteWebhook(id: string): Promise<boolean> {
    return this.#webhooks.remove(id)
  }

  testWebhook(id: string): Promise<Outcome<TestResult>> {
    return this.#webhooks.test(id)
  }

  async tick(): Promise<TickResult> {
    const refresh = await this.#connection.refreshIfDue()
    // The watchdog for the outbox: a lost alarm must not strand queued sign-ups.
    const delivered = await this.#delivery.drain()
    await this.#webhooks.sendDue()
    const purged = await this.#delivery.purge()
    await this.#deps.metrics.purgeMetrics(this.#deps.clock.now() - METRICS_RETENTION_MS)
    const retention = this.#deps.config().CONSENT_RETENTION_DAYS * DAY_MS
    const receiptsPurged = await this.#deps.consents.purge(this.#deps.clock.now() - retention)
    const alerts = await this.#alerts.releaseHeld()
    return { refresh, delivered, purged, alerts, receiptsPurged }
  }

  countOutcomes(tally: Tally): Promise<void> {
    return this.#deps.metrics.count(tally)
  }

  async metrics(query: { span: Span; from: number; to: number }): Promise<CounterBucket[]> {
    await this.#afterAnswer.settled()
    return groupCounters(await this.#deps.metrics.counters(query.span, query.from, query.to))
  }

  async activity(filter: ActivityFilter, limit: number): Promise<ActivityEntry[]> {
    await this.#afterAnswer.settled()
    return this.#deps.metrics.activity(filter, limit)
  }

  async refusedOrigins(): Promise<RefusedOrigin[]> {
    const now = this.#deps.clock.now()
    const rows = await this.#deps.metrics.refusals(refusalDay(now) - DAY_MS)
    return refusedOriginsOf(rows, now)
  }

  connectionHistory(since: number): Promise<ConnectionHistoryEntry[]> {
    return this.#deps.metrics.connectionHistory(since)
  }

  consentsOf(email: string): Promise<ConsentReceipt[]> {
    return this.#deps.consents.receiptsOf(email)
  }

  consentsBetween(query: { from: number; to: number; after?: string }): Promise<ConsentPage> {
    return this.#deps.consents.between(query.from, query.to, CONSENT_PAGE, query.after)
  }

  consentCounts(): Promise<Record<string, number>> {
    return this.#deps.consents.countsByForm()
  }

  eraseConsents(email: string): Promise<number> {
    return this.#deps.consents.erase(email)
  }
}
