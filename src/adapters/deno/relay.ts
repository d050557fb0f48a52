/**
 * @module adapters/deno/relay
 * Wires the core for Deno: RelayService over Deno KV, the app, wake-ups and the client IP.
 * src/deno.ts adds the process-wide parts (Deno.openKv, Deno.cron, the queue listener).
 * Every instance runs its own service over the shared KV, so what must happen once is enforced by
 * KV: atomic commits, the refresh lease (`refreshLease`) and kv-limits.ts. See docs/deno.md.
 */
import { createApp, hostIsLoopback } from '../../core/app/app.ts'
import { configFrom } from '../../core/app/config.ts'
import type { SandboxKit } from '../../core/app/sandbox-slot.ts'
import {
  outcomeFromRecord,
  type RefreshSerializer,
  SLOWEST_REFRESH_MS,
  settledElsewhere,
} from '../../core/connection/connection.ts'
import { fromStored } from '../../core/connection/state.ts'
import { type Clock, systemClock } from '../../core/lib/clock.ts'
import { isIpAddress } from '../../core/lib/network-key.ts'
import { isLoopbackHost } from '../../core/lib/url.ts'
import { OutcomeRecorder } from '../../core/metrics/outcome-recorder.ts'
import { RelayService } from '../../core/relay/relay-service.ts'
import { kvSandboxStorage } from './kv/sandbox-storage.ts'
import { kvStores } from './kv/stores.ts'
import type { KvTokenRepo } from './kv/token-repo.ts'
import { KvClientLimiter, KvSendGate } from './kv-limits.ts'

export interface DenoRelayOptions {
  kv: Deno.Kv
  /** The configuration, under the same names as on Workers (normally Deno.env.toObject()). */
  env: Record<string, string | undefined>
  /** Outbound network. Tests pass the model of Constant Contact here (src/sandbox/model.ts). */
  fetch?: typeof fetch
  clock?: Clock
  /** Replaces the default wake-ups (an in-process timer plus a KV queue message). */
  wake?: (at: number) => Promise<void>
  /** The built-in sandbox (src/deno.ts passes it; CTCT_SANDBOX turns it on, on loopback only). */
  sandbox?: SandboxKit
}

/** The KV queue message that asks some instance to drain the outbox. */
export const DRAIN_MESSAGE = { kind: 'ctct-relay.drain' } as const

/** Below this, a timer in this process is enough; above it, a queue message backs it up. */
const DURABLE_WAKE_AFTER_MS = 1000

export interface DenoRelay {
  service: RelayService
  /** The `deno serve` handler: the app, with the client IP taken from the connection. */
  fetch: (request: Request, info: Deno.ServeHandlerInfo) => Promise<Response>
  /**
   * `deno serve`'s onListen: where the server listens. The sandbox runs only on a loopback
   * listener (and a loopback Host), never before this is called: any client can send
   * `Host: localhost` to a public server, but no remote client reaches 127.0.0.1.
   */
  onListen: (address: Deno.Addr) => void
  /** Asks for a drain at `at` (epoch ms): what the service calls after queueing a sign-up. */
  wake: (at: number) => Promise<void>
  /** For kv.listenQueue: drains on our messages, ignores anything else sharing the KV. */
  onQueueMessage: (message: unknown) => Promise<void>
  /** The cron's job (refresh ahead of expiry, watchdog, drain, purge), logged as on Workers. */
  tick: () => Promise<void>
  /** Cancels the pending timer and sends the outcomes counted here (tests, a clean shutdown). */
  close: () => void
  /** close(), then waits for in-flight requests, drains and ticks: after it, KV may close. */
  settle: () => Promise<void>
}

export function createDenoRelay(options: DenoRelayOptions): DenoRelay {
  const { kv, env } = options
  const clock = options.clock ?? systemClock
  const now = clock.now
  const network = options.fetch ?? ((input, init) => fetch(input, init))
  const config = () => configFrom(env)
  /** CLIENT_IP_HEADER; none while the configuration is invalid (the app answers config_invalid). */
  const trustedHeader = () => {
    try {
      return config().CLIENT_IP_HEADER
    } catch {
      return undefined
    }
  }

  // In-flight work, so a shutdown can let it finish before the KV handle closes under it.
  const busy = new Set<Promise<unknown>>()
  const track = <T>(work: Promise<T>): Promise<T> => {
    busy.add(work)
    work.then(
      () => busy.delete(work),
      () => busy.delete(work)
    )
    return work
  }

  let closed = false
  let timer: ReturnType<typeof setTimeout> | undefined
  let timerAt = Number.POSITIVE_INFINITY
  let queuedAt = Number.POSITIVE_INFINITY
  const drain = async () => {
    try {
      await track(service.drain())
    } catch (err) {
      console.error(JSON.stringify({ msg: 'drain_failed', error: String(err) }))
    }
  }
  /**
   * Like the Durable Object's single alarm: keep only the earliest wake-up still ahead. The timer
   * is fast but dies with the isolate (Deno Deploy stops idle ones); the queue message survives
   * that, and the cron catches anything both miss. drain() is idempotent (leases, upserts), so a
   * wake-up delivered twice, or to two instances, only costs a lookup.
   */
  const defaultWake = async (at: number) => {
    if (closed) return // shutting down: the stored items wait for the next start or cron
    const current = now()
    if (timer === undefined || timerAt <= current || at < timerAt) {
      clearTimeout(timer)
      timerAt = at
      timer = setTimeout(
        () => {
          timer = undefined
          timerAt = Number.POSITIVE_INFINITY
          void drain()
        },
        Math.max(0, at - current)
      )
    }
    if (at - current >= DURABLE_WAKE_AFTER_MS && (queuedAt <= current || at < queuedAt)) {
      queuedAt = at
      try {
        await kv.enqueue(DRAIN_MESSAGE, { delay: at - current })
      } catch (err) {
        // A backup only: the sign-up is already stored, and the timer and the cron still run.
        queuedAt = Number.POSITIVE_INFINITY
        console.error(JSON.stringify({ msg: 'wake_enqueue_failed', error: String(err) }))
      }
    }
  }

  const wake = options.wake ?? defaultWake
  const stores = kvStores(kv)
  const service: RelayService = new RelayService({
    ...stores,
    sendGate: new KvSendGate(kv, config),
    clientLimiter: new KvClientLimiter(kv),
    wake,
    config,
    fetch: network,
    clock,
    sandbox: options.sandbox && { kit: options.sandbox, storage: kvSandboxStorage(kv) },
    serializeRefresh: refreshLease(stores.tokens, clock),
  })

  // The outcomes counted in this process: sent at shutdown too, before KV closes.
  const outcomes = new OutcomeRecorder({ backend: () => service })
  let loopback = false
  const app = createApp({
    config,
    backend: () => service,
    now,
    fetch: network,
    outcomes,
    isLocal: (request) => loopback && hostIsLoopback(request),
    sandbox: options.sandbox,
  })
  const close = () => {
    closed = true
    void outcomes.close()
    clearTimeout(timer)
    timer = undefined
    timerAt = Number.POSITIVE_INFINITY
  }

  return {
    service,
    fetch: (request, info) =>
      track(Promise.resolve(app.fetch(withClientIp(request, info, trustedHeader())))),
    onListen: (address) => {
      loopback = address.transport === 'tcp' && isLoopbackHost(address.hostname)
      if (address.transport === 'tcp') {
        const host = address.hostname.includes(':') ? `[${address.hostname}]` : address.hostname
        console.log(`Listening on http://${host}:${address.port}/`)
      }
    },
    wake,
    onQueueMessage: async (message) => {
      if ((message as { kind?: unknown } | null)?.kind === DRAIN_MESSAGE.kind) await drain()
    },
    tick: async () => {
      try {
        const result = await track(service.tick())
        console.log(JSON.stringify({ msg: 'cron', ...result }))
      } catch (err) {
        // A config error lands here too; /healthz names the key.
        console.error(JSON.stringify({ msg: 'cron_failed', error: String(err) }))
      }
    },
    close,
    settle: async () => {
      close()
      await outcomes.flush() // what close() started sending
      while (busy.size > 0) await Promise.allSettled([...busy])
    },
  }
}

/** Outlives a whole refresh (3 × (1.1 s + 30 s)) by half a minute, so only a crash lets it lapse. */
export const REFRESH_LEASE_MS = SLOWEST_REFRESH_MS + 30_000
/** How long a caller waits for another instance's refresh before giving up for now. */
const LEASE_WAIT_MS = 15_000
const LEASE_POLL_MS = 50

/**
 * The refresh across instances. Within one instance the core already coalesces callers on one
 * promise; here every instance runs its own, so only the holder of the KV lease calls the token
 * endpoint. The others poll the record until the holder's outcome lands (new tokens, a failure,
 * a reconnect) and answer from it, so N instances still make one call per refresh and never send
 * a rotated refresh token.
 */
export function refreshLease(tokens: KvTokenRepo, clock: Clock): RefreshSerializer {
  const holder = crypto.randomUUID()
  const load = async () => fromStored(await tokens.load())
  return async (refresh) => {
    const before = await load()
    const deadline = clock.now() + LEASE_WAIT_MS
    while (!(await tokens.acquireRefreshLease(holder, clock.now(), REFRESH_LEASE_MS))) {
      const current = await load()
      if (settledElsewhere(before, current)) return outcomeFromRecord(current)
      if (clock.now() >= deadline) {
        return {
          ok: false,
          code: 'token_unavailable',
          message: 'Another instance is still refreshing the token',
        }
      }
      await clock.sleep(LEASE_POLL_MS)
    }
    try {
      // The holder may have finished and released between our last poll and our acquire.
      const current = await load()
      if (settledElsewhere(before, current)) return outcomeFromRecord(current)
      return await refresh()
    } finally {
      await tokens.releaseRefreshLease(holder)
    }
  }
}

/**
 * The visitor's address in the proxy's header, or null (absent, or not an IP address: the
 * connection's peer is used then). In X-Forwarded-For each proxy appends the address it saw, so
 * only the last entry is the one our proxy wrote; those before it are whatever the client sent.
 * Any other header (X-Real-IP and the like) holds one address, set by the proxy: taken whole.
 */
export function forwardedClient(value: string | null, header: string): string | null {
  if (value === null) return null
  const address = (header === 'x-forwarded-for' ? (value.split(',').at(-1) ?? '') : value).trim()
  return isIpAddress(address) ? address : null
}

/**
 * The app reads the visitor's IP (rate limit, Turnstile) from CF-Connecting-IP, which Cloudflare
 * sets and clients cannot. Deno has no such header, so it is set here from the TCP peer, and a
 * client-sent value is overwritten: otherwise anyone could pick a fresh "IP" per request.
 * Behind a reverse proxy the peer is the proxy, for everyone; `trusted` (CLIENT_IP_HEADER) names
 * the header the proxy sets instead, and its address wins when it holds one.
 */
export function withClientIp(
  request: Request,
  info: Deno.ServeHandlerInfo,
  trusted?: string
): Request {
  const addr = info.remoteAddr
  const peer = 'hostname' in addr ? addr.hostname : 'unknown'
  const ip = (trusted && forwardedClient(request.headers.get(trusted), trusted)) || peer
  const headers = new Headers(request.headers)
  headers.set('cf-connecting-ip', ip)
  // Served requests' headers are immutable, so this is a copy. Not `new Request(request, …)`:
  // that reads request.signal, which makes Deno warn about its legacy abort behaviour, and the
  // app never uses the signal.
  const init: RequestInit & { duplex?: 'half' } = {
    method: request.method,
    headers,
    redirect: request.redirect,
  }
  if (request.body) {
    init.body = request.body
    init.duplex = 'half'
  }
  return new Request(request.url, init)
}
