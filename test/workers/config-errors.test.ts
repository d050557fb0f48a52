/**
 * A bad or missing configuration value gives a clear error naming the key, on /healthz and in
 * the log, never a stack trace or a secret.
 */

import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { expect, it, vi } from 'vitest'
import worker from '../../src/worker.ts'

/** The handler's parameter type is an incoming request (with `cf`); ours has none, as locally. */
const incoming = (url: string, init?: RequestInit) =>
  new Request(url, init) as Request<unknown, IncomingRequestCfProperties>

async function healthz(overrides: Record<string, unknown>) {
  const res = await worker.fetch(
    incoming('https://relay.test/healthz'),
    { ...env, ...overrides } as Env,
    createExecutionContext()
  )
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}

/** A valid form profile, for the cases that break one of its fields. */
const FORM = { lists: ['9e2f7d10-1111-4c3b-8e42-000000000001'], origins: ['https://a.test'] }

it.each([
  [{ CC_CLIENT_ID: '' }, 'CC_CLIENT_ID', 'is required'],
  [{ ADMIN_TOKEN: undefined }, 'ADMIN_TOKEN', 'is required'],
  [{ ADMIN_TOKEN: 'short' }, 'ADMIN_TOKEN', 'at least 16'],
  [{ FORMS: 'not json' }, 'FORMS', 'not valid JSON'],
  [{ FORMS: '{"f": {"lists": ["nope"], "origins": ["https://a.test"]}}' }, 'FORMS', 'UUID'],
  [{ FORMS: '{"f": {"lists": [], "origins": ["https://a.test"]}}' }, 'FORMS', 'at least one list'],
  [{ CC_TOKEN_URL: 'ftp://x' }, 'CC_TOKEN_URL', 'http(s)'],
  // No scheme at all: every check of the pipe still runs, and none may throw on it.
  [{ CC_TOKEN_URL: 'authz.cc.test/token' }, 'CC_TOKEN_URL', 'absolute URL'],
  [{ ALERT_WEBHOOK_URL: 'hooks.test' }, 'ALERT_WEBHOOK_URL', 'absolute URL'],
  // Tokens, codes and secrets travel over these: https only, except on a loopback host.
  [{ CC_AUTHORIZE_URL: 'http://authz.cc.test/authorize' }, 'CC_AUTHORIZE_URL', 'https:'],
  [{ CC_TOKEN_URL: 'http://authz.cc.test/token' }, 'CC_TOKEN_URL', 'https:'],
  [{ CC_API_BASE_URL: 'http://api.cc.test/v3' }, 'CC_API_BASE_URL', 'https:'],
  [{ CC_REDIRECT_URI: 'http://relay.test/oauth/callback' }, 'CC_REDIRECT_URI', 'https:'],
  [{ ALERT_WEBHOOK_URL: 'http://hooks.test/alert' }, 'ALERT_WEBHOOK_URL', 'https:'],
  [{ ALERT_WEBHOOK_URL: 'http://127.0.0.1.example.com/alert' }, 'ALERT_WEBHOOK_URL', 'https:'],
  [{ CC_SCOPES: 'contact_data,offline_access' }, 'CC_SCOPES', 'space-separated'],
  // A line break in a redirect target would make every plain-form sign-up's answer a 500.
  [
    { FORMS: JSON.stringify({ f: { ...FORM, success_url: 'https://a.test/ok\r\nX: 1' } }) },
    'FORMS',
    'FORMS.f.success_url must not contain control characters',
  ],
  [
    { FORMS: JSON.stringify({ f: { ...FORM, error_url: 'https://a.test/\nno' } }) },
    'FORMS',
    'FORMS.f.error_url must not contain control characters',
  ],
  [
    { FORMS: JSON.stringify({ f: { ...FORM, origins: ['https://a.\ttest'] } }) },
    'FORMS',
    'FORMS.f.origins.0 must not contain control characters',
  ],
  [{ ALERT_WEBHOOK_URL: 'https://hooks.test/al\nert' }, 'ALERT_WEBHOOK_URL', 'control characters'],
  // A honeypot named like a real field would take every person for a bot: thanks, and nothing sent.
  [
    { FORMS: JSON.stringify({ f: { ...FORM, honeypot: 'email' } }) },
    'FORMS',
    'FORMS.f.honeypot must not be a field the form sends',
  ],
  [{ CLIENT_IP_HEADER: 'X-Forwarded-For: 1' }, 'CLIENT_IP_HEADER', 'one HTTP header name'],
  [{ OUTBOX_MAX_PENDING: '9' }, 'OUTBOX_MAX_PENDING', 'at least 10'],
  [{ OUTBOX_MAX_PENDING: '1000001' }, 'OUTBOX_MAX_PENDING', 'at most 1000000'],
  [{ OUTBOX_MAX_PENDING: 'lots' }, 'OUTBOX_MAX_PENDING', 'whole number'],
  [{ CC_PROMPT: 'always' }, 'CC_PROMPT', 'none, login, consent, select_account'],
  [{ CC_PROMPT: 'consent,login' }, 'CC_PROMPT', 'space-separated'],
  [{ CC_PROMPT: 'none consent' }, 'CC_PROMPT', 'must not combine none'],
  [{ CC_ISSUER: 'http://authz.cc.test' }, 'CC_ISSUER', 'https:'],
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

it.each([
  'http://127.0.0.1:8790/oauth2/token',
  'http://localhost:8790/token',
  'http://[::1]:8790/token',
])('accepts http: on a loopback host (%s): local development, the bench', async (url) => {
  const { status, body } = await healthz({
    CC_AUTHORIZE_URL: url,
    CC_TOKEN_URL: url,
    CC_API_BASE_URL: url,
    CC_REDIRECT_URI: url,
    ALERT_WEBHOOK_URL: url,
  })
  expect(status).toBe(200)
  expect(body.ok).toBe(true)
})

it('never echoes a secret value in a config error', async () => {
  vi.spyOn(console, 'error').mockImplementation(() => {})
  const { body } = await healthz({ ADMIN_TOKEN: 'tiny-secret' })
  expect(JSON.stringify(body)).not.toContain('tiny-secret')
})

// The deployed entry has no sandbox (src/worker-sandbox.ts adds it, for npm start): CTCT_SANDBOX
// there is refused, even on a local host, rather than answered by a stand-in. Off loopback, the
// local entry refuses it too (test/sandbox/pages.test.ts).
it('refuses the sandbox in the deployed entry, even on a local host', async () => {
  for (const path of ['/healthz', '/__sandbox/authorize']) {
    const res = await worker.fetch(
      incoming(`http://localhost:8787${path}`),
      { ...env, CTCT_SANDBOX: '1' } as Env,
      createExecutionContext()
    )
    expect(res.status).toBe(403)
    const body = (await res.json()) as { error: string; message: string }
    expect(body.error).toBe('sandbox_forbidden')
    expect(body.message).toContain('this build has no sandbox')
  }
})

/** A browser's plain form post to the sign-up endpoint. */
const formPost = () =>
  incoming('https://relay.test/subscribe/newsletter', {
    method: 'POST',
    headers: {
      origin: 'https://site.test',
      accept: 'text/html',
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: 'email=a@example.com',
  })

it('a sign-up that meets a config error gets the sign-up JSON answer, logged once', async () => {
  const log = vi.spyOn(console, 'error').mockImplementation(() => {})
  log.mockClear() // an earlier case may have left its spy, with its calls, in place
  const res = await worker.fetch(
    formPost(),
    { ...env, FORMS: 'not json' } as Env,
    createExecutionContext()
  )
  expect(res.status).toBe(500)
  expect(res.headers.get('content-type')).toContain('application/json')
  const body = (await res.json()) as Record<string, unknown>
  expect(Object.keys(body)).toEqual(['ok', 'error', 'message'])
  expect(body.error).toBe('config_invalid')
  expect(String(body.message)).toContain('FORMS')
  const logged = log.mock.calls.flat().filter((line) => String(line).includes('config_invalid'))
  expect(logged).toHaveLength(1)
  log.mockRestore()
})
