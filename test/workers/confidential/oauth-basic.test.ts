/** The confidential-client flavour: CC_CLIENT_SECRET is set for this project (vitest.config.ts). */
import { expect, it } from 'vitest'
import { cc, net } from '../../support/edge.ts'
import { callback, callbackWithSwappedCode, startConnect, status } from '../../support/helpers.ts'
import { s256 } from '../../support/s256.ts'

it('sends a PKCE S256 challenge too, and exchanges the code with HTTP Basic and the verifier', async () => {
  const authorize = await startConnect()
  // RFC 9700 §2.1.1: PKCE for confidential clients as well, so a code swapped in is useless.
  expect(authorize.searchParams.get('code_challenge_method')).toBe('S256')
  expect(authorize.searchParams.get('code_challenge')).toMatch(/^[\w-]{43}$/)
  const back = await net.consent(authorize)
  const res = await callback(back)
  expect(res.status).toBe(303)
  expect(cc.tokenCalls).toHaveLength(1)
  const [exchange] = cc.tokenCalls
  expect(exchange.authorization).toBe(
    `Basic ${btoa('0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10:test+client+secret%21')}`
  )
  // The model of CC decodes it as CC does (RFC 6749 §2.3.1): the secret arrives intact.
  expect(exchange.basic).toEqual({
    clientId: '0f5c3a55-7c1a-4d8e-9d39-6a5b1e6c2b10',
    clientSecret: 'test client secret!',
  })
  expect(exchange.form.get('grant_type')).toBe('authorization_code')
  expect(exchange.form.get('code')).toBe(back.searchParams.get('code'))
  expect(exchange.status).toBe(200)
  expect(exchange.form.get('redirect_uri')).toBe('https://relay.test/oauth/callback')
  expect(exchange.form.has('client_id')).toBe(false)
  const verifier = exchange.form.get('code_verifier') ?? ''
  expect(verifier).toMatch(/^[\w-]{43,128}$/)
  expect(await s256(verifier)).toBe(authorize.searchParams.get('code_challenge'))
  expect((await status()).state).toBe('connected')
})

it('refuses a code issued for another challenge (a code swapped in by someone else)', async () => {
  const res = await callbackWithSwappedCode()
  expect(res.status).toBe(400)
  expect(await res.text()).toContain('PKCE')
  expect(cc.tokenCalls.map((c) => c.status)).toEqual([400])
})
