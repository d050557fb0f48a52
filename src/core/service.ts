/**
 * @module service
 * `RelayService` is everything that must have a single writer: OAuth states, the token set (and,
 * with the outbox, queued sign-ups). On Workers it lives inside the Durable Object and its public
 * methods are the object's whole RPC surface (`RelayBackend`); on Deno it runs in-process over KV.
 */
import { sendAlert } from './alerts.ts'
import type { Config } from './config.ts'
import {
  type AccessToken,
  type AccountSummary,
  Connection,
  type ConnectionStatus,
  type TokenRepo,
} from './connection.ts'
import type { Outcome } from './errors.ts'

export const STATE_TTL_MS = 10 * 60_000

export interface PendingAuthorization {
  state: string
  redirectUri: string
  codeVerifier: string | null
  expiresAt: number
}

export type ClaimResult =
  | { status: 'ok'; pending: PendingAuthorization }
  | { status: 'unknown' | 'expired' | 'used' }

/** OAuth `state` values we issued. `claim` must be atomic: a state is used once, ever. */
export interface AuthStateRepo {
  put(pending: PendingAuthorization): Promise<void>
  claim(state: string, now: number): Promise<ClaimResult>
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
  status(): Promise<ConnectionStatus>
  disconnect(): Promise<void>
  /** The cron's entry: refresh ahead of expiry and raise the alarm when refreshing has stalled. */
  tick(): Promise<{ refresh: string }>
}

export interface ServiceDeps {
  tokens: TokenRepo
  states: AuthStateRepo
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

  constructor(deps: ServiceDeps) {
    this.#deps = deps
    this.#connection = new Connection({
      repo: deps.tokens,
      config: deps.config,
      fetch: deps.fetch,
      now: deps.now,
      sleep: deps.sleep,
      alert: (alert) => sendAlert(deps.config().ALERT_WEBHOOK_URL, deps.fetch, alert),
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
    if (scope.split(' ').includes('account_read')) {
      const summary = await fetchAccountSummary(this.#deps, accessToken)
      if (summary) await this.#connection.setAccount(generation, summary)
    }
    return { ok: true, value: { refreshable } }
  }

  accessToken(options?: { rejected?: string }): Promise<Outcome<AccessToken>> {
    return this.#connection.accessToken(options)
  }

  status(): Promise<ConnectionStatus> {
    return this.#connection.status()
  }

  disconnect(): Promise<void> {
    return this.#connection.disconnect()
  }

  async tick(): Promise<{ refresh: string }> {
    return { refresh: await this.#connection.refreshIfDue() }
  }
}
