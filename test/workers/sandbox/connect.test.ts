/** The newcomer's flow with no credentials: sign in, Connect, the sandbox consent page, connected. */
import { exports } from 'cloudflare:workers'
import { expect, it } from 'vitest'

const ORIGIN = 'http://localhost:8787'
const fetchLocal = (path: string, init?: RequestInit) =>
  exports.default.fetch(new Request(new URL(path, ORIGIN), { redirect: 'manual', ...init }))

it('clicks through sign-in → Connect → sandbox consent → callback → connected', async () => {
  const login = await fetchLocal('/admin/login', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: 'token=test-admin-token-0123456789',
  })
  const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0]
  expect(login.status).toBe(303)

  expect(cookie).toMatch(/^__Host-ctct_relay_session=/)
  const authorize = await fetchLocal('/oauth/authorize', { headers: { cookie } })
  expect(authorize.status).toBe(302)
  // The browser now also holds the Connect's cookie, and sends both back to the callback.
  const connect = (authorize.headers.get('set-cookie') ?? '').split(';')[0]
  expect(connect).toMatch(/^__Host-ctct_relay_connect=/)
  const consentUrl = new URL(authorize.headers.get('location') ?? '')
  expect(consentUrl.origin + consentUrl.pathname).toBe(`${ORIGIN}/__sandbox/authorize`)

  const consentPage = await fetchLocal(consentUrl.pathname + consentUrl.search)
  const html = await consentPage.text()
  expect(html).toContain('Allow')
  // Submit the consent form exactly as the page renders it.
  const form = new URLSearchParams({ decision: 'allow' })
  for (const m of html.matchAll(/type="hidden" name="([a-z_]+)" value="([^"]*)"/g))
    form.set(m[1], m[2].replace(/&amp;/g, '&'))
  const approved = await fetchLocal('/__sandbox/authorize', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  })
  expect(approved.status).toBe(302)
  const callback = new URL(approved.headers.get('location') ?? '')
  expect(callback.pathname).toBe('/oauth/callback')

  const done = await fetchLocal(callback.pathname + callback.search, {
    headers: { cookie: `${cookie}; ${connect}` },
  })
  expect(done.status, await done.clone().text()).toBe(303)
  const dashboard = await (await fetchLocal('/admin', { headers: { cookie } })).text()
  expect(dashboard).toContain('data-state="connected"')
  const health = await (await fetchLocal('/healthz')).json()
  expect(health).toEqual({ ok: true, connected: true })
})

it('sends the visitor back with error=access_denied when consent is declined', async () => {
  const authorize = await fetchLocal('/oauth/authorize', {
    headers: { authorization: 'Bearer test-admin-token-0123456789' },
  })
  const consentUrl = new URL(authorize.headers.get('location') ?? '')
  const form = new URLSearchParams(consentUrl.search)
  form.set('decision', 'deny')
  const denied = await fetchLocal('/__sandbox/authorize', {
    method: 'POST',
    headers: { origin: ORIGIN, 'content-type': 'application/x-www-form-urlencoded' },
    body: form,
  })
  const callback = new URL(denied.headers.get('location') ?? '')
  expect(callback.searchParams.get('error')).toBe('access_denied')
  const connect = (authorize.headers.get('set-cookie') ?? '').split(';')[0]
  const page = await fetchLocal(callback.pathname + callback.search, {
    headers: { cookie: connect },
  })
  expect(page.status).toBe(400)
  expect(await page.text()).toContain('access was denied')
})
