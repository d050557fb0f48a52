/**
 * The signer against the published vector. (src/core may not import node:; the check against
 * node:crypto's createHmac, an independent implementation, is in test/workers/webhooks.test.ts.)
 */
import { describe, expect, it } from 'vitest'
import { newSecret, sign, signingInput } from './signature.ts'

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

  it('a secret is whsec_ and the base64 of 32 random bytes', () => {
    const secret = newSecret()
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(atob(secret.slice(6))).toHaveLength(32)
    expect(newSecret()).not.toBe(secret)
  })

  it('signs id, timestamp and body joined by dots', () => {
    expect(signingInput('msg_1', 17, '{}')).toBe('msg_1.17.{}')
  })
})
