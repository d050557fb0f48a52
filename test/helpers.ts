import { exports } from 'cloudflare:workers'
import { beforeAll, beforeEach, expect } from 'vitest'
import { cc } from './fake-cc.ts'

export const ORIGIN = 'https://relay.test'
export const ADMIN_TOKEN = 'test-admin-token-0123456789'
export const OWNER = { authorization: `Bearer ${ADMIN_TOKEN}` }

export function call(path: string, init?: RequestInit): Promise<Response> {
  return exports.default.fetch(new Request(`${ORIGIN}${path}`, { redirect: 'manual', ...init }))
}

/** Starts a Connect as the owner and returns the authorize URL the worker redirected to. */
export async function startConnect(): Promise<URL> {
  const res = await call('/oauth/authorize', { headers: OWNER })
  expect(res.status).toBe(302)
  return new URL(res.headers.get('location') ?? '')
}

/** A full connect: authorize, then the callback with the code the fake CC accepts. */
export async function connect(): Promise<Response> {
  const authorize = await startConnect()
  const state = authorize.searchParams.get('state') ?? ''
  return call(`/oauth/callback?code=good-code&state=${encodeURIComponent(state)}`)
}

export async function status(): Promise<Record<string, unknown>> {
  const res = await call('/admin/status', { headers: OWNER })
  expect(res.status).toBe(200)
  return res.json()
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

/** Polls until `check` passes (bounded): for work the outbox does in the background. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    try {
      return await check()
    } catch (err) {
      if (Date.now() > deadline) throw err
      await sleep(100)
    }
  }
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

/** Waits until nothing is pending and the 1.05 s pacing window is clear again. */
export async function settle(): Promise<void> {
  await eventually(async () => expect((await outbox()).pending).toBe(0), 60_000)
  await sleep(1200)
}

/**
 * For relay and outbox suites: connect once (24 h tokens), and start each case with an empty
 * outbox and a clear pacing window, so the fast path (inline delivery, 200) is what each case sees
 * unless it tests otherwise. Real pacing (4/s) is on.
 */
export function connectedWithSettledOutbox(): void {
  beforeAll(async () => {
    cc.ttlSeconds = 86_400
    expect((await connect()).status).toBe(303)
  })
  beforeEach(async () => {
    await settle()
    cc.reset()
  })
}
