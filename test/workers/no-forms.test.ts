/**
 * FORMS is optional: a deployment without it starts with no forms, answers for none, and says on
 * /admin where forms are made.
 */
import { createExecutionContext } from 'cloudflare:test'
import { env } from 'cloudflare:workers'
import { expect, it } from 'vitest'
import worker from '../../src/worker.ts'
import { OWNER } from '../support/helpers.ts'

const { FORMS: _forms, ...withoutForms } = env as unknown as Record<string, unknown>

const fetchWithoutForms = (path: string, init?: RequestInit) =>
  worker.fetch(
    new Request(`https://relay.test${path}`, init) as Request<unknown, IncomingRequestCfProperties>,
    withoutForms as unknown as Env,
    createExecutionContext()
  )

it('a deployment without FORMS starts with no forms', async () => {
  const health = await fetchWithoutForms('/healthz')
  expect(health.status).toBe(200)
  const list = await fetchWithoutForms('/admin/api/forms', { headers: OWNER })
  expect(list.status).toBe(200)
  expect(await list.json()).toEqual({ forms: [] })
  const signup = await fetchWithoutForms('/subscribe/newsletter', {
    method: 'POST',
    headers: { origin: 'https://site.test', 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'a@example.com' }),
  })
  expect(signup.status).toBe(404)
  expect(await signup.json()).toMatchObject({ error: 'unknown_form' })
  const dashboard = await (await fetchWithoutForms('/admin', { headers: OWNER })).text()
  expect(dashboard).toContain('No forms yet')
  expect(dashboard).toContain('href="/admin/forms/new"')
})
