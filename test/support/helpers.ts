import {
  createExecutionContext,
  createScheduledController,
  runDurableObjectAlarm,
  runInDurableObject,
  waitOnExecutionContext,
} from 'cloudflare:test'
import { env, exports } from 'cloudflare:workers'
import { beforeAll, beforeEach, expect } from 'vitest'
import { SLOT_REST_MS } from '../../src/core/cc/pacer.ts'
import worker, { Relay } from '../../src/worker.ts'
import type { ConfiguredRelay, WithConfigured } from './config-values.ts'
import { ConnectCookieJar } from './connect-cookie.ts'
import { cc, clock, net } from './edge.ts'

export { CONNECT_COOKIE, cookieFrom } from './connect-cookie.ts'

export const ORIGIN = 'https://relay.test'
export const ADMIN_TOKEN = 'test-admin-token-0123456789'
export const OWNER = { authorization: `Bearer ${ADMIN_TOKEN}` }

/** The deployment's one Relay object, as the worker addresses it. */
export const relay = () => env.RELAY.getByName('main')

export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { redirect: 'manual', ...init }))
}

/** Signs in at /admin as a browser does; returns the session cookie (`name=value`). */
export async function signIn(): Promise<string> {
  const login = await call('/admin/login', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token: ADMIN_TOKEN }),
  })
  expect(login.status).toBe(303)
  return (login.headers.get('set-cookie') ?? '').split(';')[0]
}

/** The owner's browser's Connect cookie, kept as a browser keeps it. */
const jar = new ConnectCookieJar()

/**
 * Starts a Connect (as the owner, unless `headers` say otherwise) and returns the authorize URL
 * the worker redirected to. Like a browser, it keeps the Connect cookie for `callback`.
 */
export async function startConnect(headers: Record<string, string> = OWNER): Promise<URL> {
  const res = await call('/oauth/authorize', { headers })
  expect(res.status).toBe(302)
  jar.keep(res)
  return new URL(res.headers.get('location') ?? '')
}

/**
 * A Connect whose callback carries a code that CC issued for another PKCE challenge (one an
 * attacker obtained and swapped in), with this Connect's own state and cookie.
 */
export async function callbackWithSwappedCode(): Promise<Response> {
  const mine = await startConnect()
  const theirs = new URL(mine)
  theirs.searchParams.set('code_challenge', 'A'.repeat(43))
  const stolen = (await net.consent(theirs)).searchParams.get('code') ?? ''
  const state = mine.searchParams.get('state') ?? ''
  return callback(`/oauth/callback?code=${encodeURIComponent(stolen)}&state=${state}`)
}

/**
 * Follows CC's redirect back to the callback from the browser that started the Connect: with its
 * cookie (or `cookie`, '' for none), which the browser drops when the callback deletes it.
 */
export async function callback(back: URL | string, cookie = jar.cookie): Promise<Response> {
  const url = new URL(back, ORIGIN)
  const res = await call(url.pathname + url.search, { headers: cookie ? { cookie } : {} })
  jar.keep(res)
  return res
}

/** A full connect: authorize, consent at (the model of) CC, then the callback it sends back to. */
export async function connect(): Promise<Response> {
  return callback(await net.consent(await startConnect()))
}

export async function status(): Promise<Record<string, unknown>> {
  const res = await call('/admin/status', { headers: OWNER })
  expect(res.status).toBe(200)
  return res.json()
}

export interface OutboxFigures {
  pending: number
  parked: number
  dead: number
  delivered_today: number
  quota_used_today: number
  oldest_pending_age_seconds: number | null
  parked_until: string | null
}

export async function outbox(): Promise<OutboxFigures> {
  return (await status()).outbox as OutboxFigures
}

/** When the Relay object's alarm is set for (virtual time), or null. */
export function alarmAt(): Promise<number | null> {
  return runInDurableObject(relay(), (_instance, state) => state.storage.getAlarm())
}

/**
 * Runs an outbox the way its alarm would: moves the clock to each wake-up the object asked for
 * (`at`) and runs the alarm (`run`), until none is set (or the next one is after `until`).
 * Bounded.
 */
async function runAlarms(
  alarm: { at: () => Promise<number | null>; run: () => Promise<unknown> },
  options: { until?: number; maxWakes?: number } = {}
): Promise<void> {
  for (let wakes = 0; wakes < (options.maxWakes ?? 1000); wakes++) {
    const at = await alarm.at()
    if (at === null || (options.until !== undefined && at > options.until)) return
    if (at > clock.now()) clock.set(at)
    await alarm.run()
  }
  throw new Error('the outbox still asks for wake-ups after the bound')
}

/** Runs this deployment's outbox (the 'main' object's alarm); see `runAlarms`. */
export function runOutbox(options: { until?: number; maxWakes?: number } = {}): Promise<void> {
  return runAlarms({ at: alarmAt, run: () => runDurableObjectAlarm(relay()) }, options)
}

/** Drains the outbox and lets the pacing slots rest, so the next case starts on the fast path. */
export async function settle(): Promise<void> {
  await runOutbox()
  expect((await outbox()).pending).toBe(0)
  clock.advance(SLOT_REST_MS + 100)
}

/** The cron trigger, as Cloudflare runs it. */
export async function cron(): Promise<void> {
  const ctx = createExecutionContext()
  await worker.scheduled(createScheduledController({ cron: '*/15 * * * *' }), env, ctx)
  await waitOnExecutionContext(ctx)
}

/**
 * For relay and outbox suites: connect once (24 h tokens), and start each case with an empty
 * outbox and rested pacing slots, so the fast path (inline delivery, 200) is what each case sees
 * unless it tests otherwise. Real pacing (4/s) is on, in virtual time.
 */
export function connectedWithSettledOutbox(): void {
  beforeAll(async () => {
    expect((await connect()).status).toBe(303)
  })
  beforeEach(async () => {
    await settle()
    net.reset()
  })
}

/** This project's own deployment (its bindings, the 'main' object), for the runtime-neutral scenarios. */
export const deployment: ConfiguredRelay = {
  call: (path, init, ip) =>
    call(path, {
      ...init,
      headers: { ...Object.fromEntries(new Headers(init.headers)), 'cf-connecting-ip': ip },
    }),
  drain: () => runOutbox(),
  cc,
  owner: OWNER,
  outbox,
}

let configured = 0

/**
 * A deployment with `overrides` over this project's bindings, connected (test/support/
 * config-values.ts). The bindings are fixed per vitest project, so the worker's fetch gets an env
 * of its own, and its RELAY is a Relay object built with that env over the storage of a fresh
 * object: inside that object (runInDurableObject), where its SQLite and alarm can be reached.
 */
export const withConfiguredRelay: WithConfigured = (overrides, run) =>
  runInDurableObject(env.RELAY.getByName(`configured-${++configured}`), async (_object, state) => {
    const deployment = { ...env, ...overrides } as Env
    const object = new Relay(state, deployment)
    const appEnv = { ...deployment, RELAY: { getByName: () => object } } as unknown as Env
    const call = async (path: string, init: RequestInit = {}, ip = '192.0.2.1') => {
      const headers = new Headers(init.headers)
      headers.set('cf-connecting-ip', ip)
      const request = new Request(`${ORIGIN}${path}`, { redirect: 'manual', ...init, headers })
      const ctx = createExecutionContext()
      const res = await worker.fetch(request as Parameters<typeof worker.fetch>[0], appEnv, ctx)
      await waitOnExecutionContext(ctx)
      return res
    }
    const connectCookie = new ConnectCookieJar()
    const authorize = await call('/oauth/authorize', { headers: OWNER })
    connectCookie.keep(authorize)
    const back = await net.consent(new URL(authorize.headers.get('location') ?? ''))
    const connected = await call(back.pathname + back.search, {
      headers: { cookie: connectCookie.cookie },
    })
    expect(connected.status).toBe(303)
    await run({
      call,
      cc,
      owner: OWNER,
      // This object's alarm, run in place: runDurableObjectAlarm would wake the other one.
      drain: () =>
        runAlarms({
          at: () => state.storage.getAlarm(),
          run: async () => {
            await state.storage.deleteAlarm()
            await object.alarm()
          },
        }),
      outbox: async () => {
        const res = await call('/admin/status', { headers: OWNER })
        return ((await res.json()) as { outbox: { pending: number; dead: number } }).outbox
      },
    })
  })
