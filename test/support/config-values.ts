/**
 * Configuration values tried through the real app, for the workerd and Deno suites alike
 * (runtime-neutral; issue #18 item 7). Twice a value the schema accepted was one the runtime
 * could not handle (SUBMIT_RATE_LIMIT_PER_MINUTE=45 on Deno KV, a success_url with a line
 * break), so these tests take values from the schema's own bounds, build a deployment with them
 * (each runtime's `WithConfigured`), and post sign-ups through its public route.
 */
import assert from 'node:assert/strict'
import type { CcModel } from '../../src/core/sandbox.ts'

/** A connected deployment built with the configuration under test. */
export interface ConfiguredRelay {
  /** A request to its app, from the client address `ip`. */
  call(path: string, init: RequestInit, ip: string): Promise<Response>
  /** Runs the outbox at each wake-up it asks for (the runtime's alarm or timer), until none. */
  drain(): Promise<void>
  /** Its Constant Contact, to see what reached it. */
  cc: CcModel
  /** The outbox's figures from /admin/status. */
  outbox(): Promise<{ pending: number; dead: number }>
  /** The headers that make a request the owner's (Bearer ADMIN_TOKEN). */
  owner: Record<string, string>
}

/** Runs `run` against a fresh deployment with `overrides` over the suite's bindings. */
export type WithConfigured = (
  overrides: Record<string, string>,
  run: (relay: ConfiguredRelay) => Promise<void>
) => Promise<void>

/** JSON, as a script posts; or a plain HTML form's post (no JS). */
export type Mode = 'json' | 'html'

/** POST /subscribe/:form from `origin`, as a script or as a plain form. */
export function postSignUp(
  relay: Pick<ConfiguredRelay, 'call'>,
  form: string,
  fields: Record<string, string>,
  options: { origin: string; ip: string; mode: Mode; headers?: Record<string, string> }
): Promise<Response> {
  const json = options.mode === 'json'
  return relay.call(
    `/subscribe/${form}`,
    {
      method: 'POST',
      headers: {
        ...options.headers,
        origin: options.origin,
        'content-type': json ? 'application/json' : 'application/x-www-form-urlencoded',
        ...(json ? {} : { accept: 'text/html' }),
      },
      body: json ? JSON.stringify(fields) : new URLSearchParams(fields).toString(),
    },
    options.ip
  )
}

/** An accepted sign-up's answer: 200 delivered or 202 queued (JSON), 303 onwards (a plain form). */
export function isAccepted(res: Response, mode: Mode): boolean {
  return mode === 'json' ? res.status === 200 || res.status === 202 : res.status === 303
}

/**
 * Nothing accepted is lost: after a drain, each address is at CC, or still in the outbox (a
 * quota of 1 parks the rest until midnight UTC), and the outbox holds no more than those.
 */
export async function assertNoneLost(relay: ConfiguredRelay, accepted: string[]): Promise<void> {
  await relay.drain()
  const missing = accepted.filter((email) => !relay.cc.contacts.has(email))
  const { pending, dead } = await relay.outbox()
  assert.equal(dead, 0, 'no accepted sign-up became a dead letter')
  assert.equal(pending, missing.length, `at CC or waiting in the outbox: ${missing.join(', ')}`)
}

/**
 * SUBMIT_RATE_LIMIT_PER_MINUTE values that the config accepts, several of which do not divide
 * 60,000 ms (a budget then refills every 1,333.3… ms at 45): its bounds, primes, and 45.
 */
export const RATE_LIMITS = [1, 7, 45, 59, 61, 97, 1_000, 9_999, 10_000]

let clients = 0

/**
 * With SUBMIT_RATE_LIMIT_PER_MINUTE = `perMinute`: a network's first sign-ups (up to 12 of them)
 * are accepted, in both modes; at a small limit the next one in the same minute is refused with
 * 429 and the whole seconds until its budget has room again; nothing accepted is lost.
 */
export async function rateLimitHolds(relay: ConfiguredRelay, perMinute: number): Promise<void> {
  const ip = `203.0.113.${++clients % 250}`
  const accepted: string[] = []
  const burst = Math.min(perMinute, 12)
  for (let i = 0; i < burst; i++) {
    const mode: Mode = i % 2 ? 'html' : 'json'
    const email = `limit${perMinute}-${i}@example.com`
    const res = await postSignUp(relay, 'newsletter', { email }, { origin: SITE, ip, mode })
    assert.ok(isAccepted(res, mode), `${perMinute}/min, sign-up ${i + 1} (${mode}): ${res.status}`)
    accepted.push(email)
  }
  if (burst === perMinute) {
    const email = `limit${perMinute}-over@example.com`
    const res = await postSignUp(relay, 'newsletter', { email }, { origin: SITE, ip, mode: 'json' })
    assert.equal(res.status, 429, `${perMinute}/min, one past the budget`)
    assert.equal(Number(res.headers.get('retry-after')), Math.ceil(60 / perMinute))
  }
  await assertNoneLost(relay, accepted)
}

/** The origin of the suites' `newsletter` form. */
export const SITE = 'https://site.test'
