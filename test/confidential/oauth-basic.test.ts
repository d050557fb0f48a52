/** The confidential-client flavour: CC_CLIENT_SECRET is set for this project (vitest.config.ts). */
import { expect, it } from 'vitest'
import { cc, net } from '../edge.ts'
import { call, startConnect, status } from '../helpers.ts'

it('sends no PKCE challenge and exchanges the code with HTTP Basic client auth', async () => {
  const authorize = await startConnect()
  expect(authorize.searchParams.has('code_challenge')).toBe(false)
  const back = await net.consent(authorize)
  const res = await call(back.pathname + back.search)
  expect(res.status).toBe(303)
  expect(cc.tokenCalls).toHaveLength(1)
  const [exchange] = cc.tokenCalls
  expect(exchange.authorization).toBe(
    `Basic ${btoa('0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10:test-client-secret')}`
  )
  expect(exchange.form.get('grant_type')).toBe('authorization_code')
  expect(exchange.form.get('code')).toBe(back.searchParams.get('code'))
  expect(exchange.status).toBe(200)
  expect(exchange.form.get('redirect_uri')).toBe('https://relay.test/oauth/callback')
  expect(exchange.form.has('client_id')).toBe(false)
  expect(exchange.form.has('code_verifier')).toBe(false)
  expect((await status()).state).toBe('connected')
})
