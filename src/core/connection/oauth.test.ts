import { describe, expect, it } from 'vitest'
import { parseConfig } from '../app/config.ts'
import { buildAuthorizeUrl, expectedIssuer } from './oauth.ts'

const base = { CC_CLIENT_ID: 'app', ADMIN_TOKEN: 'test-admin-token-0123456789' }

describe('expectedIssuer (RFC 9207)', () => {
  it("is CC_AUTHORIZE_URL's origin when CC_ISSUER is unset", () => {
    expect(expectedIssuer(parseConfig(base))).toBe('https://authz.constantcontact.com')
    const custom = parseConfig({ ...base, CC_AUTHORIZE_URL: 'https://op.test:8443/auth?x=1' })
    expect(expectedIssuer(custom)).toBe('https://op.test:8443')
  })

  it('is CC_ISSUER, as written, when set', () => {
    const config = parseConfig({ ...base, CC_ISSUER: 'https://op.test/oauth2/default' })
    expect(expectedIssuer(config)).toBe('https://op.test/oauth2/default')
  })

  it('CC_ISSUER must be an https URL', () => {
    expect(() => parseConfig({ ...base, CC_ISSUER: 'http://op.test' })).toThrow(/CC_ISSUER/)
  })
})

describe('buildAuthorizeUrl', () => {
  const params = {
    authorizeUrl: 'https://op.test/auth',
    clientId: 'app',
    redirectUri: 'https://relay.test/oauth/callback',
    scopes: 'contact_data offline_access',
    state: 's',
    codeChallenge: 'c',
  }

  it('sends prompt only when CC_PROMPT is set', () => {
    expect(new URL(buildAuthorizeUrl(params)).searchParams.has('prompt')).toBe(false)
    const url = new URL(buildAuthorizeUrl({ ...params, prompt: 'consent' }))
    expect(url.searchParams.get('prompt')).toBe('consent')
    expect(url.search).toMatch(/&scope=contact_data\+offline_access$/) // scope still last
  })
})
