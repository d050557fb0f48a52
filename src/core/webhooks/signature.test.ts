import { createHmac } from 'node:crypto'
import { describe, expect, it } from 'vitest'
import { newSecret, SECRET_PREFIX, sign, signingInput } from './signature.ts'

/** node:crypto, a different implementation from the WebCrypto signer under test. */
function nodeSignature(secret: string, id: string, timestamp: number, body: string) {
  const key = Buffer.from(secret.slice(SECRET_PREFIX.length), 'base64')
  const mac = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64')
  return `v1,${mac}`
}

describe('webhook signatures', () => {
  it('match the published Standard Webhooks vector', async () => {
    // The example of the Standard Webhooks specification and its reference libraries.
    const signature = await sign(
      'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      'msg_p5jXN8AQM9LWM0D4loKWxJek',
      1614265330,
      '{"test": 2432232314}'
    )
    expect(signature).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=')
  })

  it('match node:crypto for random secrets, ids and bodies (non-ASCII included)', async () => {
    for (let i = 0; i < 50; i++) {
      const secret = newSecret()
      const id = `msg_${crypto.randomUUID()}`
      const body = JSON.stringify({ type: 'signup.delivered', data: { email: `é${i}@ex.com` } })
      const ts = 1_900_000_000 + i
      expect(await sign(secret, id, ts, body)).toBe(nodeSignature(secret, id, ts, body))
    }
  })

  it('a secret is whsec_ and the base64 of 32 random bytes', () => {
    const secret = newSecret()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(Buffer.from(secret.slice(6), 'base64')).toHaveLength(32)
    expect(newSecret()).not.toBe(secret)
  })

  it('signs id, timestamp and body joined by dots', () => {
    expect(signingInput('msg_1', 17, '{}')).toBe('msg_1.17.{}')
  })
})
