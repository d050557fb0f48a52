/**
 * Every configuration value the schema accepts works on Deno (issue #18 item 7): sign-ups through
 * instances built with them (test/support/config-values.ts, the same cases as
 * test/workers/config-values.test.ts). A limit that does not divide 60,000 ms once made Deno KV
 * throw on a fractional `expireIn`, and every sign-up was answered 503.
 */
import fc from 'fast-check'
import {
  acceptedSettings,
  acceptedValuesWork,
  failedDeliverySaysWhoKnows,
  PROPERTY_RUNS,
  profiles,
  RATE_LIMITS,
  rateLimitHolds,
} from '../support/config-values.ts'
import { withConfiguredRelay } from '../support/deno-relay.ts'

for (const perMinute of RATE_LIMITS) {
  Deno.test(`config values: SUBMIT_RATE_LIMIT_PER_MINUTE=${perMinute}, sign-ups taken, then limited`, () =>
    withConfiguredRelay({ SUBMIT_RATE_LIMIT_PER_MINUTE: String(perMinute) }, (relay) =>
      rateLimitHolds(relay, perMinute)
    ))
}

for (const set of [true, false]) {
  Deno.test(`config values: ALERT_WEBHOOK_URL set: ${set}; a refused sign-up says the owner knows only when set`, () =>
    withConfiguredRelay(set ? {} : { ALERT_WEBHOOK_URL: '' }, (relay) =>
      failedDeliverySaysWhoKnows(relay, set)
    ))
}

Deno.test('config values: any settings and form profile the schema accepts take sign-ups, none 5xx, none lost', () =>
  fc.assert(
    fc.asyncProperty(acceptedSettings, profiles, (settings, profile) =>
      acceptedValuesWork(withConfiguredRelay, settings, profile)
    ),
    PROPERTY_RUNS
  ))
