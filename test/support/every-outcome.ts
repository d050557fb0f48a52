/**
 * Issue #15's acceptance scenario, for the workerd and Deno suites alike (runtime-neutral): one
 * sign-up of each outcome through the public route, against forms `newsletter`, `protected`
 * (Turnstile) and `events`, and the deltas GET /admin/api/metrics must then show, exactly.
 */
import assert from 'node:assert/strict'
import type { CcModel } from '../../src/sandbox/model.ts'
import { ZERO_DELIVERY, ZERO_INTAKE } from './outcome-keys.ts'

export { ZERO_DELIVERY, ZERO_INTAKE }

/** Each form's own origin (the test configs' FORMS), where a `Post` comes from unless told. */
export const ORIGINS: Record<string, string> = {
  newsletter: 'https://site.test',
  protected: 'https://site.test',
  events: 'https://events.test',
}

/** POST /subscribe/:form as JSON, from the form's own origin unless told, from a fresh IP. */
export type Post = (
  form: string,
  body: Record<string, unknown>,
  options?: { origin?: string; ip?: string }
) => Promise<Response>

/**
 * Sends them; the caller then drains the outbox (its runtime's way). What reached CC: 14
 * sign_up_form calls (first, refused, later twice, ten events), nothing of what was refused.
 */
export async function signupsOfEveryOutcome(post: Post, cc: CcModel): Promise<void> {
  const status = async (expected: number | number[], ...args: Parameters<Post>) => {
    const res = await post(...args)
    assert.ok([expected].flat().includes(res.status), `${JSON.stringify(args)}: ${res.status}`)
  }
  await status(200, 'newsletter', { email: 'first@example.com' })
  await status(200, 'newsletter', { email: 'first@example.com' }) // duplicate
  await status(400, 'newsletter', { email: 'not-an-email' })
  await status(200, 'newsletter', { email: 'bot@example.com', _gotcha: 'x' })
  await status(403, 'newsletter', { email: 'x@example.com' }, { origin: 'https://evil.test' })
  await status(403, 'protected', { email: 'r@example.com', 'cf-turnstile-response': 'no' })
  cc.signupFaults = ['400']
  await status(502, 'newsletter', { email: 'refused@example.com' })
  cc.signupFaults = ['503']
  await status(202, 'newsletter', { email: 'later@example.com' })
  // Ten sign-ups from one network, then the eleventh in the same minute.
  for (let i = 0; i < 10; i++) {
    await status([200, 202], 'events', { email: `e${i}@example.com` }, { ip: '198.51.100.7' })
  }
  await status(429, 'events', { email: 'e10@example.com' }, { ip: '198.51.100.7' })
}

export const EXPECTED_DELTAS = {
  newsletter: {
    intake: {
      ...ZERO_INTAKE,
      accepted: 3,
      duplicate: 1,
      invalid_input: 1,
      honeypot: 1,
      origin_not_allowed: 1,
    },
    delivery: { delivered: 2, dead_lettered: 1, retried: 1 },
  },
  protected: { intake: { ...ZERO_INTAKE, challenge_failed: 1 }, delivery: ZERO_DELIVERY },
  events: {
    intake: { ...ZERO_INTAKE, accepted: 10, rate_limited: 1 },
    delivery: { ...ZERO_DELIVERY, delivered: 10 },
  },
  all: {
    intake: {
      ...ZERO_INTAKE,
      accepted: 13,
      duplicate: 1,
      invalid_input: 1,
      honeypot: 1,
      rate_limited: 1,
      challenge_failed: 1,
      origin_not_allowed: 1,
    },
    delivery: { delivered: 12, dead_lettered: 1, retried: 1 },
  },
}
