/**
 * Every owner POST reads at most 16 KiB of body, counted on the bytes before any parsing:
 * 413 `payload_too_large` past it, whether or not Content-Length says so, and the rest of the
 * upload is never read. Nothing else happens: no session, no sign-up at CC, no disconnect.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { MAX_BODY_BYTES } from '../../src/core/signup/read-fields.ts'
import { cc } from '../support/edge.ts'
import { ADMIN_TOKEN, call, connect, ORIGIN, OWNER, status } from '../support/helpers.ts'
// The local entry (npm start's): its sandbox pages are owner pages too, checked here with the rest.
import '../../src/worker-sandbox.ts'

/** Every owner POST: the admin actions, sign-in and sign-out, and the sandbox's (404 here). */
const OWNER_POSTS = [
  '/admin/login',
  '/admin/logout',
  '/admin/forms/newsletter/test',
  '/admin/dead-letters/all/retry',
  '/admin/dead-letters/1/retry',
  '/admin/dead-letters/1/delete',
  '/admin/disconnect',
  '/__sandbox/authorize',
  '/__sandbox/lists/9e2f7d10-1111-4c3b-8e42-000000000001/delete',
]

const headers = {
  ...OWNER,
  origin: ORIGIN,
  accept: 'application/json',
  'content-type': 'application/x-www-form-urlencoded',
}
const oversized = `token=${ADMIN_TOKEN}&email=big@example.com&pad=${'x'.repeat(MAX_BODY_BYTES)}`

/** A body of `total` bytes made on demand, without Content-Length; counts what was read. */
function endless(total: number): { body: ReadableStream<Uint8Array>; pulled: () => number } {
  const chunk = new TextEncoder().encode(`email=big@example.com&pad=${'x'.repeat(65_510)}`)
  let pulled = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (pulled >= total) return controller.close()
      pulled += chunk.byteLength
      controller.enqueue(chunk)
    },
  })
  return { body, pulled: () => pulled }
}

beforeAll(async () => {
  expect((await connect()).status).toBe(303)
})

describe.each(OWNER_POSTS)('POST %s', (path) => {
  it('413 payload_too_large past 16 KiB, from Content-Length', async () => {
    const res = await call(path, { method: 'POST', headers, body: oversized })
    expect(res.status).toBe(413)
    expect(await res.json()).toMatchObject({ ok: false, error: 'payload_too_large' })
    expect(res.headers.get('set-cookie')).toBeNull()
  })

  it('413 payload_too_large past 16 KiB without Content-Length, reading no further', async () => {
    const upload = endless(50 * 1024 * 1024)
    const res = await call(path, {
      method: 'POST',
      headers,
      body: upload.body,
      duplex: 'half',
    } as RequestInit)
    expect(res.status).toBe(413)
    expect(upload.pulled()).toBeLessThan(1024 * 1024) // of 50 MB offered
  })
})

describe('what a refused body leaves', () => {
  it('nothing: no sign-up reaches CC, the connection stays, no session is opened', async () => {
    for (const path of ['/admin/forms/newsletter/test', '/admin/disconnect', '/admin/login']) {
      expect((await call(path, { method: 'POST', headers, body: oversized })).status).toBe(413)
    }
    expect(cc.signupCalls).toHaveLength(0)
    expect((await status()).state).toBe('connected')
  })

  it('a body of exactly 16 KiB is read as usual', async () => {
    const body = `token=wrong&pad=${'x'.repeat(MAX_BODY_BYTES - 16)}`
    expect(new TextEncoder().encode(body).byteLength).toBe(MAX_BODY_BYTES)
    const res = await call('/admin/login', { method: 'POST', headers, body })
    expect(res.status).toBe(401)
  })

  it('a script may POST with no body at all', async () => {
    // No Content-Type either (the Origin is what the CSRF check asks of a POST).
    const res = await call('/admin/disconnect', {
      method: 'POST',
      headers: { ...OWNER, origin: ORIGIN },
    })
    expect(res.status).toBe(303)
    expect((await status()).state).toBe('not_connected')
  })
})
