/**
 * Builds relay instances for the Deno tests exactly as src/deno.ts does (createDenoRelay), over
 * a KV the test opens, with the test network (the model of CC, alerts, siteverify) as `fetch`
 * and a virtual clock the test moves forward instead of sleeping.
 */
import assert from 'node:assert/strict'
import { createDenoRelay, type DenoRelay } from '../../src/adapters/deno/relay.ts'
import type { WithConfigured } from './config-values.ts'
import { ConnectCookieJar } from './connect-cookie.ts'
import { ALERT_URL, API, AUTHORIZE_URL, TestNetwork, TOKEN_URL } from './network.ts'
import type { VirtualClock } from './virtual-clock.ts'

export const ORIGIN = 'https://relay.test'
export const ADMIN_TOKEN = 'test-admin-token-0123456789'
export const OWNER = { authorization: `Bearer ${ADMIN_TOKEN}` }
export const CLIENT_ID = '0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10'

/** The same bindings as vitest.config.ts: the same names, the same values. */
export const ENV: Record<string, string> = {
  CC_AUTHORIZE_URL: AUTHORIZE_URL,
  CC_TOKEN_URL: TOKEN_URL,
  CC_API_BASE_URL: API,
  ALERT_WEBHOOK_URL: ALERT_URL,
  CC_CLIENT_ID: CLIENT_ID,
  ADMIN_TOKEN,
  FORMS: JSON.stringify({
    newsletter: {
      lists: ['9e2f7d10-1111-4c3b-8e42-000000000001', '9e2f7d10-1111-4c3b-8e42-000000000002'],
      origins: ['https://site.test'],
      custom_fields: { source: '5a1d0c6e-2222-4f1a-9b7c-000000000001' },
    },
  }),
}

export function connInfo(ip: string): Deno.ServeHandlerInfo {
  return {
    remoteAddr: { transport: 'tcp', hostname: ip, port: 40_000 },
    completed: Promise.resolve(),
  } as Deno.ServeHandlerInfo
}

export interface Instance {
  relay: DenoRelay
  /** The wake-ups the service asked for (tests call drain() themselves). */
  wakes: number[]
  /** A request to this instance's app, as if from the TCP peer `ip`. */
  call(path: string, init?: RequestInit, ip?: string): Promise<Response>
}

export function instance(
  kv: Deno.Kv,
  net: TestNetwork,
  env: Record<string, string> = ENV,
  origin = ORIGIN
): Instance {
  const wakes: number[] = []
  const relay = createDenoRelay({
    kv,
    env,
    fetch: net.fetch,
    clock: net.clock,
    wake: async (at) => {
      wakes.push(at)
    },
  })
  return {
    relay,
    wakes,
    call: (path, init, ip = '192.0.2.1') =>
      relay.fetch(new Request(new URL(path, origin), init), connInfo(ip)),
  }
}

/** Runs every wake-up the service asked for, moving the clock to it (bounded). */
export async function drainAll(i: Instance, clock: { now(): number; set(at: number): void }) {
  for (let n = 0; n < 100 && i.wakes.length > 0; n++) {
    const at = Math.max(...i.wakes.splice(0))
    if (at > clock.now()) clock.set(at)
    await i.relay.service.drain()
  }
}

/** The owner's browser's Connect cookie, kept as a browser keeps it. */
const jar = new ConnectCookieJar()

/** Starts a Connect as the owner and returns the authorize URL; keeps its cookie, as a browser. */
export async function startConnect(i: Instance): Promise<URL> {
  const res = await i.call('/oauth/authorize', { headers: OWNER })
  assert.equal(res.status, 302)
  jar.keep(res)
  return new URL(res.headers.get('location') ?? '')
}

/**
 * Follows CC's redirect back to the callback (on any instance of the deployment) from the
 * browser that started the Connect: with its cookie, or `cookie` ('' for none).
 */
export async function callback(
  i: Instance,
  back: URL | string,
  cookie = jar.cookie
): Promise<Response> {
  const url = new URL(back, ORIGIN)
  const res = await i.call(url.pathname + url.search, { headers: cookie ? { cookie } : {} })
  jar.keep(res)
  return res
}

/** A full connect: authorize, consent at (the model of) CC, then the callback it sends back to. */
export async function connect(i: Instance, net: TestNetwork): Promise<Response> {
  return callback(i, await net.consent(await startConnect(i)))
}

export async function status(i: Instance): Promise<Record<string, unknown>> {
  const res = await i.call('/admin/status', { headers: OWNER })
  assert.equal(res.status, 200)
  return (await res.json()) as Record<string, unknown>
}

/**
 * Moves the clock just past the access token's expiry: callers then have no valid token and wait
 * for the refresh (inside the margin they would get the valid one at once, the refresh behind).
 */
export async function makeDue(i: Instance, clock: VirtualClock): Promise<void> {
  const expiresAt = Date.parse(String((await status(i)).access_token_expires_at))
  clock.set(expiresAt + 1000)
}

export function submit(
  i: Pick<Instance, 'call'>,
  email: string,
  ip = '192.0.2.10'
): Promise<Response> {
  return i.call(
    '/subscribe/newsletter',
    {
      method: 'POST',
      headers: { origin: 'https://site.test', 'content-type': 'application/json' },
      body: JSON.stringify({ email }),
    },
    ip
  )
}

/** A KV file that two "instances" (two handles, as two processes would have) can share. */
export async function tempKvPath(): Promise<string> {
  const dir = await Deno.makeTempDir({ prefix: 'ctct-relay-kv-' })
  return `${dir}/kv.sqlite3`
}

export async function removeKv(path: string): Promise<void> {
  await Deno.remove(path.slice(0, path.lastIndexOf('/')), { recursive: true })
}

/** Two KV handles on one file, as two processes would have, racing each other. */
export async function withTwoHandles(t: (a: Deno.Kv, b: Deno.Kv) => Promise<void>) {
  const path = await tempKvPath()
  const a = await Deno.openKv(path)
  const b = await Deno.openKv(path)
  try {
    await t(a, b)
  } finally {
    a.close()
    b.close()
    await removeKv(path)
  }
}

export interface Network {
  net: TestNetwork
  cc: TestNetwork['cc']
  clock: VirtualClock
}

function network(): Network {
  const net = new TestNetwork()
  return { net, cc: net.cc, clock: net.clock }
}

/** Two app instances on one KV file, as two isolates or machines of one deployment would be. */
export async function withTwoInstances(
  run: (t: Network & { a: Instance; b: Instance; kvA: Deno.Kv }) => Promise<void>,
  env: Record<string, string> = ENV
): Promise<void> {
  const path = await tempKvPath()
  const kvA = await Deno.openKv(path)
  const kvB = await Deno.openKv(path)
  const n = network()
  const a = instance(kvA, n.net, env)
  const b = instance(kvB, n.net, env)
  try {
    await run({ ...n, a, b, kvA })
  } finally {
    a.relay.close()
    b.relay.close()
    kvA.close()
    kvB.close()
    await removeKv(path)
  }
}

/**
 * Processes of one deployment, one after another, on one KV file: `start()` opens a KV handle
 * and an instance on it, as a new process does; `stop()` ends one as a process going away does
 * (its timers, its memory, its KV handle).
 */
export async function withRestarts(
  run: (t: Network & { start(): Promise<Instance>; stop(i: Instance): void }) => Promise<void>
): Promise<void> {
  const path = await tempKvPath()
  const n = network()
  const running = new Map<Instance, Deno.Kv>()
  const stop = (i: Instance) => {
    i.relay.close()
    running.get(i)?.close()
    running.delete(i)
  }
  try {
    await run({
      ...n,
      start: async () => {
        const kv = await Deno.openKv(path)
        const i = instance(kv, n.net)
        running.set(i, kv)
        return i
      },
      stop,
    })
  } finally {
    for (const i of [...running.keys()]) stop(i)
    await removeKv(path)
  }
}

/** One app instance on an in-memory KV. */
export async function withInstance(
  run: (t: Network & { relay: Instance; kv: Deno.Kv }) => Promise<void>,
  env: Record<string, string> = ENV
): Promise<void> {
  const kv = await Deno.openKv(':memory:')
  const n = network()
  const relay = instance(kv, n.net, env)
  try {
    await run({ ...n, relay, kv })
  } finally {
    relay.relay.close()
    kv.close()
  }
}

/**
 * A connected instance with `overrides` over ENV, on an in-memory KV and a network of its own
 * (test/support/config-values.ts).
 */
export const withConfiguredRelay: WithConfigured = (overrides, run) =>
  withInstance(
    async ({ relay, net, cc, clock }) => {
      assert.equal((await connect(relay, net)).status, 303)
      await run({
        call: (path, init, ip) => relay.call(path, init, ip),
        cc,
        owner: OWNER,
        drain: () => drainAll(relay, clock),
        outbox: async () => (await status(relay)).outbox as { pending: number; dead: number },
      })
    },
    { ...ENV, ...overrides }
  )

export { CONNECT_COOKIE, cookieFrom } from './connect-cookie.ts'
export { network, TestNetwork }
