/**
 * Every outcome key of GET /admin/api/metrics, in the contract's order, at zero: spelled out here
 * rather than derived from src/core/metrics/metrics.ts, so a key the code drops fails the tests.
 * No imports: src/core unit tests use it too (test/deno/runtime-agnostic.test.ts).
 */
export const ZERO_INTAKE = {
  accepted: 0,
  duplicate: 0,
  invalid_input: 0,
  honeypot: 0,
  rate_limited: 0,
  challenge_failed: 0,
  origin_not_allowed: 0,
  outbox_full: 0,
}
export const ZERO_DELIVERY = { delivered: 0, dead_lettered: 0, retried: 0 }
