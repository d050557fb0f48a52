import { exports } from 'cloudflare:workers'
import { expect } from 'vitest'

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
