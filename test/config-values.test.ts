/**
 * Every configuration value the schema accepts works on Workers (issue #18 item 7): sign-ups
 * through deployments built with them (test/support/config-values.ts, the same cases as
 * test-deno/config-values.test.ts).
 */
import { describe, it } from 'vitest'
import { withConfiguredRelay } from './helpers.ts'
import { RATE_LIMITS, rateLimitHolds } from './support/config-values.ts'

describe('SUBMIT_RATE_LIMIT_PER_MINUTE', () => {
  it.each(RATE_LIMITS)('%i a minute: sign-ups are taken, then limited, none lost', (perMinute) =>
    withConfiguredRelay({ SUBMIT_RATE_LIMIT_PER_MINUTE: String(perMinute) }, (relay) =>
      rateLimitHolds(relay, perMinute)
    )
  )
})
