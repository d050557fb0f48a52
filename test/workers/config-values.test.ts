/**
 * Every configuration value the schema accepts works on Workers (issue #18 item 7): sign-ups
 * through deployments built with them (test/support/config-values.ts, the same cases as
 * test/deno/config-values.test.ts).
 */

import fc from 'fast-check'
import { describe, it } from 'vitest'
import {
  acceptedSettings,
  acceptedValuesWork,
  failedDeliverySaysWhoKnows,
  PROPERTY_RUNS,
  profiles,
  RATE_LIMITS,
  rateLimitHolds,
} from '../support/config-values.ts'
import { withConfiguredRelay } from '../support/helpers.ts'

describe('SUBMIT_RATE_LIMIT_PER_MINUTE', () => {
  it.each(RATE_LIMITS)('%i a minute: sign-ups are taken, then limited, none lost', (perMinute) =>
    withConfiguredRelay({ SUBMIT_RATE_LIMIT_PER_MINUTE: String(perMinute) }, (relay) =>
      rateLimitHolds(relay, perMinute)
    )
  )
})

describe('ALERT_WEBHOOK_URL', () => {
  it.each([true, false])('set: %s; a refused sign-up says the owner knows only when set', (set) =>
    withConfiguredRelay(set ? {} : { ALERT_WEBHOOK_URL: '' }, (relay) =>
      failedDeliverySaysWhoKnows(relay, set)
    )
  )
})

describe('any settings and form profile the schema accepts', () => {
  it(
    'takes sign-ups in both modes, none answered 5xx, none lost; refusals name the field',
    () =>
      fc.assert(
        fc.asyncProperty(acceptedSettings, profiles, (settings, profile) =>
          acceptedValuesWork(withConfiguredRelay, settings, profile)
        ),
        PROPERTY_RUNS
      ),
    120_000
  )
})
