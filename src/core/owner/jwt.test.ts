import { jwtVerify, SignJWT } from 'jose'
import { describe, expect, it } from 'vitest'
import {
  base64urlDecode,
  base64urlEncode,
  claimsHold,
  hs256Key,
  parseJws,
  readClaims,
  signHs256,
  verifyHs256,
} from './jwt.ts'

const NOW = Date.UTC(2031, 0, 1)
const SECONDS = NOW / 1000
const secret = new Uint8Array(new TextEncoder().encode('a session key of thirty-two bytes'))
const part = (value: unknown) => base64urlEncode(new TextEncoder().encode(JSON.stringify(value)))

describe('base64url', () => {
  it('round-trips every byte value', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i)
    const text = base64urlEncode(bytes)
    expect(text).toMatch(/^[A-Za-z0-9_-]+$/)
    expect(base64urlDecode(text)).toEqual(bytes)
  })

  it('refuses padding, the base64 alphabet and impossible lengths', () => {
    for (const bad of ['YQ==', 'a+b/', 'abcde', 'ab cd'])
      expect(base64urlDecode(bad), bad).toBe(null)
  })
})

describe('parseJws', () => {
  it('refuses what is not three base64url parts of JSON objects', () => {
    const ok = `${part({ alg: 'HS256' })}.${part({ sub: 'x' })}.c2ln`
    expect(parseJws(ok)?.claims).toEqual({ sub: 'x' })
    for (const bad of [
      '',
      'a.b',
      `${ok}.d`,
      `${part({ alg: 'HS256' })}.${part([1, 2])}.c2ln`,
      `${part({ alg: 'HS256' })}.${part('text')}.c2ln`,
      `${part({ alg: 'HS256' })}.bm90IGpzb24.c2ln`,
      `${part({ alg: 'HS256' })}.${part({})}.c2l=`,
    ]) {
      expect(parseJws(bad), bad).toBe(null)
    }
    expect(parseJws(undefined as unknown as string)).toBe(null)
  })

  it('reads the claims of a token it does not verify (CC’s access token)', () => {
    expect(readClaims(`${part({ alg: 'RS256' })}.${part({ exp: 5, sub: 'acct' })}.c2ln`)).toEqual({
      exp: 5,
      sub: 'acct',
    })
    expect(readClaims('opaque-token')).toBe(null)
  })
})

describe('claimsHold', () => {
  const base = { exp: SECONDS + 60, iss: 'https://team.test', aud: ['app'], sub: 'owner' }

  it('requires exp in the future, and nbf (when present) not in the future', () => {
    expect(claimsHold(base, { now: NOW })).toBe(true)
    expect(claimsHold({ ...base, exp: SECONDS }, { now: NOW })).toBe(false)
    expect(claimsHold({ ...base, exp: undefined }, { now: NOW })).toBe(false)
    expect(claimsHold({ ...base, exp: `${SECONDS + 60}` }, { now: NOW })).toBe(false)
    expect(claimsHold({ ...base, nbf: SECONDS }, { now: NOW })).toBe(true)
    expect(claimsHold({ ...base, nbf: SECONDS + 1 }, { now: NOW })).toBe(false)
    expect(claimsHold({ ...base, nbf: 'now' }, { now: NOW })).toBe(false)
  })

  it('checks iss, aud (a string or in an array) and sub when asked', () => {
    const rules = { now: NOW, issuer: 'https://team.test', audience: 'app', subject: 'owner' }
    expect(claimsHold(base, rules)).toBe(true)
    expect(claimsHold({ ...base, aud: 'app' }, rules)).toBe(true)
    expect(claimsHold({ ...base, aud: ['other'] }, rules)).toBe(false)
    expect(claimsHold({ ...base, aud: undefined }, rules)).toBe(false)
    expect(claimsHold({ ...base, iss: 'https://team.test/' }, rules)).toBe(false)
    expect(claimsHold({ ...base, sub: 'someone' }, rules)).toBe(false)
  })
})

describe('HS256', () => {
  it('verifies its own tokens and jose’s, and jose verifies its tokens', async () => {
    const key = await hs256Key(secret)
    const claims = { sub: 'owner', jti: 'session-1', iat: SECONDS, exp: SECONDS + 60 }
    const ours = await signHs256(claims, key)
    expect(await verifyHs256(ours, key, { now: NOW, subject: 'owner' })).toEqual(claims)
    const { payload } = await jwtVerify(ours, secret, { currentDate: new Date(NOW) })
    expect(payload).toEqual(claims)
    const theirs = await new SignJWT({ jti: 'session-2' })
      .setProtectedHeader({ alg: 'HS256' })
      .setSubject('owner')
      .setExpirationTime(SECONDS + 60)
      .sign(secret)
    expect((await verifyHs256(theirs, key, { now: NOW, subject: 'owner' }))?.jti).toBe('session-2')
  })

  it('refuses another key, a changed payload, another alg, crit, and expiry', async () => {
    const key = await hs256Key(secret)
    const claims = { sub: 'owner', exp: SECONDS + 60 }
    const token = await signHs256(claims, key)
    const [head, , mac] = token.split('.')
    const rules = { now: NOW }
    expect(await verifyHs256(token, await hs256Key(new Uint8Array(32)), rules)).toBe(null)
    expect(await verifyHs256(`${head}.${part({ ...claims, sub: 'x' })}.${mac}`, key, rules)).toBe(
      null
    )
    for (const header of [{ alg: 'none' }, { alg: 'HS512' }, { alg: 'HS256', crit: ['b64'] }]) {
      const body = `${part(header)}.${part(claims)}`
      const sig = await crypto.subtle.sign('HMAC', key, new TextEncoder().encode(body))
      const forged = `${body}.${base64urlEncode(new Uint8Array(sig))}`
      expect(await verifyHs256(forged, key, rules), JSON.stringify(header)).toBe(null)
    }
    expect(await verifyHs256(`${part({ alg: 'none' })}.${part(claims)}.`, key, rules)).toBe(null)
    expect(await verifyHs256(token, key, { now: NOW + 60_000 })).toBe(null)
  })
})
