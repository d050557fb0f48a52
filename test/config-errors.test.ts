/**
 * A bad or missing configuration value gives a clear error naming the key, on /healthz and in
 * the log, never a stack trace or a secret.
 */

import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { expect, it, vi } from 'vitest'
import worker from '../src/worker.ts'

/** The handler's parameter type is an incoming request (with `cf`); ours has none, as locally. */
const incoming = (url: string) => new Request(url) as Request<unknown, IncomingRequestCfProperties>

async function healthz(overrides: Record<string, unknown>) {
  const res = await worker.fetch(
    incoming('https://relay.test/healthz'),
    { ...env, ...overrides } as Env,
    createExecutionContext()
  )
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

it.each([
  [{ CC_CLIENT_ID: '' }, 'CC_CLIENT_ID', 'is required'],
  [{ ADMIN_TOKEN: undefined }, 'ADMIN_TOKEN', 'is required'],
  [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN', 'at least 16'],
  [{ FORMS: 'not json' }, 'FORMS', 'not valid JSON'],
  [{ FORMS: '{"f": {"lists": ["nope"], "origins": ["https://a.test"]}}' }, 'FORMS', 'UUID'],
  [{ FORMS: '{"f": {"lists": [], "origins": ["https://a.test"]}}' }, 'FORMS', 'at least one list'],
  [{ CC_TOKEN_URL: 'ftp://x' }, 'CC_TOKEN_URL', 'http(s)'],
  [{ CC_SCOPES: 'contact_data,offline_access' }, 'CC_SCOPES', 'space-separated'],
])('%o → config_invalid naming %s', async (overrides, key, fragment) => {
  const log = vi.spyOn(console, 'error').mockImplementation(() => {})
  const { status, body } = await healthz(overrides)
  expect(status).toBe(500)
  expect(body.ok).toBe(false)
  expect(body.error).toBe('config_invalid')
  expect(body.keys).toEqual([key])
  expect(String(body.message)).toContain(key)
  expect(String(body.message)).toContain(fragment)
  expect(String(body.message)).not.toMatch(/at .*\.ts:\d+/) // no stack trace
  expect(log.mock.calls.flat().join('\n')).toContain(key)
  log.mockRestore()
})

it('never echoes a secret value in a config error', async () => {
  vi.spyOn(console, 'error').mockImplementation(() => {})
  const { body } = await healthz({ ADMIN_TOKEN: 'tiny-secret' })
  expect(JSON.stringify(body)).not.toContain('tiny-secret')
})

it('refuses the sandbox on a non-local host', async () => {
  const res = await worker.fetch(
    incoming('https://relay.example.com/healthz'),
    { ...env, CTCT_SANDBOX: '1' } as Env,
    createExecutionContext()
  )
  expect(res.status).toBe(403)
  expect(((await res.json()) as { error: string }).error).toBe('sandbox_forbidden')
})
