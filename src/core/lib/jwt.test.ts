import { base64url, jwtVerify, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import { OLD_SESSION } from '../../../test/support/old-session-cookie.ts'
import { issueSession, verifySession } from '../owner/credentials.ts'
import { readClaims, signHs256, verifyHs256 } from './jwt.ts'

const NOW = Date.UTC(2031, 0, 1)
const SECONDS = NOW / 1000
const secret = new Uint8Array(new TextEncoder().encode('a session key of thirty-two bytes'))
const part = (value: unknown) => base64url.encode(JSON.stringify(value))

/** HMAC over the two parts exactly as given: a genuine signature on whatever they hold. */
async function macOver(head: string, body: string, key = secret): Promise<string> {
  const hmac = await crypto.subtle.importKey(
    'raw',
    new Uint8Array(key),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign']
  )
  const mac = await crypto.subtle.sign('HMAC', hmac, new TextEncoder().encode(`${head}.${body}`))
  return `${head}.${body}.${base64url.encode(new Uint8Array(mac))}`
}

const signed = (claims: Record<string, unknown>, header: unknown = { alg: 'HS256' }) =>
  macOver(part(header), part(claims))

describe('what is not a compact JWS of JSON objects', () => {
  it('is refused, even with a genuine MAC over it', async () => {
    const head = part({ alg: 'HS256' })
    const ok = await signed({ sub: 'x', exp: SECONDS + 60 })
    expect(await verifyHs256(ok, secret, { now: NOW })).toEqual({ sub: 'x', exp: SECONDS + 60 })
    for (const bad of [
      '',
      'a.b',
      `${ok}.d`,
      await macOver(head, part([1, 2])),
      await macOver(head, part('text')),
      await macOver(head, 'bm90IGpzb24'),
      `${ok.slice(0, -1)}=`,
      undefined as unknown as string,
    ]) {
      expect(await verifyHs256(bad, secret, { now: NOW }), String(bad)).toBe(null)
    }
  })

  // jose, unlike the code it replaced, reads `=` padding: harmless, as the MAC covers the text
  // as sent and a padded signature decodes to the same bytes, so no token says anything new.
  it('is refused when a part is in the base64 alphabet (base64url only)', async () => {
    const head = part({ alg: 'HS256' })
    // Its base64 has a "/" where base64url has "_".
    const json = JSON.stringify({ sub: '??>', exp: SECONDS + 60 })
    const url = base64url.encode(json)
    const b64 = btoa(json)
    expect(b64).toBe(url.replace(/_/g, '/'))
    expect(await verifyHs256(await macOver(head, url), secret, { now: NOW })).not.toBe(null)
    expect(await verifyHs256(await macOver(head, b64), secret, { now: NOW })).toBe(null)
  })
})

describe('readClaims', () => {
  it('reads the claims of a token it does not verify (CC’s access token)', () => {
    expect(readClaims(`${part({ alg: 'RS256' })}.${part({ exp: 5, sub: 'acct' })}.c2ln`)).toEqual({
      exp: 5,
      sub: 'acct',
    })
    for (const bad of ['opaque-token', 'a.b', `${part({ alg: 'RS256' })}.${part([1])}.c2ln`, ''])
      expect(readClaims(bad), bad).toBe(null)
  })
})

describe('the claims', () => {
  const base = { exp: SECONDS + 60, iss: 'https://team.test', aud: ['app'], sub: 'owner' }
  const holds = async (claims: Record<string, unknown>, rules: object = {}) =>
    (await verifyHs256(await signed(claims), secret, { now: NOW, ...rules })) !== null

  it('require exp in the future, and nbf (when present) not in the future', async () => {
    expect(await holds(base)).toBe(true)
    expect(await holds({ ...base, exp: SECONDS })).toBe(false)
    expect(await holds({ ...base, exp: undefined })).toBe(false)
    expect(await holds({ ...base, exp: `${SECONDS + 60}` })).toBe(false)
    expect(await holds({ ...base, nbf: SECONDS })).toBe(true)
    expect(await holds({ ...base, nbf: SECONDS + 1 })).toBe(false)
    expect(await holds({ ...base, nbf: 'now' })).toBe(false)
  })

  it('refuse an iat that is not a number (the WebCrypto code let it through)', async () => {
    expect(await holds({ ...base, iat: SECONDS })).toBe(true)
    for (const iat of [`${SECONDS}`, 'now', null, [SECONDS], { at: SECONDS }])
      expect(await holds({ ...base, iat }), JSON.stringify(iat)).toBe(false)
  })

  it('match iss, aud (a string or in an array) and sub when asked', async () => {
    const rules = { issuer: 'https://team.test', audience: 'app', subject: 'owner' }
    expect(await holds(base, rules)).toBe(true)
    expect(await holds({ ...base, aud: 'app' }, rules)).toBe(true)
    expect(await holds({ ...base, aud: ['other'] }, rules)).toBe(false)
    expect(await holds({ ...base, aud: undefined }, rules)).toBe(false)
    expect(await holds({ ...base, iss: 'https://team.test/' }, rules)).toBe(false)
    expect(await holds({ ...base, sub: 'someone' }, rules)).toBe(false)
  })
})

describe('HS256', () => {
  it('verifies its own tokens and jose’s, and jose verifies its tokens', async () => {
    const claims = { sub: 'owner', jti: 'session-1', iat: SECONDS, exp: SECONDS + 60 }
    const ours = await signHs256(claims, secret)
    expect(await verifyHs256(ours, secret, { now: NOW, subject: 'owner' })).toEqual(claims)
    const { payload } = await jwtVerify(ours, secret, { currentDate: new Date(NOW) })
    expect(payload).toEqual(claims)
    const theirs = await new SignJWT({ jti: 'session-2' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('owner')
      .setExpirationTime(SECONDS + 60)
      .sign(secret)
    expect((await verifyHs256(theirs, secret, { now: NOW, subject: 'owner' }))?.jti).toBe(
      'session-2'
    )
  })

  it('refuses another key, a changed payload, another alg, crit, and expiry', async () => {
    const claims = { sub: 'owner', exp: SECONDS + 60 }
    const token = await signHs256(claims, secret)
    const [head, , mac] = token.split('.')
    const rules = { now: NOW }
    expect(await verifyHs256(token, new Uint8Array(32), rules)).toBe(null)
    expect(
      await verifyHs256(`${head}.${part({ ...claims, sub: 'x' })}.${mac}`, secret, rules)
    ).toBe(null)
    for (const header of [{ alg: 'none' }, { alg: 'HS512' }, { alg: 'HS256', crit: ['b64'] }]) {
      const forged = await signed(claims, header)
      expect(await verifyHs256(forged, secret, rules), JSON.stringify(header)).toBe(null)
    }
    expect(await verifyHs256(`${part({ alg: 'none' })}.${part(claims)}.`, secret, rules)).toBe(null)
    expect(await verifyHs256(token, secret, { now: NOW + 60_000 })).toBe(null)
  })
})

describe('the session cookie across the move to jose', () => {
  const { ADMIN_TOKEN, MINTED_AT, ID, COOKIE } = OLD_SESSION

  it('an old cookie still verifies, until its own expiry', async () => {
    expect(await verifySession(COOKIE, ADMIN_TOKEN, MINTED_AT + 60_000)).toBe(ID)
    expect(await verifySession(COOKIE, ADMIN_TOKEN, MINTED_AT + 8 * 3600_000)).toBe(null)
    expect(await verifySession(COOKIE, `${ADMIN_TOKEN}x`, MINTED_AT + 60_000)).toBe(null)
  })

  it('a new cookie is byte for byte the one the old code made', async () => {
    expect(await issueSession(ADMIN_TOKEN, MINTED_AT, ID)).toBe(COOKIE)
  })
})
